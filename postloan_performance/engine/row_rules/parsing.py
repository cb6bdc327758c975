"""Whole-column parsing of dates, numbers and headers, and the deterministic document names."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from postloan_performance.engine.row_rules.specs import _KEY_SEPARATOR, NAME_HASH_LENGTH, SPECS, Spec

# --- parsing helpers (whole columns) -----------------------------------------------------------------

_DATE_PREFIX = r"^(\d{4})[/.年](\d{1,2})[/.月](\d{1,2})日?"
_TZ_SUFFIX = r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|[+-]\d{2}:?\d{2})$"


def _text(series: pd.Series) -> pd.Series:
	"""Stripped strings with "" for blanks, whatever the input dtype."""
	s = series.astype("string").str.strip()
	return s.fillna("").astype(object)


def _parse_datetimes(text: pd.Series, date_order: str = "ymd") -> pd.Series:
	"""ISO dates/datetimes (also 2026/1/5, 2026.1.5, 2026年1月5日; a timezone suffix keeps the wall time).

	``date_order`` "dmy" also reads 31-03-2026 (31/3/2026, 31.03.2026), "mdy" 03-31-2026; year-first
	values are read in every order. The fast ISO parse covers normal files; only the values it refuses
	go through the slower fallbacks.
	"""
	blank = text == ""
	with warnings.catch_warnings():
		warnings.simplefilter("ignore", FutureWarning)  # pandas 2 on mixed offsets
		try:
			parsed = pd.to_datetime(text.where(~blank), format="ISO8601", errors="coerce")
		except ValueError:  # pandas 3 on mixed offsets
			parsed = None
	if parsed is None or not pd.api.types.is_datetime64_any_dtype(parsed):
		# mixed timezone offsets: drop them all, keeping the wall time
		text = text.str.replace(_TZ_SUFFIX, r"\1", regex=True)
		parsed = pd.to_datetime(text.where(~blank), format="ISO8601", errors="coerce")
	if isinstance(parsed.dtype, pd.DatetimeTZDtype):
		parsed = parsed.dt.tz_localize(None)
	missed = parsed.isna() & ~blank
	if missed.any():
		normalized = text[missed]
		if date_order in _YEAR_LAST:
			normalized = normalized.str.replace(_YEAR_LAST_PREFIX, _YEAR_LAST[date_order], regex=True)
		normalized = normalized.str.replace(_DATE_PREFIX, r"\1-\2-\3", regex=True).str.replace(
			_TZ_SUFFIX, r"\1", regex=True
		)
		for fmt in ("ISO8601", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
			again = pd.to_datetime(normalized, format=fmt, errors="coerce")
			found = again.notna()
			if found.any():
				parsed.loc[again.index[found]] = again[found].to_numpy()
				normalized = normalized[~found]
			if normalized.empty:
				break
	return parsed


# a day or month first, the year last: 31-03-2026, 3/31/2026, 31.3.2026 (then an optional time)
_YEAR_LAST_PREFIX = r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?=$|[ T])"
_YEAR_LAST = {"dmy": r"\3-\2-\1", "mdy": r"\3-\1-\2"}
# 1,234,567.89 / 1 234 567.89: separators between groups of three digits only ("1,5" is not a number)
_GROUPED_NUMBER = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:\.\d+)?"
_CURRENCY = r"^[¥￥$]\s*|\s*元$"


def _parse_numbers(text: pd.Series) -> pd.Series:
	"""Numbers; thousands separators ("1,234.50", "1 234.50") and a leading ¥ are accepted, infinities
	are not numbers."""
	filled = text != ""
	values = pd.to_numeric(text.where(filled), errors="coerce").astype(float)
	missed = values.isna() & filled
	if missed.any():
		candidates = text[missed].str.replace(_CURRENCY, "", regex=True)
		grouped = candidates.str.fullmatch(_GROUPED_NUMBER).fillna(False).astype(bool)
		cleaned = candidates[grouped].str.replace(r"[,\s\u00a0\u202f]", "", regex=True)
		ungrouped = candidates[~grouped & ~candidates.str.contains(r"[,\s]", regex=True)]
		for part in (cleaned, ungrouped):
			if len(part):
				values[part.index] = pd.to_numeric(part, errors="coerce").astype(float)
	return values.where(np.isfinite(values.to_numpy(float)))


def _canonical(text: pd.Series, names: Iterable[str]) -> pd.Series:
	"""Map values case-insensitively onto ``names``; NaN where there is no match."""
	names = list(names)
	lookup = pd.Series(names, index=[n.lower() for n in names], dtype=object)
	lookup = lookup[~lookup.index.duplicated()]
	return text.str.lower().map(lookup)


def _normalize_header(name: Any) -> str:
	"""A header as compared: Unicode-normalised (full-width letters), case-folded, without spaces,
	underscores, hyphens or a required-column mark (``As Of Date`` = ``as_of_date`` = ``AS-OF-DATE*``)."""
	text = unicodedata.normalize("NFKC", str(name)).casefold()
	return re.sub(r"[\s_\-*]+", "", text)


def _date_text(values: pd.Series, with_time: bool) -> pd.Series:
	fmt = "%Y-%m-%d %H:%M:%S.%f" if with_time else "%Y-%m-%d"
	return values.dt.strftime(fmt).where(values.notna(), "")


def hash_name(doctype: str, key_text: pd.Series) -> pd.Series:
	"""16-hex-digit SHA-1 of the DocType and each row's joined natural key."""
	prefix = f"{doctype}{_KEY_SEPARATOR}"
	digests = [
		hashlib.sha1(f"{prefix}{k}".encode()).hexdigest()[:NAME_HASH_LENGTH] for k in key_text.tolist()
	]
	return pd.Series(digests, index=key_text.index, dtype=object)


def _key_text(spec: Spec, frame: pd.DataFrame) -> pd.Series:
	"""The natural key of each row as one canonical string (typed values, so 100 == 100.00)."""
	parts = []
	for column in spec.key:
		values = frame[column]
		if column in spec.dates or column in spec.datetimes:
			parts.append(_date_text(values, column in spec.datetimes))
		elif column in spec.numbers:
			parts.append(values.astype(str).where(values.notna(), "").astype(object))
		else:
			parts.append(values.fillna("").astype(object).str.lower())
	key = parts[0].astype(str)
	for part in parts[1:]:
		key = key.str.cat(part.astype(str), sep=_KEY_SEPARATOR)
	return key


def document_names(doctype: str, frame: pd.DataFrame) -> pd.Series:
	"""Deterministic document names of typed rows (the clean frame of :func:`validate_frame`).

	NaN where a part of the name is missing or invalid.
	"""
	spec = SPECS[doctype]
	if spec.naming in ("loan_no", "case_no"):
		return frame[spec.naming].where(frame[spec.naming].notna() & (frame[spec.naming] != ""))
	if spec.naming == "snapshot":
		ok = frame["loan"].notna() & frame["as_of_date"].notna()
		names = frame["loan"].fillna("").astype(str) + "-" + _date_text(frame["as_of_date"], False)
		return names.where(ok)
	reference = frame["reference"].fillna("").astype(object)
	has_reference = reference != ""
	names = pd.Series(np.nan, index=frame.index, dtype=object)
	names[has_reference] = reference[has_reference]
	without = ~has_reference
	if without.any():
		names[without] = hash_name(doctype, _key_text(spec, frame[without]))
	return names
