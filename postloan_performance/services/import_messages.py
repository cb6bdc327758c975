"""The bulk loader's problems in words: a translated line per bad cell, a summary by column and problem, the
headline of a refused file and the rejected rows as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import TYPE_CHECKING

import frappe
from frappe import _
from frappe.utils import escape_html

from postloan_performance.engine import row_rules
from postloan_performance.services import sanitize

if TYPE_CHECKING:
	from postloan_performance.services.post_loan_data import CheckedFile

MESSAGE_LINES = 200  # bad rows listed in the message; the exception keeps them all
SUMMARY_LINES = 20  # (column, problem) groups listed in the message


# --- messages ----------------------------------------------------------------------------------------


def _labels(doctype: str) -> dict[str, str]:
	meta = frappe.get_meta(doctype)
	return {c: _(meta.get_label(c)) for c in row_rules.SPECS[doctype].columns}


def _reason(error: dict, labels: dict[str, str]) -> str:
	value = str(error.get("value") if error.get("value") is not None else "")
	if len(value) > 60:
		value = value[:57] + "…"
	detail = error.get("detail") or {}
	other = labels.get(detail.get("other"), detail.get("other"))
	code = error["code"]
	reasons: dict[str, Callable[[], str]] = {
		"unknown_column": lambda: _("unknown column '{0}'").format(value),
		"missing_column": lambda: _("required column '{0}' is missing").format(value),
		"duplicate_column": lambda: _("column '{0}' appears more than once").format(value),
		"required": lambda: _("a value is required"),
		"too_long": lambda: _("longer than {0} characters").format(detail.get("max")),
		"invalid_characters": lambda: _("'{0}' contains < or >").format(value),
		"not_a_date": lambda: _not_a_date(value, detail.get("order")),
		"not_a_number": lambda: _("'{0}' is not a number").format(value),
		"not_an_integer": lambda: _("'{0}' is not a whole number").format(value),
		"negative": lambda: _("'{0}' is negative").format(value),
		"not_positive": lambda: _("'{0}' must be greater than zero").format(value),
		"out_of_range": lambda: _("'{0}' is outside {1} to {2}").format(
			value, _number(detail.get("min")), _number(detail.get("max"))
		),
		"future_date": lambda: _("'{0}' is in the future").format(value),
		"invalid_option": lambda: _("'{0}' is not one of: {1}").format(
			value, ", ".join(_(o) for o in detail.get("options", []))
		),
		"unknown_link": lambda: _unknown_link(value, detail.get("doctype") or ""),
		"ambiguous_link": lambda: _("'{0}' matches several {1} records ({2}); give the ID instead").format(
			value, _(detail.get("doctype") or ""), ", ".join(detail.get("names") or [])
		),
		"date_order": lambda: _("'{0}' is before {1}").format(value, other),
		"exceeds": lambda: _("'{0}' is more than {1}").format(value, other),
		"required_if": lambda: _("a value is required when {0} is '{1}'").format(other, detail.get("value")),
		"required_one_of": lambda: _("give at least one of: {0}").format(
			", ".join(labels.get(c, c) for c in detail.get("columns", []))
		),
		"duplicate_in_file": lambda: _("'{0}' repeats row {1}").format(value, detail.get("first_row")),
		"duplicate": lambda: _("'{0}' already exists as {1}").format(value, detail.get("name")),
	}
	reason = reasons.get(code)
	return reason() if reason else _("invalid value '{0}' ({1})").format(value, code)


def _not_a_date(value: str, order: str | None) -> str:
	if order == "dmy":
		return _("'{0}' is not a date (use DD-MM-YYYY or YYYY-MM-DD)").format(value)
	if order == "mdy":
		return _("'{0}' is not a date (use MM-DD-YYYY or YYYY-MM-DD)").format(value)
	return _("'{0}' is not a date (use YYYY-MM-DD)").format(value)


def _unknown_link(value: str, doctype: str) -> str:
	keys = row_rules.LINK_KEYS.get(doctype)
	if not keys:
		return _("{0} '{1}' does not exist").format(_(doctype), value)
	meta = frappe.get_meta(doctype)
	names = ", ".join([_("ID"), *(_(meta.get_label(k)) for k in keys)])
	return _("{0} '{1}' does not exist (looked up by {2})").format(_(doctype), value, names)


def _number(value) -> str:
	return "" if value is None else f"{value:g}"


def error_line(doctype: str, error: dict, labels: dict[str, str] | None = None, with_row: bool = True) -> str:
	"""One translated line for an engine error, e.g. "Row 7, Outstanding: '-5' is negative"."""
	labels = labels if labels is not None else _labels(doctype)
	column = error.get("column") or ""
	label = labels.get(column, column) if column else _("(no header)")
	reason = _reason(error, labels)
	if error.get("code") in ("unknown_column", "missing_column", "duplicate_column"):
		return _("Header: {0}").format(reason)
	if with_row:
		return _("Row {0}, {1}: {2}").format(error.get("row"), label, reason)
	return _("{0}: {1}").format(label, reason)


def format_errors(doctype: str, errors: list[dict], limit: int | None = MESSAGE_LINES) -> list[str]:
	"""Translated lines for the errors, at most ``limit`` of them plus an "and N more" line."""
	labels = _labels(doctype)
	shown = errors if limit is None else errors[:limit]
	lines = [error_line(doctype, e, labels) for e in shown]
	if len(errors) > len(shown):
		lines.append(_("… and {0} more problems.").format(len(errors) - len(shown)))
	return lines


def summary_lines(doctype: str, errors: list[dict], limit: int | None = SUMMARY_LINES) -> list[str]:
	"""One translated line per column and problem, e.g. "Loan: 1,204 row(s), first row 3: Loan 'LN-9' does
	not exist", header problems first, then the most frequent."""
	labels = _labels(doctype)
	groups = row_rules.problem_summary(errors)
	shown = groups if limit is None else groups[:limit]
	lines = []
	for group in shown:
		first = {"row": group["rows"][0], **{k: group[k] for k in ("column", "code", "value", "detail")}}
		if group["rows"][0] == 1:
			lines.append(error_line(doctype, first, labels))
			continue
		column = group["column"]
		label = labels.get(column, column) if column else _("(no header)")
		lines.append(
			_("{0}: {1} row(s), first row {2}: {3}").format(
				label, f"{group['count']:,}", group["rows"][0], _reason(first, labels)
			)
		)
	if len(groups) > len(shown):
		lines.append(_("… and {0} more kinds of problems.").format(len(groups) - len(shown)))
	return lines


def refusal_headline(checked: CheckedFile) -> str:
	"""'loans.csv was not imported: 4 problem(s) in 3 of 120 row(s). …' (header problems counted apart)."""
	name, errors = escape_html(checked.file_name), checked.errors
	header, rows = checked.header_problems, len(errors) - checked.header_problems
	if header and rows:
		return _(
			"{0} was not imported: {1} problem(s) in the header and {2} problem(s) in {3} of {4} row(s). Nothing was written; fix the file and load it again."
		).format(name, header, rows, checked.rejected_rows, checked.rows)
	if header:
		return _(
			"{0} was not imported: {1} problem(s) in the header; the {2} row(s) have no other problems. Nothing was written; fix the header and load the file again."
		).format(name, header, checked.rows)
	return _(
		"{0} was not imported: {1} problem(s) in {2} of {3} row(s). Nothing was written; fix the rows below and load the file again."
	).format(name, len(errors), checked.rejected_rows, checked.rows)


def rejected_csv(checked: CheckedFile) -> bytes:
	"""The rejected rows as read, with their sheet row first and their problems last (UTF-8 with BOM, so
	that Excel reads it): the full list behind a capped message."""
	labels = _labels(checked.doctype)
	reasons = [error_line(checked.doctype, e, labels, with_row=False) for e in checked.errors]
	frame = row_rules.rejected_rows(
		checked.raw, checked.errors, reasons, row_label=_("Row"), reason_label=_("Problems")
	)
	buffer = io.StringIO()
	sanitize.inert_export_frame(frame).to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
	return buffer.getvalue().encode("utf-8-sig")
