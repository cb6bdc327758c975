"""Post-loan rows as tab-separated text for MariaDB's ``LOAD DATA LOCAL INFILE`` (pure pandas, no frappe).

The benchmark's ten-times book (35.8 M rows) would take well over an hour through the importer's multi-row
``INSERT IGNORE`` (every value escaped by the pure-Python driver). ``generate.py --loader load-data`` writes each
chunk as a file instead and lets the server parse it. The text holds exactly the values
``services.post_loan_data._insert`` sends for the same chunk:

* the standard fields (``name, creation, modified, modified_by, owner, docstatus, idx``) first;
* dates as ``YYYY-MM-DD``, datetimes as ``YYYY-MM-DD HH:MM:SS.ffffff``, a missing one as NULL;
* numbers: blank is 0 (Frappe's numeric columns are NOT NULL), integers rounded, others to 9 places;
* text: blank or empty is NULL; backslash, tab, newline and carriage return escaped for ``LOAD DATA``'s
  default ``ESCAPED BY '\\\\'``.

Text with ``<`` or ``>`` would be sanitised by the importer (``services.sanitize``); :func:`has_markup`
finds such chunks so that the caller sends them through the importer's own path instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NULL = "\\N"
STANDARD_FIELDS = ("name", "creation", "modified", "modified_by", "owner", "docstatus", "idx")
_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def fields(spec) -> list[str]:
	"""The column list of the ``LOAD DATA`` statement, in the order :func:`render` writes them."""
	return [*STANDARD_FIELDS, *spec.columns]


def has_markup(spec, chunk: pd.DataFrame) -> bool:
	"""Whether any text value (or name) holds ``<`` or ``>``."""
	for column in ("name", *spec.text_columns):
		values = chunk[column]
		if values.dtype == object or pd.api.types.is_string_dtype(values):
			if values.astype("string").str.contains("[<>]", regex=True, na=False).any():
				return True
	return False


def _text(values: pd.Series) -> np.ndarray:
	text = values.astype("string")
	for old, new in _ESCAPES:
		if text.str.contains(old, regex=False, na=False).any():
			text = text.str.replace(old, new, regex=False)
	return text.where(text.notna() & (text != ""), NULL).to_numpy(dtype=object)


def _dates(values: pd.Series, with_time: bool) -> np.ndarray:
	if not pd.api.types.is_datetime64_any_dtype(values):  # e.g. a column left blank throughout
		values = pd.to_datetime(values)
	raw = values.to_numpy(dtype="datetime64[us]")
	if with_time:
		text = np.char.replace(np.datetime_as_string(raw, unit="us"), "T", " ")
	else:
		text = np.datetime_as_string(raw.astype("datetime64[D]"), unit="D")
	return np.where(values.isna().to_numpy(), NULL, text).astype(object)


def _numbers(values: pd.Series, integer: bool) -> np.ndarray:
	values = pd.to_numeric(values).fillna(0)  # object columns (blank throughout) become float NaN
	if integer:
		return values.round().astype("int64").astype(str).to_numpy(dtype=object)
	return values.round(9).to_numpy(dtype=float).astype(str).astype(object)  # shortest round-trip text


def render(spec, chunk: pd.DataFrame, timestamp: str, user: str) -> str:
	"""The chunk as ``LOAD DATA`` text (one line per row, columns in :func:`fields` order)."""
	n = len(chunk)
	columns = [
		_text(chunk["name"]),
		np.full(n, timestamp, dtype=object),
		np.full(n, timestamp, dtype=object),
		np.full(n, user, dtype=object),
		np.full(n, user, dtype=object),
		np.full(n, "0", dtype=object),
		np.full(n, "0", dtype=object),
	]
	for column in spec.columns:
		values = chunk[column]
		if column in spec.dates or column in spec.datetimes:
			columns.append(_dates(values, with_time=column in spec.datetimes))
		elif column in spec.numbers:
			columns.append(_numbers(values, spec.numbers[column].integer))
		else:
			columns.append(_text(values))
	if not n:
		return ""
	frame = pd.DataFrame(dict(enumerate(columns)))
	lines = frame[0].str.cat([frame[i] for i in range(1, len(columns))], sep="\t")
	return "\n".join(lines.tolist()) + "\n"
