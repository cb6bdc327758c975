"""Text written in bulk is made inert the way a saved document's is.

``Document.save`` runs Frappe's ``sanitize_html`` over text values that contain ``<`` or ``>``; the bulk
writers (``services.bulk.insert_many``, the post-loan importer) skip ``save``, so they call this module:

* :func:`sanitize_rows` / :func:`sanitize_series`: ``sanitize_html`` on the values of text fields (Data,
  Small Text, Text, Long Text, Text Editor, Link …; not Code, Password, Email, Phone, Attach, Select, nor
  fields marked "Ignore XSS Filter") that contain ``<`` or ``>``, and only on those, so that a file without
  markup costs one vectorised scan per text column;
* :func:`inert_formula`: a text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return)
  gets a leading ``'``, so that a spreadsheet opening an export shows it as text instead of running it.
  The importer stores imported text that way (numbers such as ``-12.5`` are left alone) and the app's own
  exports pass every cell through it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pandas as pd

import frappe
from frappe.utils.html_utils import sanitize_html

TEXT_FIELDTYPES = frozenset(
	{"Data", "Small Text", "Text", "Long Text", "Text Editor", "Link", "Dynamic Link", "Read Only"}
)
SKIPPED_OPTIONS = frozenset({"Email", "Phone", "Password", "URL"})
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_PREFIXES)
_SEPARATOR = "\x1f"
_NUMBER = re.compile(r"^[+-]?(?=\.?\d)(\d[\d,]*)?(\.\d+)?([eE][+-]?\d+)?%?$")


def text_fields(doctype: str) -> frozenset[str]:
	"""The fields of ``doctype`` whose values Frappe sanitises on save."""
	meta = frappe.get_meta(doctype)
	return frozenset(
		df.fieldname
		for df in meta.fields
		if df.fieldtype in TEXT_FIELDTYPES
		and not df.get("ignore_xss_filter")
		and (df.options or "") not in SKIPPED_OPTIONS
	)


def has_markup(value) -> bool:
	return isinstance(value, str) and ("<" in value or ">" in value)


# "<?" and "<!" open what an HTML parser takes for a comment, which sanitize_html passes through whole,
# tags inside it included ("<?<img src=x onerror=…>"): they are written as text before sanitising
_COMMENT_OPENER = re.compile(r"<(?=[?!])")


def clean_markup(value):
	"""``sanitize_html`` for a value with ``<`` or ``>`` (comment openers made text first); anything else
	unchanged."""
	return sanitize_html(_COMMENT_OPENER.sub("&lt;", value)) if has_markup(value) else value


def inert_formula(value):
	"""A text that a spreadsheet would run as a formula, prefixed with ``'``; anything else unchanged."""
	if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER.match(value.strip()):
		return "'" + value
	return value


def sanitize_series(series: pd.Series, formulas: bool = True) -> pd.Series:
	"""A text column with markup sanitised (and, with ``formulas``, formula prefixes made inert); the same
	series when no value needs it. One pass in plain Python over the values (several times faster than
	pandas' string methods on object columns); only the values found are touched."""
	if series.empty or not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
		return series
	values = series.tolist()
	first = _FORMULA_FIRST if formulas else frozenset()
	if not _may_need(values, first):
		return series
	found = [
		i for i, v in enumerate(values) if v.__class__ is str and ("<" in v or ">" in v or v[:1] in first)
	]
	if not found:
		return series
	changed = {}
	for i in found:
		value = clean_markup(values[i])
		if formulas:
			value = inert_formula(value)
		if value != values[i]:
			changed[i] = value
	if not changed:
		return series
	text = series.astype(object).copy()
	positions = list(changed)
	text.iloc[positions] = [changed[i] for i in positions]
	return text


def _may_need(values: list, first: frozenset[str]) -> bool:
	"""Whether any value may hold markup or start with a formula prefix: one C-speed search of the values
	joined (a separator before each value, so that a prefix is the separator followed by it)."""
	try:
		joined = _SEPARATOR + _SEPARATOR.join(values)
	except TypeError:  # blanks (None, NaN) among the strings
		joined = _SEPARATOR + _SEPARATOR.join(v for v in values if v.__class__ is str)
	return "<" in joined or ">" in joined or any(_SEPARATOR + c in joined for c in first)


def sanitize_frame(frame: pd.DataFrame, positions: Iterable[int], formulas: bool = True) -> pd.DataFrame:
	"""``frame`` with the columns at ``positions`` (headers may repeat) passed through
	:func:`sanitize_series`; the same frame when nothing changes."""
	out = frame
	for position in positions:
		column = frame.iloc[:, position]
		cleaned = sanitize_series(column, formulas)
		if cleaned is not column:
			if out is frame:
				out = frame.copy()
			out.isetitem(position, cleaned)
	return out


def sanitize_rows(doctype: str, fields: Sequence[str], rows: list) -> list:
	"""Rows for a bulk INSERT with the markup in their text fields sanitised (rows without any are
	returned as they are; a row that changes becomes a list)."""
	positions = [i for i, f in enumerate(fields) if f in text_fields(doctype)]
	if not positions:
		return rows
	positions = [i for i in positions if _may_need([row[i] for row in rows], frozenset())]
	if not positions:
		return rows
	out = rows
	for index, row in enumerate(rows):
		if any(has_markup(row[i]) for i in positions):
			if out is rows:
				out = list(rows)
			row = list(row)
			for i in positions:
				row[i] = clean_markup(row[i])
			out[index] = row
	return out


def inert_export_frame(frame: pd.DataFrame) -> pd.DataFrame:
	"""Every text cell of an export frame passed through :func:`inert_formula`."""
	out = frame.copy()
	for position in range(out.shape[1]):
		column = out.iloc[:, position]
		if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
			out.isetitem(position, column.map(inert_formula))
	return out
