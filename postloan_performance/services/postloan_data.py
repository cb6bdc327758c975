"""Post-loan data: the row rules shared by the DocType controllers and the bulk loader.

* :func:`validate_document` runs in every post-loan data controller's ``validate`` (desk, REST, Frappe's
  Data Import): the engine's rules for one record, derived snapshot bucket/classification, and no two
  records with the same external ``reference``.
* :func:`import_file` is the bulk loader: :func:`check_file` reads a CSV/XLSX with pandas (UTF-8 with or
  without BOM, UTF-16, GB18030; one sheet of a workbook), resolves the link values (names or the keys the
  lender has: ``services/import_keys.py``, one query per target DocType and per 5,000 values), validates
  headers and rows in one pass with :func:`postloan_performance.engine.row_rules.validate_frame`; then
  :func:`import_file` either refuses the whole file with :class:`PostLoanImportError` (every problem,
  nothing written) or :func:`write_rows` inserts the new rows in chunks of
  10,000 with one multi-row ``INSERT IGNORE`` each (``frappe.db.bulk_insert``'s statement; on MariaDB
  written directly, see :func:`_insert`). Names are deterministic, so re-loading a file inserts nothing.
  It never commits: the caller (request, background job, bench command) owns the transaction.
* :func:`enqueue_import` runs it as a background job for large files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import frappe
from frappe import _
from frappe.utils import escape_html, getdate, now, nowdate

from postloan_performance.engine import row_rules
from postloan_performance.services import import_keys, sanitize
from postloan_performance.services.bulk import insert_many
from postloan_performance.services.locks import kill_point, step_lock

POST_LOAN_DOCTYPES: tuple[str, ...] = row_rules.DOCTYPES
LOOKUP_CHUNK_SIZE = 5_000  # values per IN (...) list
INSERT_CHUNK_SIZE = 10_000  # rows per INSERT statement
LARGE_FILE_ROWS = 100_000  # the whitelisted method runs larger files as a background job
MESSAGE_LINES = 200  # bad rows listed in the message; the exception keeps them all
SUMMARY_LINES = 20  # (column, problem) groups listed in the message
SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
# the site's setting (PL Post-Loan Settings) and a data import's option -> the engine's date order
DATE_ORDERS = {"Year-Month-Day": "ymd", "Day-Month-Year": "dmy", "Month-Day-Year": "mdy"}


class PostLoanImportError(frappe.ValidationError):
	"""A file was refused. ``errors`` holds every problem as the engine reports it (row, column, value,
	code, detail); ``lines`` the translated text of each (capped); ``summary`` one line per column and
	problem; ``checked`` the :class:`CheckedFile` (for :func:`rejected_csv`)."""

	errors: list[dict]
	lines: list[str]
	summary: list[str]
	checked: CheckedFile


@dataclass
class CheckedFile:
	"""A file read and validated: ``raw`` as read, ``clean`` the typed rows (``rows`` of them), ``errors``."""

	doctype: str
	path: str
	raw: pd.DataFrame
	clean: pd.DataFrame
	errors: list[dict]
	date_order: str
	sheet: str | None = None

	@property
	def file_name(self) -> str:
		return os.path.basename(self.path)

	@property
	def rows(self) -> int:
		return len(self.clean)

	@property
	def header_problems(self) -> int:
		return sum(1 for e in self.errors if e["row"] == 1)

	@property
	def rejected_rows(self) -> int:
		return row_rules.row_count(self.errors)


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


def _throw_refused(checked: CheckedFile):
	doctype, errors = checked.doctype, checked.errors
	lines = format_errors(doctype, errors)
	summary = summary_lines(doctype, errors)
	message = refusal_headline(checked)
	if len(summary) > 1:
		message += "<br><br>" + "<br>".join(escape_html(line) for line in summary)
	message += "<br><br>" + "<br>".join(escape_html(line) for line in lines)
	try:
		frappe.throw(message, PostLoanImportError, title=_("Import Refused"))
	except PostLoanImportError as e:
		e.errors = errors
		e.lines = lines
		e.summary = summary
		e.checked = checked
		raise


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


# --- single documents --------------------------------------------------------------------------------


def validate_document(doc) -> None:
	"""The bulk loader's row rules for one document (controller ``validate``); throws on problems.

	Fills a snapshot's blank bucket and classification from its dpd. Links are checked by Frappe itself.
	"""
	spec = row_rules.SPECS.get(doc.doctype)
	if not spec:
		return
	values = {c: doc.get(c) for c in spec.columns}
	clean, errors = row_rules.validate_record(doc.doctype, values, getdate(nowdate()))
	if spec.naming == "reference" and doc.get("reference") and not errors:
		other = frappe.db.get_value(
			doc.doctype, {"reference": doc.reference.strip(), "name": ("!=", doc.name or "")}, "name"
		)
		if other:
			errors.append(
				{
					"row": 2,
					"column": "reference",
					"value": doc.reference,
					"code": "duplicate",
					"detail": {"name": other},
				}
			)
	if errors:
		labels = _labels(doc.doctype)
		lines = [error_line(doc.doctype, e, labels, with_row=False) for e in errors]
		frappe.throw(
			_("{0} cannot be saved:").format(_(doc.doctype))
			+ "<br>"
			+ "<br>".join(escape_html(line) for line in lines),
			title=_("Invalid Value"),
		)
	for column in spec.derived:
		if not doc.get(column) and clean.get(column):
			doc.set(column, clean[column])


# --- reading files -----------------------------------------------------------------------------------


def resolve_path(file_path_or_file_url: str) -> str:
	"""A local path for a file path or a site file URL (/files/…, /private/files/…)."""
	value = (file_path_or_file_url or "").strip()
	if value.startswith(("/files/", "/private/files/")):
		from frappe.utils.file_manager import get_file_path

		path = get_file_path(value)
	else:
		path = value
	path = os.path.abspath(path)
	if not os.path.isfile(path):
		frappe.throw(
			_("File {0} was not found.").format(escape_html(file_path_or_file_url)), frappe.DoesNotExistError
		)
	return path


def readable_file_path(file_url: str) -> str:
	"""The local path of a File the session user may read, found by its file_url."""
	names = frappe.get_all("File", filters={"file_url": file_url, "is_folder": 0}, pluck="name")
	if not names:
		frappe.throw(_("File {0} was not found.").format(escape_html(file_url)), frappe.DoesNotExistError)
	for name in names:
		file_doc = frappe.get_doc("File", name)
		if file_doc.has_permission("read"):
			return resolve_path(file_doc.get_full_path())
	frappe.throw(
		_("You are not allowed to read the file {0}.").format(escape_html(file_url)), frappe.PermissionError
	)


def read_table(path: str, sheet: str | None = None) -> pd.DataFrame:
	"""A CSV (UTF-8 with or without BOM, UTF-16, GB18030; comma, semicolon or tab separated) or one sheet of
	an XLSX (``sheet``, default the first) as strings, blank rows kept so that row numbers match the
	sheet. Headers are kept as written, repeated ones too (the engine reports them)."""
	name = os.path.basename(path)
	suffix = Path(path).suffix.lower()
	if suffix not in SUPPORTED_SUFFIXES:
		frappe.throw(_("Only CSV and XLSX files can be imported, not {0}.").format(escape_html(name)))
	options = {"dtype": str, "keep_default_na": False, "header": None}
	try:
		if suffix in EXCEL_SUFFIXES:
			sheets = sheet_names(path)
			if sheet and sheet not in sheets:
				frappe.throw(
					_("The workbook {0} has no sheet {1}; its sheets are: {2}").format(
						escape_html(name), escape_html(sheet), escape_html(", ".join(sheets))
					)
				)
			df = pd.read_excel(path, sheet_name=sheet or 0, engine="openpyxl", **options)
		else:
			encoding, separator = _csv_format(path)
			df = pd.read_csv(path, encoding=encoding, sep=separator, skip_blank_lines=False, **options)
	except pd.errors.EmptyDataError:
		frappe.throw(_("The file {0} is empty.").format(escape_html(name)))
	except UnicodeDecodeError:
		frappe.throw(
			_("The file {0} is neither UTF-8 nor GB18030 text; save it as CSV UTF-8 or XLSX.").format(
				escape_html(name)
			)
		)
	except (pd.errors.ParserError, ValueError, OSError, KeyError) as e:
		frappe.throw(_("The file {0} could not be read: {1}").format(escape_html(name), escape_html(str(e))))
	if df.empty:
		frappe.throw(_("The file {0} is empty.").format(escape_html(name)))
	headers = [str(h).strip() for h in df.iloc[0].tolist()]
	df = df.iloc[1:].reset_index(drop=True)
	df.columns = headers
	return df


def _csv_format(path: str) -> tuple[str, str]:
	"""The encoding (UTF-8 with BOM, UTF-16 with BOM, UTF-8, else GB18030) and the separator (the most
	frequent of , ; tab | in the header line) of a CSV file."""
	import codecs

	with open(path, "rb") as f:
		data = f.read()
	if data.startswith(codecs.BOM_UTF8):
		encoding = "utf-8-sig"
	elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
		encoding = "utf-16"
	else:
		try:
			data.decode("utf-8")
			encoding = "utf-8"
		except UnicodeDecodeError:
			data.decode("gb18030")  # raises UnicodeDecodeError for other encodings
			encoding = "gb18030"
	first_line = data.decode(encoding, errors="replace").lstrip("\ufeff").split("\n", 1)[0]
	counts = {sep: first_line.count(sep) for sep in (",", ";", "\t", "|")}
	separator = max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","
	return encoding, separator


def sheet_names(path: str) -> list[str]:
	"""The sheets of an XLSX workbook, in order."""
	from openpyxl import load_workbook

	workbook = load_workbook(path, read_only=True)
	try:
		return list(workbook.sheetnames)
	finally:
		workbook.close()


def count_data_rows(path: str, sheet: str | None = None, stop_after: int | None = None) -> int:
	"""Data rows of a file without parsing it (lines after the header; XLSX: the non-empty rows after the
	first, counted by streaming the sheet: its declared dimension is not trusted, a crafted file could
	declare one row and hold a million). With ``stop_after``, counting stops once it is exceeded."""
	if Path(path).suffix.lower() in EXCEL_SUFFIXES:
		from openpyxl import load_workbook

		workbook = load_workbook(path, read_only=True, data_only=True)
		try:
			worksheet = workbook[sheet] if sheet and sheet in workbook.sheetnames else workbook.worksheets[0]
			worksheet.reset_dimensions()  # stream every row, whatever the file declares
			rows = 0
			for values in worksheet.iter_rows(values_only=True):
				if any(v is not None and v != "" for v in values):
					rows += 1
					if stop_after is not None and rows - 1 > stop_after:
						break
			return max(rows - 1, 0)
		finally:
			workbook.close()
	lines, last = 0, b"\n"
	with open(path, "rb") as f:
		while block := f.read(1 << 20):
			lines += block.count(b"\n")
			last = block[-1:]
	if last != b"\n":
		lines += 1
	return max(lines - 1, 0)


def _zh_translations() -> dict[str, str]:
	"""The app's Chinese translations (its labels are all there): read from its CSV, a few ms, where the
	whole site's Chinese dictionary costs ~0.2 s to load in a new worker."""
	from frappe.translate import get_translations_from_csv

	return get_translations_from_csv("zh", "postloan_performance") or {}


def header_aliases(doctype: str) -> dict[str, str]:
	"""Headers accepted besides the fieldnames: field labels in English, in Chinese and in the user's
	language, and the labels of a linked record's number (a snapshot file's "Loan No" column)."""
	meta = frappe.get_meta(doctype)
	zh = _zh_translations()
	aliases = {}
	for column in row_rules.SPECS[doctype].columns:
		label = meta.get_label(column)
		for alias in (label, zh.get(label), _(label)):
			if alias:
				aliases.setdefault(alias, column)
	for key, column in row_rules.link_header_keys(doctype).items():
		label = frappe.get_meta(row_rules.SPECS[doctype].links[column]).get_label(key)
		for alias in (label, zh.get(label), _(label)):
			if alias:
				aliases.setdefault(alias, column)
	return aliases


def bilingual_headers(doctype: str) -> dict[str, str]:
	"""{fieldname: "English label / 中文标签"}: the template's headers, which the loader reads back."""
	meta = frappe.get_meta(doctype)
	zh = _zh_translations()
	headers = {}
	for column in row_rules.SPECS[doctype].columns:
		label = meta.get_label(column)
		chinese = zh.get(label)
		headers[column] = f"{label} / {chinese}" if chinese and chinese != label else label
	return headers


def site_date_order() -> str:
	"""The engine's date order from PL Post-Loan Settings (Year-Month-Day when unset)."""
	value = frappe.db.get_single_value("PL Post-Loan Settings", "import_date_order")
	return DATE_ORDERS.get(value or "", "ymd")


def date_order_of(value: str | None) -> str:
	"""A date order as given (the settings' spelling or the engine's code); blank: the site's setting."""
	if not value:
		return site_date_order()
	if value in DATE_ORDERS.values():
		return value
	if value in DATE_ORDERS:
		return DATE_ORDERS[value]
	frappe.throw(
		_("Unknown date order {0}; choose one of: {1}").format(
			escape_html(value), ", ".join(_(o) for o in DATE_ORDERS)
		)
	)


def select_defaults(doctype: str) -> dict[str, str]:
	"""Defaults of the Select fields, applied to blank cells as a new document would get them."""
	meta = frappe.get_meta(doctype)
	return {
		df.fieldname: df.default
		for df in meta.fields
		if df.fieldname in row_rules.SPECS[doctype].columns and df.fieldtype == "Select" and df.default
	}


def _chunks(values: Iterable, size: int):
	iterator = iter(values)
	while chunk := list(itertools.islice(iterator, size)):
		yield chunk


def _stored(doctype: str, column: str, values: Iterable[str], size: int = LOOKUP_CHUNK_SIZE) -> set[str]:
	"""The values of ``column`` that are stored in ``doctype`` (as stored), one query per ``size`` values."""
	found: set[str] = set()
	for chunk in _chunks(values, size):
		rows = frappe.db.sql(
			f"select `{column}` from `tab{doctype}` where `{column}` in %(values)s", {"values": tuple(chunk)}
		)
		found.update(r[0] for r in rows if r[0])
	return found


def existing_links(wanted: dict[str, set[str]]) -> dict[str, row_rules.LinkIndex]:
	"""The stored records among the wanted values of each link target DocType, by name or another key."""
	return import_keys.link_indexes(wanted)


def _present(doctype: str, chunk: pd.DataFrame) -> np.ndarray:
	"""Which rows of a chunk are already stored: by name, or (DocTypes with an external reference) by a
	record that carries the same reference under another name. Case-insensitive, like the database."""
	stored = {n.lower() for n in _stored(doctype, "name", chunk["name"].tolist(), size=len(chunk))}
	present = chunk["name"].str.lower().isin(stored).to_numpy(copy=True)  # written to below
	if row_rules.SPECS[doctype].naming == "reference":
		references = chunk["reference"].dropna()
		references = references[references != ""].unique().tolist()
		if references:
			known = {r.lower() for r in _stored(doctype, "reference", references, size=len(chunk))}
			present |= chunk["reference"].fillna("").str.lower().isin(known).to_numpy()
	return present


# --- writing -----------------------------------------------------------------------------------------

STANDARD_FIELDS = ("name", "creation", "modified", "modified_by", "owner", "docstatus", "idx")


def _db_columns(spec: row_rules.Spec, frame: pd.DataFrame) -> list[list]:
	"""Each spec column of the chunk as a list of database values (numbers: 0 when blank, as Frappe)."""
	columns = []
	for column in spec.columns:
		values = frame[column]
		if column in spec.dates or column in spec.datetimes:
			fmt = "%Y-%m-%d %H:%M:%S.%f" if column in spec.datetimes else "%Y-%m-%d"
			if not pd.api.types.is_datetime64_any_dtype(values):  # e.g. a column left blank throughout
				values = pd.to_datetime(values)
			text = values.dt.strftime(fmt).astype(object)
			columns.append(text.where(values.notna(), None).tolist())
		elif column in spec.numbers:
			values = pd.to_numeric(values)  # object columns (blank throughout) become float NaN
			if spec.numbers[column].integer:
				columns.append(values.fillna(0).round().astype("int64").tolist())
			else:
				columns.append(values.fillna(0).round(9).astype(float).tolist())
		else:
			values = values.astype(object)
			columns.append(values.where(values.notna() & (values != ""), None).tolist())
	return columns


def _insert(doctype: str, spec: row_rules.Spec, chunk: pd.DataFrame, timestamp: str, user: str) -> int:
	"""Insert a chunk with one multi-row ``INSERT IGNORE``; returns the rows really written."""
	n = len(chunk)
	columns = [
		chunk["name"].astype(object).tolist(),
		itertools.repeat(timestamp, n),
		itertools.repeat(timestamp, n),
		itertools.repeat(user, n),
		itertools.repeat(user, n),
		itertools.repeat(0, n),
		itertools.repeat(0, n),
		*_db_columns(spec, chunk),
	]
	fields = [*STANDARD_FIELDS, *spec.columns]
	rows = list(zip(*columns, strict=True))
	# one statement, written directly on MariaDB: through pypika it costs ~4x the whole insert for wide
	# chunks (200k snapshot rows: ~60 s of pypika vs ~14 s here)
	insert_many(doctype, fields, rows, chunk_size=max(n, 1), ignore_duplicates=True)
	rowcount = getattr(getattr(frappe.db, "_cursor", None), "rowcount", None)
	# INSERT IGNORE reports the rows really written; a row a concurrent import wrote first is skipped
	return rowcount if isinstance(rowcount, int) and 0 <= rowcount <= n else n


def _invalidate_portfolio_months(doctype: str, clean: pd.DataFrame) -> None:
	"""Drop the Portfolio Quality Trend summary rows that the imported rows make stale."""
	from postloan_performance.services import portfolio_months

	dates = {
		"PL Loan Snapshot": "as_of_date",
		"PL Collection Case": "opened_on",
		"PL Recovery": "received_on",
	}
	if doctype not in dates or dates[doctype] not in clean.columns:
		return
	days = pd.to_datetime(clean[dates[doctype]], errors="coerce").dropna().dt.date.unique().tolist()
	if doctype == "PL Loan Snapshot":
		portfolio_months.invalidate(days)
	else:
		portfolio_months.invalidate_collections(days)


def _check_doctype(doctype: str):
	if doctype not in POST_LOAN_DOCTYPES:
		frappe.throw(
			_("{0} cannot be loaded with the post-loan bulk loader; choose one of: {1}").format(
				escape_html(_(doctype or "")), ", ".join(_(d) for d in POST_LOAN_DOCTYPES)
			)
		)


def inert_text(doctype: str, raw: pd.DataFrame, aliases: dict[str, str]) -> pd.DataFrame:
	"""The file's text columns made inert before they are checked (keys and names follow): markup
	sanitised as Document.save would, formula prefixes (= + - @) quoted (``services.sanitize``)."""
	fields = sanitize.text_fields(doctype)
	mapping = row_rules.map_headers(doctype, raw.columns, aliases)
	return sanitize.sanitize_frame(raw, [p for p, f in mapping.items() if f in fields])


def check_file(
	doctype: str, file_path_or_file_url: str, *, date_order: str | None = None, sheet: str | None = None
) -> CheckedFile:
	"""Read a file and check its header and every row (links resolved by name or by the lender's keys).

	``date_order``: "Year-Month-Day", "Day-Month-Year", "Month-Day-Year" (or the engine's ymd/dmy/mdy);
	blank takes PL Post-Loan Settings. ``sheet``: the sheet of a workbook (default the first).
	"""
	_check_doctype(doctype)
	path = resolve_path(file_path_or_file_url)
	order = date_order_of(date_order)
	aliases = header_aliases(doctype)
	raw = inert_text(doctype, read_table(path, sheet=sheet), aliases)
	known = existing_links(row_rules.link_values(doctype, raw, aliases))
	clean, errors = row_rules.validate_frame(
		doctype,
		raw,
		known,
		getdate(nowdate()),
		aliases=aliases,
		defaults=select_defaults(doctype),
		date_order=order,
	)
	return CheckedFile(doctype, path, raw, clean, errors, order, sheet)


def import_file(
	doctype: str,
	file_path_or_file_url: str,
	*,
	dry_run: bool = False,
	publish_progress: bool = True,
	on_progress: Callable[[int, int], None] | None = None,
	date_order: str | None = None,
	sheet: str | None = None,
) -> dict:
	"""Validate every row of a CSV/XLSX file and bulk-insert the new ones, or write nothing.

	Raises :class:`PostLoanImportError` listing every problem of the header and the rows in one go (row
	number as in the sheet, column, reason). Rows whose document already exists (same deterministic name,
	or same ``reference``) are counted as ``already_present`` and left unchanged. Never commits.
	``dry_run`` validates and counts without writing. ``on_progress(done, total)`` is called after each
	inserted chunk. ``date_order`` and ``sheet``: see :func:`check_file`.

	Returns ``{"doctype", "rows", "inserted", "already_present", "dry_run"}`` (``new`` too on a dry run).
	"""
	# one import per DocType at a time (services/locks.py): the same file loaded twice at once is
	# refused as already running; loaded again later it inserts nothing (INSERT IGNORE on the names)
	with step_lock("import", doctype):
		checked = check_file(doctype, file_path_or_file_url, date_order=date_order, sheet=sheet)
		if checked.errors:
			_throw_refused(checked)
		return write_rows(
			checked, dry_run=dry_run, publish_progress=publish_progress, on_progress=on_progress
		)


def write_rows(
	checked: CheckedFile,
	*,
	dry_run: bool = False,
	publish_progress: bool = True,
	on_progress: Callable[[int, int], None] | None = None,
) -> dict:
	"""Insert the new rows of a file without problems (see :func:`import_file`); ``dry_run`` only counts."""
	if checked.errors:
		raise ValueError("a file with problems is never written")
	doctype, clean, n_rows = checked.doctype, checked.clean, checked.rows
	spec = row_rules.SPECS[doctype]
	timestamp, user = now(), frappe.session.user
	title = _("Importing {0}").format(_(doctype))
	inserted = new = done = 0
	for start in range(0, n_rows, INSERT_CHUNK_SIZE):
		chunk = clean.iloc[start : start + INSERT_CHUNK_SIZE]
		fresh = chunk[~_present(doctype, chunk)]
		new += len(fresh)
		if len(fresh) and not dry_run:
			inserted += _insert(doctype, spec, fresh, timestamp, user)
		done += len(chunk)
		if publish_progress and not dry_run:
			frappe.publish_progress(
				done * 100 / n_rows, title=title, description=_("{0} of {1} rows").format(done, n_rows)
			)
		if on_progress:
			on_progress(done, n_rows)
		if not dry_run:
			kill_point("after_first_chunk")  # crash tests: one transaction, so nothing stays
	if inserted and not dry_run:
		_invalidate_portfolio_months(doctype, clean)

	result = {
		"doctype": doctype,
		"rows": n_rows,
		"inserted": 0 if dry_run else inserted,
		"already_present": n_rows - (new if dry_run else inserted),
		"dry_run": bool(dry_run),
	}
	if dry_run:
		result["new"] = new
	return result


def preview_rows(checked: CheckedFile, limit: int) -> list[dict]:
	"""The first rows as they will be stored (name, every column as written to the database, links as
	the linked records' names) and whether each is new; ``_row`` is the sheet row."""
	doctype, head = checked.doctype, checked.clean.head(limit)
	if head.empty:
		return []
	spec = row_rules.SPECS[doctype]
	present = _present(doctype, head)
	columns = _db_columns(spec, head)
	rows = []
	for i, name in enumerate(head["name"].tolist()):
		row = {"_row": int(head.index[i]) + 2, "_new": not bool(present[i]), "name": name}
		for column, values in zip(spec.columns, columns, strict=True):
			row[column] = values[i]
		rows.append(row)
	return rows


# --- background jobs ---------------------------------------------------------------------------------


def enqueue_import(
	doctype: str,
	file_path_or_file_url: str,
	*,
	dry_run: bool = False,
	date_order: str | None = None,
	sheet: str | None = None,
) -> dict:
	"""Run :func:`import_file` in the long queue (the job commits on success and rolls back on error).

	The user is told the outcome with the realtime event ``postloan_import`` ({status, result or message}).
	"""
	_check_doctype(doctype)
	path = resolve_path(file_path_or_file_url)
	rows = count_data_rows(path, sheet)
	digest = hashlib.sha1(f"{doctype}\x1f{path}\x1f{os.path.getmtime(path)}".encode()).hexdigest()[:16]
	job_id = f"postloan_import::{digest}"
	job = frappe.enqueue(
		"postloan_performance.services.postloan_data.run_import_job",
		queue="long",
		timeout=max(1500, 600 + rows // 500),
		job_id=job_id,
		deduplicate=True,
		doctype=doctype,
		file_path=path,
		dry_run=dry_run,
		date_order=date_order,
		sheet=sheet,
	)
	return {"queued": True, "already_queued": job is None, "job_id": job_id, "rows": rows, "dry_run": dry_run}


def run_import_job(
	doctype: str,
	file_path: str,
	dry_run: bool = False,
	date_order: str | None = None,
	sheet: str | None = None,
) -> dict:
	"""Background job body: import, then tell the user (realtime event ``postloan_import``)."""
	try:
		result = import_file(doctype, file_path, dry_run=dry_run, date_order=date_order, sheet=sheet)
	except PostLoanImportError as e:
		frappe.publish_realtime(
			"postloan_import",
			{"status": "refused", "doctype": doctype, "lines": e.lines, "problems": len(e.errors)},
			user=frappe.session.user,
		)
		raise
	frappe.publish_realtime(
		"postloan_import", {"status": "done", "result": result}, user=frappe.session.user, after_commit=True
	)
	return result
