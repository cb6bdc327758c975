"""Validation of a whole frame (vectorised) and of a single record, with machine-readable problems."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from postloan_performance.engine import frames
from postloan_performance.engine.row_rules.keys import (
	DATE_ORDERS,
	NAME_HEADERS,
	LinkIndex,
	link_header_keys,
	natural_key_column,
)
from postloan_performance.engine.row_rules.parsing import (
	_canonical,
	_normalize_header,
	_parse_datetimes,
	_parse_numbers,
	_text,
	document_names,
)
from postloan_performance.engine.row_rules.specs import (
	MAX_TEXT_LENGTH,
	SPECS,
	Spec,
	bucket_for_dpd,
	classification_for_dpd,
)

# --- validation --------------------------------------------------------------------------------------


class _Errors:
	def __init__(self, rows: np.ndarray, raw: pd.DataFrame, order: Mapping[str, int]):
		self.rows = rows
		self.raw = raw
		self.order = order
		self.parts: list[pd.DataFrame] = []
		self.flagged: dict[str, np.ndarray] = {}

	def add(
		self, mask, column: str, code: str, detail: Mapping[str, Any] | None = None, details=None, values=None
	):
		mask = np.asarray(mask, dtype=bool)
		if not mask.any():
			return
		source = self.raw[column] if values is None else values
		values = np.asarray(source, dtype=object)[mask]
		self.flagged[column] = self.flagged.get(column, np.zeros(len(mask), dtype=bool)) | mask
		part = pd.DataFrame({"row": self.rows[mask], "column": column, "value": values, "code": code})
		if details is not None:
			part["detail"] = list(details)
		else:
			part["detail"] = [dict(detail or {})] * int(mask.sum())
		self.parts.append(part)

	def ok(self, *columns: str) -> np.ndarray:
		"""Rows where none of the columns has an error yet (cross-field rules skip the others)."""
		result = np.ones(len(self.rows), dtype=bool)
		for column in columns:
			if column in self.flagged:
				result &= ~self.flagged[column]
		return result

	def header(self, column: str, code: str, value: str):
		self.parts.append(
			pd.DataFrame({"row": [1], "column": [column], "value": [value], "code": [code], "detail": [{}]})
		)

	def records(self) -> list[dict]:
		if not self.parts:
			return []
		frame = pd.concat(self.parts, ignore_index=True)
		frame["_order"] = frame["column"].map(self.order).fillna(len(self.order))
		frame = frame.sort_values(["row", "_order"], kind="stable").drop(columns="_order")
		frame["row"] = frame["row"].astype(int)
		return frames.records(frame)


def link_values(
	doctype: str, df: pd.DataFrame, aliases: Mapping[str, str] | None = None
) -> dict[str, set[str]]:
	"""The distinct non-blank values of each link target in a raw frame: what to look up in the database."""
	spec = SPECS[doctype]
	mapping, _problems = _map_headers(spec, df.columns, aliases)
	found: dict[str, set[str]] = {}
	for position, column in mapping.items():
		target = spec.links.get(column)
		if target:
			values = set(_text(df.iloc[:, position]).unique()) - {""}
			found.setdefault(target, set()).update(values)
	return found


def _header_lookup(spec: Spec, aliases: Mapping[str, str] | None) -> dict[str, str]:
	"""{normalised header: fieldname}: fieldnames first, then the aliases (labels), then the linked
	records' number fields (a snapshot file's ``loan_no`` is its ``loan``)."""
	lookup = {_normalize_header(c): c for c in spec.columns}
	for alias, fieldname in (aliases or {}).items():
		if fieldname in spec.columns:
			lookup.setdefault(_normalize_header(alias), fieldname)
	for key, column in link_header_keys(spec.doctype).items():
		lookup.setdefault(_normalize_header(key), column)
	return lookup


def _header_field(header: Any, lookup: Mapping[str, str]) -> str | None:
	"""The fieldname of a header; a bilingual header ("Loan No / 贷款编号") when all its parts agree."""
	fieldname = lookup.get(_normalize_header(header))
	if fieldname is None and re.search(r"[/|]", str(header)):
		parts = [_normalize_header(p) for p in re.split(r"[/|]", str(header))]
		found = {lookup.get(p) for p in parts if p}
		if len(found) == 1:
			fieldname = found.pop()
	return fieldname


def _is_blank_header(header: Any) -> bool:
	return str(header).strip() == "" or str(header).startswith("Unnamed:")


def _map_headers(spec: Spec, headers, aliases: Mapping[str, str] | None):
	"""({column position: fieldname}, [(code, fieldname or header, header)]) for a file's headers.

	A ``name``/``id`` header stands for the natural key column (:func:`natural_key_column`) when no other
	header does. Headers without a name (a trailing separator) are left to the row checks.
	"""
	lookup = _header_lookup(spec, aliases)
	headers = list(headers)
	fields = [_header_field(h, lookup) for h in headers]
	natural = natural_key_column(spec.doctype)
	if natural and natural not in fields:
		for position, header in enumerate(headers):
			if fields[position] is None and _normalize_header(header) in NAME_HEADERS:
				fields[position] = natural
				break
	mapping: dict[int, str] = {}
	problems: list[tuple[str, str, str]] = []
	seen: set[str] = set()
	for position, (header, fieldname) in enumerate(zip(headers, fields, strict=True)):
		if fieldname is None:
			if not _is_blank_header(header):
				problems.append(("unknown_column", str(header), str(header)))
		elif fieldname in seen:
			problems.append(("duplicate_column", fieldname, str(header)))
		else:
			seen.add(fieldname)
			mapping[position] = fieldname
	for column in spec.required:
		if column not in seen:
			problems.append(("missing_column", column, column))
	return mapping, problems


def map_headers(doctype: str, headers, aliases: Mapping[str, str] | None = None) -> dict[int, str]:
	"""{column position: fieldname} of the headers that name a column of ``doctype``."""
	return _map_headers(SPECS[doctype], headers, aliases)[0]


def validate_frame(
	doctype: str,
	df: pd.DataFrame,
	known_links: Mapping[str, Iterable[str] | LinkIndex] | None,
	today: dt.date | None = None,
	*,
	aliases: Mapping[str, str] | None = None,
	defaults: Mapping[str, str] | None = None,
	first_row: int = 2,
	date_order: str = "ymd",
) -> tuple[pd.DataFrame, list[dict]]:
	"""Check every row of a raw frame (strings, as read from a file) against ``doctype``'s rules.

	``known_links`` maps a link target DocType to a :class:`LinkIndex` of its records or to the names that
	exist (``None``: skip link checks, e.g. for a document Frappe already link-checks); link values are
	matched case-insensitively, by name or by the target's other keys, and replaced by the stored name.
	``aliases`` maps extra headers (e.g. field labels) to fieldnames; ``defaults`` fills blank cells (a
	Select field's default). ``first_row`` is the sheet row of ``df``'s first row. ``date_order`` ("ymd",
	"dmy", "mdy") says how dates whose year comes last are read.

	Headers and rows are checked in one pass: with header problems (row 1) the rows are still checked,
	except that a missing required column is reported once, not on every row, and values under an
	unknown header are not checked.

	Returns ``(clean, errors)``: ``clean`` has a ``name`` column and every spec column typed (dates and
	datetimes as ``datetime64``, numbers as float, text as object with None for blank), indexed by
	position in ``df``; wholly blank rows are dropped (``len(clean)`` is the file's row count).
	``errors`` is sorted by row and column.
	"""
	if doctype not in SPECS:
		raise KeyError(doctype)
	if date_order not in DATE_ORDERS:
		raise ValueError(f"date_order must be one of {DATE_ORDERS}, not {date_order!r}")
	spec = SPECS[doctype]
	today = today or dt.date.today()
	order = {c: i for i, c in enumerate(spec.columns)}
	df = df.reset_index(drop=True)
	rows_all = first_row + np.arange(len(df))

	mapping, problems = _map_headers(spec, df.columns, aliases)
	errors = _Errors(rows_all[:0], pd.DataFrame(), order)
	for code, column, value in problems:
		errors.header(column, code, value)
	missing = {column for code, column, _value in problems if code == "missing_column"}

	raw = pd.DataFrame(
		{fieldname: _text(df.iloc[:, position]) for position, fieldname in mapping.items()}, index=df.index
	)
	for column in spec.columns:
		if column not in raw:
			raw[column] = ""
	raw = raw[list(spec.columns)]
	# columns without a header (e.g. a trailing separator): values there are refused, not dropped; values
	# under an unknown or repeated header make a row count, the header problem says the rest
	others = {
		position: _text(df.iloc[:, position]) for position in range(df.shape[1]) if position not in mapping
	}
	unnamed = [values for position, values in others.items() if _is_blank_header(df.columns[position])]
	keep = (raw != "").any(axis=1)
	for values in others.values():
		keep |= values != ""
	keep = keep.to_numpy()
	raw = raw[keep]
	rows = rows_all[keep]
	errors.rows, errors.raw = rows, raw
	for values in unnamed:
		values = values[keep]
		errors.add(values != "", "", "unknown_column", values=values)

	text = raw.copy()
	for column, default in (defaults or {}).items():
		if column in text and default not in (None, ""):
			text.loc[text[column] == "", column] = str(default)
	blank = text == ""
	clean = pd.DataFrame(index=raw.index)

	for column in spec.required:
		if column not in missing:  # a missing column is reported once, on the header
			errors.add(blank[column], column, "required")

	for column in spec.text_columns:
		too_long = text[column].str.len() > MAX_TEXT_LENGTH
		errors.add(too_long, column, "too_long", {"max": MAX_TEXT_LENGTH})

	# dates and datetimes
	today_ts = pd.Timestamp(today)
	for column in (*spec.dates, *spec.datetimes):
		parsed = _parse_datetimes(text[column], date_order)
		bad = parsed.isna() & ~blank[column]
		errors.add(bad, column, "not_a_date", {"order": date_order} if date_order != "ymd" else None)
		if column in spec.dates:
			parsed = parsed.dt.normalize()
		if column in spec.not_future:
			errors.add(parsed.dt.normalize() > today_ts, column, "future_date", {"today": today.isoformat()})
		clean[column] = parsed

	# numbers
	for column, rule in spec.numbers.items():
		values = _parse_numbers(text[column])
		bad = values.isna() & ~blank[column]
		errors.add(bad, column, "not_a_number")
		if rule.integer:
			errors.add(values.notna() & (values % 1 != 0), column, "not_an_integer")
		bounds = {"min": rule.min, "max": rule.max}
		if rule.min is not None and rule.min == 0 and rule.max is None:
			errors.add(values < 0, column, "negative")
		elif rule.min is not None or rule.max is not None:
			low = values < rule.min if rule.min is not None else False
			high = values > rule.max if rule.max is not None else False
			errors.add(low | high, column, "out_of_range", bounds)
		if rule.positive:
			errors.add(values == 0, column, "not_positive")
		clean[column] = values

	# Select options (case-insensitive; stored as the option's spelling)
	for column, options in spec.options.items():
		canonical = _canonical(text[column], options)
		errors.add(canonical.isna() & ~blank[column], column, "invalid_option", {"options": list(options)})
		text[column] = canonical.where(canonical.notna(), text[column])

	# links (case-insensitive; stored as the linked record's name)
	if known_links is not None:
		for column, target in spec.links.items():
			index = known_links.get(target) or ()
			if not isinstance(index, LinkIndex):
				index = LinkIndex.of_names(index)
			canonical, several = index.resolve(text[column])
			ambiguous = several.notna().to_numpy()
			errors.add(
				ambiguous,
				column,
				"ambiguous_link",
				details=[{"doctype": target, "names": list(n)} for n in several[ambiguous]],
			)
			errors.add(
				canonical.isna() & ~blank[column] & ~ambiguous, column, "unknown_link", {"doctype": target}
			)
			text[column] = canonical.where(canonical.notna(), text[column])

	for column in spec.text_columns:
		values = text[column].to_numpy(object)
		clean[column] = pd.Series(np.where(values != "", values, None), index=text.index, dtype=object)
	clean = clean[list(spec.columns)].copy()

	# cross-field rules
	for later, earlier in spec.not_before:
		a, b = clean[later], clean[earlier]
		if (later in spec.dates) != (earlier in spec.dates):
			a, b = a.dt.normalize(), b.dt.normalize()
		errors.add((a < b) & errors.ok(later, earlier), later, "date_order", {"other": earlier})
	for column, other in spec.not_above:
		exceeds = (clean[column] > clean[other].fillna(0)) & errors.ok(column, other)
		errors.add(exceeds, column, "exceeds", {"other": other})
	for rule in spec.required_if:
		if rule.values:
			condition = clean[rule.when].isin(rule.values)
		else:
			condition = clean[rule.when].fillna(0) > 0
		details = [{"other": rule.when, "value": v} for v in raw[rule.when][condition & blank[rule.column]]]
		errors.add(condition & blank[rule.column], rule.column, "required_if", details=details)
	for group in spec.one_of:
		none = blank[list(group)].all(axis=1)
		errors.add(none, group[0], "required_one_of", {"columns": list(group)})

	# derived values
	if spec.doctype == "PL Loan Snapshot":
		dpd_ok = clean["dpd"].notna() & (clean["dpd"] >= 0) & (clean["dpd"] % 1 == 0)
		for column, derive in (("bucket", bucket_for_dpd), ("classification", classification_for_dpd)):
			fill = clean[column].isna() & dpd_ok
			clean.loc[fill, column] = derive(clean.loc[fill, "dpd"])

	# names and duplicates
	names = document_names(doctype, clean)
	if spec.naming in ("loan_no", "case_no"):
		errors.add(names.str.contains("[<>]", regex=True, na=False), spec.naming, "invalid_characters")
	elif spec.naming == "reference":
		errors.add(
			clean["reference"].str.contains("[<>]", regex=True, na=False), "reference", "invalid_characters"
		)
	if spec.naming == "snapshot":
		errors.add(names.str.len() > MAX_TEXT_LENGTH, "loan", "too_long", {"max": MAX_TEXT_LENGTH})
	clean.insert(0, "name", names)

	folded = names.str.lower()
	duplicated = folded.notna() & folded.duplicated(keep="first")
	if duplicated.any():
		# reported on the first key column, with the whole key as the value and the row it repeats
		first = pd.Series(rows, index=names.index).groupby(folded).transform("min")
		shown = raw[spec.key[0]].astype(object)
		for column in spec.key[1:]:
			shown = shown.str.cat(raw[column].astype(object), sep=" / ")
		mask = duplicated.to_numpy()
		if spec.naming == "reference":
			with_ref = (duplicated & clean["reference"].notna()).to_numpy()
			errors.add(with_ref, "reference", "duplicate_in_file", details=_first_rows(first[with_ref]))
			mask = mask & ~with_ref
		errors.add(mask, spec.key[0], "duplicate_in_file", details=_first_rows(first[mask]), values=shown)

	return clean, errors.records()


def row_count(errors: list[dict]) -> int:
	"""Data rows with at least one problem (header problems are on row 1, no data row)."""
	return len({e["row"] for e in errors if e["row"] != 1})


def problem_summary(errors: list[dict], first_rows: int = 5) -> list[dict]:
	"""One entry per column and problem: ``{"column", "code", "count", "rows", "value", "detail"}`` with
	the first ``first_rows`` row numbers and the first value, header problems first, then by count."""
	if not errors:
		return []
	frame = pd.DataFrame(
		{
			"column": [e["column"] for e in errors],
			"code": [e["code"] for e in errors],
			"row": [e["row"] for e in errors],
			"position": np.arange(len(errors)),
		}
	)
	summary = []
	for (column, code), group in frame.groupby(["column", "code"], sort=False):
		first = errors[int(group["position"].iloc[0])]
		summary.append(
			{
				"column": column,
				"code": code,
				"count": len(group),
				"rows": group["row"].head(first_rows).astype(int).tolist(),
				"value": first.get("value"),
				"detail": first.get("detail") or {},
			}
		)
	summary.sort(key=lambda s: (s["rows"][0] != 1, -s["count"], s["rows"][0]))
	return summary


def rejected_rows(
	df: pd.DataFrame,
	errors: list[dict],
	reasons: list[str],
	*,
	first_row: int = 2,
	row_label: str = "Row",
	reason_label: str = "Problems",
) -> pd.DataFrame:
	"""The rows of a raw frame that have problems, as read (every column), with the sheet row first and
	the problems last (``reasons``: one text per error, joined with "; "). Header problems come first, on a
	line of their own (row 1). Fix the values, delete the two added columns and load the file again."""
	by_row: dict[int, list[str]] = {}
	for error, reason in zip(errors, reasons, strict=True):
		by_row.setdefault(int(error["row"]), []).append(reason)
	headers = [str(h) for h in df.columns]
	positions = [r - first_row for r in sorted(by_row) if r >= first_row and 0 <= r - first_row < len(df)]
	body = df.iloc[positions].astype(object)
	body.columns = range(len(headers))
	out = (
		pd.DataFrame(body.to_numpy(object), columns=headers)
		if len(positions)
		else pd.DataFrame(columns=headers, dtype=object)
	)
	out.insert(0, row_label, [p + first_row for p in positions])
	out[reason_label] = ["; ".join(by_row[p + first_row]) for p in positions]
	if 1 in by_row:
		header_line = [[1, *([""] * len(headers)), "; ".join(by_row[1])]]
		out = pd.concat([pd.DataFrame(header_line, columns=out.columns), out], ignore_index=True)
	return out


def _first_rows(first: pd.Series) -> list[dict]:
	return [{"first_row": int(r)} for r in first.tolist()]


def _is_zero(value: Any) -> bool:
	try:
		return value not in (None, "") and float(value) == 0
	except (TypeError, ValueError):
		return False


def validate_record(
	doctype: str, values: Mapping[str, Any], today: dt.date | None = None
) -> tuple[dict[str, Any], list[dict]]:
	"""The same rules for one record (a document's field values); links are not checked here.

	Returns ``(clean, errors)`` where ``clean`` holds the typed values (python dates/datetimes, floats,
	strings or None) including derived ones; errors carry ``row`` 2 (meaningless for a document).
	"""
	spec = SPECS[doctype]
	row = {}
	for column in spec.columns:
		value = values.get(column)
		rule = spec.numbers.get(column)
		if rule and rule.zero_is_blank and _is_zero(value):
			value = None
		row[column] = "" if value is None else str(value)
	clean, errors = validate_frame(doctype, pd.DataFrame([row], dtype=object), None, today)
	record: dict[str, Any] = {}
	if len(clean):
		for column, value in clean.iloc[0].items():
			if isinstance(value, pd.Timestamp):
				value = value.to_pydatetime()
				if column in spec.dates:
					value = value.date()
			elif value is pd.NaT or value is None or (isinstance(value, float) and np.isnan(value)):
				value = None
			elif column in spec.numbers:
				value = int(value) if spec.numbers[column].integer and float(value) % 1 == 0 else float(value)
			record[column] = value
	return record, errors
