"""Post-loan data: the row rules shared by the DocType controllers and the bulk loader.

* :func:`validate_document` runs in every post-loan data controller's ``validate`` (desk, REST, Frappe's
  Data Import): the engine's rules for one record, derived snapshot bucket/classification, and no two
  records with the same external ``reference``.
* :func:`import_file` is the bulk loader: reads a CSV/XLSX with pandas, looks the link values up with one
  query per target DocType (and per 5,000 values), validates every row with
  :func:`postloan_performance.engine.importing.validate_frame`, and either refuses the whole file with
  :class:`PostLoanImportError` (every bad row, nothing written) or inserts the new rows in chunks of
  10,000 with one multi-row ``INSERT IGNORE`` each (``frappe.db.bulk_insert``'s statement; on MariaDB
  written directly, see :func:`_insert`). Names are deterministic, so re-loading a file inserts nothing.
  It never commits: the caller (request, background job, bench command) owns the transaction.
* :func:`enqueue_import` runs it as a background job for large files.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

import frappe
from frappe import _
from frappe.utils import escape_html, getdate, now, nowdate

from postloan_performance.engine import importing
from postloan_performance.services.bulk import insert_many

POST_LOAN_DOCTYPES: tuple[str, ...] = importing.DOCTYPES
LOOKUP_CHUNK_SIZE = 5_000  # values per IN (...) list
INSERT_CHUNK_SIZE = 10_000  # rows per INSERT statement
LARGE_FILE_ROWS = 100_000  # the whitelisted method runs larger files as a background job
MESSAGE_LINES = 200  # bad rows listed in the message; the exception keeps them all
SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")


class PostLoanImportError(frappe.ValidationError):
	"""A file was refused. ``errors`` holds every problem as the engine reports it (row, column, value,
	code, detail); ``lines`` the translated text of each."""

	errors: list[dict]
	lines: list[str]


# --- messages ----------------------------------------------------------------------------------------


def _labels(doctype: str) -> dict[str, str]:
	meta = frappe.get_meta(doctype)
	return {c: _(meta.get_label(c)) for c in importing.SPECS[doctype].columns}


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
		"not_a_date": lambda: _("'{0}' is not a date (use YYYY-MM-DD)").format(value),
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
		"unknown_link": lambda: _("{0} '{1}' does not exist").format(_(detail.get("doctype") or ""), value),
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


def _throw_refused(doctype: str, file_name: str, n_rows: int, errors: list[dict]):
	bad_rows = len({e["row"] for e in errors})
	lines = format_errors(doctype, errors)
	head = _(
		"{0} was not imported: {1} problem(s) in {2} of {3} row(s). Nothing was written; fix the rows below and load the file again."
	).format(escape_html(file_name), len(errors), bad_rows, n_rows)
	message = head + "<br><br>" + "<br>".join(escape_html(line) for line in lines)
	try:
		frappe.throw(message, PostLoanImportError, title=_("Import Refused"))
	except PostLoanImportError as e:
		e.errors = errors
		e.lines = lines
		raise


# --- single documents --------------------------------------------------------------------------------


def validate_document(doc) -> None:
	"""The bulk loader's row rules for one document (controller ``validate``); throws on problems.

	Fills a snapshot's blank bucket and classification from its dpd. Links are checked by Frappe itself.
	"""
	spec = importing.SPECS.get(doc.doctype)
	if not spec:
		return
	values = {c: doc.get(c) for c in spec.columns}
	clean, errors = importing.validate_record(doc.doctype, values, getdate(nowdate()))
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


def read_table(path: str) -> pd.DataFrame:
	"""The first sheet of an XLSX or a CSV (UTF-8, UTF-8 with BOM or GB18030) as strings, blank rows kept
	so that row numbers match the sheet."""
	name = os.path.basename(path)
	suffix = Path(path).suffix.lower()
	if suffix not in SUPPORTED_SUFFIXES:
		frappe.throw(_("Only CSV and XLSX files can be imported, not {0}.").format(escape_html(name)))
	try:
		if suffix in (".xlsx", ".xlsm"):
			df = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
		else:
			try:
				df = pd.read_csv(
					path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig"
				)
			except UnicodeDecodeError:
				df = pd.read_csv(
					path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="gb18030"
				)
	except pd.errors.EmptyDataError:
		frappe.throw(_("The file {0} is empty.").format(escape_html(name)))
	except (pd.errors.ParserError, ValueError, OSError) as e:
		frappe.throw(_("The file {0} could not be read: {1}").format(escape_html(name), escape_html(str(e))))
	df.columns = [str(c) for c in df.columns]
	return df


def count_data_rows(path: str) -> int:
	"""Data rows of a file without parsing it (lines after the header; XLSX: the sheet's dimension)."""
	if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
		from openpyxl import load_workbook

		workbook = load_workbook(path, read_only=True)
		try:
			return max((workbook.worksheets[0].max_row or 1) - 1, 0)
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


def header_aliases(doctype: str) -> dict[str, str]:
	"""Headers accepted besides the fieldnames: field labels in English and in the user's language."""
	meta = frappe.get_meta(doctype)
	aliases = {}
	for column in importing.SPECS[doctype].columns:
		label = meta.get_label(column)
		aliases[label] = column
		aliases[_(label)] = column
	return aliases


def select_defaults(doctype: str) -> dict[str, str]:
	"""Defaults of the Select fields, applied to blank cells as a new document would get them."""
	meta = frappe.get_meta(doctype)
	return {
		df.fieldname: df.default
		for df in meta.fields
		if df.fieldname in importing.SPECS[doctype].columns and df.fieldtype == "Select" and df.default
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


def existing_links(wanted: dict[str, set[str]]) -> dict[str, set[str]]:
	"""The stored names among the wanted values of each link target DocType."""
	return {target: _stored(target, "name", sorted(values)) for target, values in wanted.items()}


def _present(doctype: str, chunk: pd.DataFrame) -> np.ndarray:
	"""Which rows of a chunk are already stored: by name, or (DocTypes with an external reference) by a
	record that carries the same reference under another name. Case-insensitive, like the database."""
	stored = {n.lower() for n in _stored(doctype, "name", chunk["name"].tolist(), size=len(chunk))}
	present = chunk["name"].str.lower().isin(stored).to_numpy(copy=True)  # written to below
	if importing.SPECS[doctype].naming == "reference":
		references = chunk["reference"].dropna()
		references = references[references != ""].unique().tolist()
		if references:
			known = {r.lower() for r in _stored(doctype, "reference", references, size=len(chunk))}
			present |= chunk["reference"].fillna("").str.lower().isin(known).to_numpy()
	return present


# --- writing -----------------------------------------------------------------------------------------

STANDARD_FIELDS = ("name", "creation", "modified", "modified_by", "owner", "docstatus", "idx")


def _db_columns(spec: importing.Spec, frame: pd.DataFrame) -> list[list]:
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


def _insert(doctype: str, spec: importing.Spec, chunk: pd.DataFrame, timestamp: str, user: str) -> int:
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


def import_file(
	doctype: str,
	file_path_or_file_url: str,
	*,
	dry_run: bool = False,
	publish_progress: bool = True,
	on_progress: Callable[[int, int], None] | None = None,
) -> dict:
	"""Validate every row of a CSV/XLSX file and bulk-insert the new ones, or write nothing.

	Raises :class:`PostLoanImportError` listing every bad row (row number as in the sheet, column,
	reason). Rows whose document already exists (same deterministic name, or same ``reference``) are
	counted as ``already_present`` and left unchanged. Never commits. ``dry_run`` validates and counts
	without writing. ``on_progress(done, total)`` is called after each inserted chunk.

	Returns ``{"doctype", "rows", "inserted", "already_present", "dry_run"}`` (``new`` too on a dry run).
	"""
	_check_doctype(doctype)
	spec = importing.SPECS[doctype]
	path = resolve_path(file_path_or_file_url)
	raw = read_table(path)
	aliases = header_aliases(doctype)
	known = existing_links(importing.link_values(doctype, raw, aliases))
	clean, errors = importing.validate_frame(
		doctype, raw, known, getdate(nowdate()), aliases=aliases, defaults=select_defaults(doctype)
	)
	n_rows = len(clean)
	if errors:
		_throw_refused(doctype, os.path.basename(path), n_rows, errors)

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


# --- background jobs ---------------------------------------------------------------------------------


def enqueue_import(doctype: str, file_path_or_file_url: str, *, dry_run: bool = False) -> dict:
	"""Run :func:`import_file` in the long queue (the job commits on success and rolls back on error).

	The user is told the outcome with the realtime event ``postloan_import`` ({status, result or message}).
	"""
	_check_doctype(doctype)
	path = resolve_path(file_path_or_file_url)
	rows = count_data_rows(path)
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
	)
	return {"queued": True, "already_queued": job is None, "job_id": job_id, "rows": rows, "dry_run": dry_run}


def run_import_job(doctype: str, file_path: str, dry_run: bool = False) -> dict:
	"""Background job body: import, then tell the user (realtime event ``postloan_import``)."""
	try:
		result = import_file(doctype, file_path, dry_run=dry_run)
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
