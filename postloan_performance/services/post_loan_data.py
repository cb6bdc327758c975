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

import hashlib
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

import frappe
from frappe import _
from frappe.utils import escape_html, getdate, now, nowdate

from postloan_performance.engine import row_rules
from postloan_performance.services import sanitize
from postloan_performance.services.bulk import insert_many
from postloan_performance.services.import_files import (
	_present,
	count_data_rows,
	date_order_of,
	existing_links,
	header_aliases,
	read_table,
	resolve_path,
	select_defaults,
)
from postloan_performance.services.import_messages import (
	_labels,
	error_line,
	format_errors,
	refusal_headline,
	summary_lines,
)
from postloan_performance.services.locks import kill_point, step_lock

POST_LOAN_DOCTYPES: tuple[str, ...] = row_rules.DOCTYPES
INSERT_CHUNK_SIZE = 10_000  # rows per INSERT statement
LARGE_FILE_ROWS = 100_000  # the whitelisted method runs larger files as a background job


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
		"postloan_performance.services.post_loan_data.run_import_job",
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
