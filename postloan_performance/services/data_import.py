"""The data loading wizard: a PL Data Import takes one post-loan data file through check and import.

Draft → *Check* → Checked (counts new / already present, the first rows as they will be stored) or Refused
(every problem of the header and the rows, a summary per column, the rejected rows as a CSV) → *Import* →
Imported (or Refused when the data changed since the check, or Failed). Files over
:data:`BACKGROUND_ROWS` rows are checked and imported on the long queue (Queued while they wait) with
progress (:func:`status`, realtime event ``pl_data_import_progress``); smaller ones in the request.

The rows go through the bulk loader (``services/post_loan_data.py``): same rules, same all-or-nothing, same
speed. Nothing here commits: the request or the background job does, after the import's status and
counts are set. A failure inside the import rolls back to a savepoint so that the Failed status stays.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pandas as pd

import frappe
from frappe import _
from frappe.utils import escape_html, now_datetime

from postloan_performance.engine import row_rules
from postloan_performance.services import import_files, import_messages, post_loan_data
from postloan_performance.services.locks import acquire, is_running, refuse

DOCTYPE = "PL Data Import"
BACKGROUND_ROWS = 20_000  # larger files are checked and imported as background jobs
PREVIEW_ROWS = 20  # rows shown as they will be stored
SCREEN_LINES = 50  # problem lines shown; the rejected-rows CSV has them all
PROGRESS_EVENT = "pl_data_import_progress"
SAVEPOINT = "pl_data_import"
CHECKABLE = ("Draft", "Checked", "Refused", "Failed")
RUNNING = ("Queued", "Importing")


# --- steps --------------------------------------------------------------------------------------------


def check(doc) -> dict:
	"""Check the file without writing; in the background when it is large."""
	if doc.status not in CHECKABLE:
		frappe.throw(_("This import is {0}; it cannot be checked again.").format(_(doc.status)))
	return _run_or_enqueue(doc, "check")


def start(doc) -> dict:
	"""Import a checked file (checked again on the way: nothing is written while any row is bad)."""
	if doc.status != "Checked":
		frappe.throw(_("Check the file first: only a checked import can be started."), title=_("Not Checked"))
	return _run_or_enqueue(doc, "import")


def _run_or_enqueue(doc, step: str) -> dict:
	if not doc.import_file:
		frappe.throw(_("Attach the file to load first."), title=_("No File"))
	path = import_files.readable_file_path(doc.import_file)
	rows = post_loan_data.count_data_rows(path, doc.sheet or None)
	if rows <= BACKGROUND_ROWS:
		return run(doc.name, step)
	if is_running("import", doc.import_type):
		refuse("import", doc.import_type)
	_set(doc.name, status="Queued", imported_by=frappe.session.user)
	_progress(doc.name, step, 0, rows)
	frappe.enqueue(
		"postloan_performance.services.data_import.run",
		queue="long",
		timeout=max(1500, 600 + rows // 300),
		job_id=f"pl_data_import::{doc.name}",
		deduplicate=True,
		enqueue_after_commit=True,
		now=bool(frappe.flags.in_test),  # tests run the job body in-process
		data_import=doc.name,
		step=step,
	)
	return status(frappe.get_doc(DOCTYPE, doc.name))


def run(data_import: str, step: str) -> dict:
	"""Check (``step`` "check") or import ("import") a PL Data Import: the request's or the job's body.

	Records the outcome on the document and returns :func:`status`; raises nothing a user caused.
	"""
	doc = frappe.get_doc(DOCTYPE, data_import)
	# one check or import of a DocType at a time, with the bulk loader's imports too (services/locks.py);
	# the status is read again under the lock: a second click finds the file imported already
	if not acquire("import", doc.import_type):
		refuse("import", doc.import_type)
	doc = frappe.get_doc(DOCTYPE, data_import, for_update=True)
	if step == "import" and doc.status not in ("Checked", "Queued"):
		frappe.throw(
			_("This import is {0}; it cannot be started again.").format(_(doc.status)), title=_("Not Checked")
		)
	started = time.monotonic()
	values = {"imported_by": frappe.session.user}
	if step == "import":
		values.update(status="Importing", started_on=now_datetime())
	_set(doc.name, **values)
	_progress(doc.name, step, 0, 0)

	def progress(done: int, total: int) -> None:
		_progress(doc.name, step, done, total)

	frappe.db.savepoint(SAVEPOINT)
	try:
		path = import_files.readable_file_path(doc.import_file)
		checked = post_loan_data.check_file(
			doc.import_type, path, date_order=doc.date_order or None, sheet=doc.sheet or None
		)
		if checked.errors:
			_refuse(doc, checked)
		elif step == "check":
			result = post_loan_data.write_rows(
				checked, dry_run=True, publish_progress=False, on_progress=progress
			)
			_set(
				doc.name,
				status="Checked",
				checked_on=now_datetime(),
				**_counts(checked, new=result["new"], present=result["already_present"]),
				preview=json.dumps(post_loan_data.preview_rows(checked, PREVIEW_ROWS), default=str),
			)
		else:
			result = post_loan_data.write_rows(checked, publish_progress=False, on_progress=progress)
			_set(
				doc.name,
				status="Imported",
				finished_on=now_datetime(),
				seconds=round(time.monotonic() - started, 1),
				inserted_rows=result["inserted"],
				**_counts(checked, new=result["inserted"], present=result["already_present"]),
			)
	except (frappe.ValidationError, frappe.PermissionError) as e:  # a file that cannot be read or used
		frappe.db.rollback(save_point=SAVEPOINT)
		frappe.clear_last_message()
		_set(
			doc.name,
			status="Refused",
			error_message=frappe.utils.strip_html(str(e)),
			finished_on=now_datetime(),
		)
	except Exception as e:
		frappe.db.rollback(save_point=SAVEPOINT)
		frappe.log_error(title=_("Post-loan data import {0} failed").format(doc.name))
		_set(doc.name, status="Failed", error_message=str(e)[:1000], finished_on=now_datetime())
	_progress(doc.name, step, 1, 1)
	return status(frappe.get_doc(DOCTYPE, doc.name))


def _counts(checked, new: int = 0, present: int = 0) -> dict:
	return {
		"total_rows": checked.rows,
		"new_rows": new,
		"already_present": present,
		"rejected_rows": checked.rejected_rows,
		"problem_count": len(checked.errors),
	}


def _refuse(doc, checked) -> None:
	"""Record every problem: the counts, the capped lines for the screen and the rejected rows as a CSV."""
	lines = post_loan_data.format_errors(checked.doctype, checked.errors, limit=SCREEN_LINES)
	problems = {
		"headline": frappe.utils.strip_html(post_loan_data.refusal_headline(checked)),
		"summary": post_loan_data.summary_lines(checked.doctype, checked.errors),
		"lines": lines,
	}
	_set(
		doc.name,
		status="Refused",
		finished_on=now_datetime(),
		**_counts(checked),
		problems=json.dumps(problems, ensure_ascii=False),
		rejected_file=_save_rejected(doc, checked),
	)


def _save_rejected(doc, checked) -> str:
	"""The rejected rows as a private File attached to the import (replacing an earlier one)."""
	for old in frappe.get_all(
		"File",
		filters={
			"attached_to_doctype": DOCTYPE,
			"attached_to_name": doc.name,
			"attached_to_field": "rejected_file",
		},
		pluck="name",
	):
		frappe.delete_doc("File", old, ignore_permissions=True)
	stem = Path(checked.file_name).stem
	file_doc = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"{stem}-rejected-rows.csv",
			"attached_to_doctype": DOCTYPE,
			"attached_to_name": doc.name,
			"attached_to_field": "rejected_file",
			"is_private": 1,
			"content": import_messages.rejected_csv(checked),
		}
	)
	file_doc.insert(ignore_permissions=True)
	return file_doc.file_url


# a check's or load's counts and the rest of its result: a reset puts 0 in the numbers, None in the rest
COUNT_FIELDS = (
	"total_rows",
	"new_rows",
	"already_present",
	"rejected_rows",
	"problem_count",
	"inserted_rows",
)
NUMBER_FIELDS = (*COUNT_FIELDS, "seconds")
RESULT_FIELDS = (
	*NUMBER_FIELDS,
	"checked_on",
	"started_on",
	"finished_on",
	"rejected_file",
	"error_message",
	"problems",
	"preview",
)


def reset_values() -> dict:
	"""The result fields of an import whose file or options changed: back to Draft."""
	values = {field: 0 if field in NUMBER_FIELDS else None for field in RESULT_FIELDS}
	values["status"] = "Draft"
	return values


def _set(name: str, **values) -> None:
	"""Write result fields (not through save: they are read-only in the form); the open form refreshes."""
	frappe.db.set_value(DOCTYPE, name, values)
	frappe.publish_realtime("doc_update", {"doctype": DOCTYPE, "name": name}, doctype=DOCTYPE, docname=name)


# --- progress and status -----------------------------------------------------------------------------


def _progress_key(name: str) -> str:
	return f"pl_data_import_progress::{name}"


def _progress(name: str, step: str, done: int, total: int) -> None:
	"""Progress outside the transaction (the import's own writes are not visible until it commits)."""
	data = {
		"data_import": name,
		"step": step,
		"done": done,
		"total": total,
		"percent": round(done * 100 / total, 1) if total else 0,
	}
	frappe.cache.set_value(_progress_key(name), data, expires_in_sec=6 * 3600)
	frappe.publish_realtime(PROGRESS_EVENT, data, doctype=DOCTYPE, docname=name)


def status(doc) -> dict:
	"""The import's status, counts and last progress."""
	result = {"name": doc.name, "status": doc.status}
	for field in COUNT_FIELDS:
		result[field] = doc.get(field) or 0
	result["rejected_file"] = doc.rejected_file
	result["error_message"] = doc.error_message
	result["progress"] = frappe.cache.get_value(_progress_key(doc.name), expires=True)
	return result


def sheets(doc) -> list[str]:
	if not doc.import_file or Path(doc.import_file).suffix.lower() not in import_files.EXCEL_SUFFIXES:
		return []
	return import_files.sheet_names(import_files.readable_file_path(doc.import_file))


# --- templates ---------------------------------------------------------------------------------------


def template(doctype: str, file_format: str = "xlsx", date_order: str | None = None) -> tuple[str, bytes]:
	"""``(file name, content)`` of a template: English / Chinese headers and one example row; an XLSX also
	has a second sheet describing every column (required or not, what it accepts)."""
	if doctype not in row_rules.DOCTYPES:
		frappe.throw(
			_("{0} cannot be loaded with the post-loan bulk loader; choose one of: {1}").format(
				escape_html(_(doctype or "")), ", ".join(_(d) for d in row_rules.DOCTYPES)
			)
		)
	if file_format not in ("csv", "xlsx"):
		frappe.throw(_("Templates are CSV or XLSX files, not {0}.").format(escape_html(file_format)))
	order = post_loan_data.date_order_of(date_order)
	headers = import_files.bilingual_headers(doctype)
	company = frappe.defaults.get_user_default("Company") or frappe.db.get_single_value(
		"Global Defaults", "default_company"
	)
	example = row_rules.example_row(doctype, order, company=company)
	frame = pd.DataFrame([[example[c] for c in headers]], columns=list(headers.values()), dtype=object)
	base = doctype.lower().replace(" ", "-") + "-template"
	if file_format == "csv":
		return f"{base}.csv", frame.to_csv(index=False).encode("utf-8-sig")
	return f"{base}.xlsx", _workbook(doctype, frame, order)


def _workbook(doctype: str, frame: pd.DataFrame, order: str) -> bytes:
	from openpyxl import Workbook
	from openpyxl.styles import Font

	spec = row_rules.SPECS[doctype]
	workbook = Workbook()
	data = workbook.active
	data.title = _("Data")
	data.append(list(frame.columns))
	data.append(list(frame.iloc[0]))
	for position, column in enumerate(spec.columns, start=1):
		cell = data.cell(row=1, column=position)
		cell.font = Font(bold=column in spec.required)
		data.column_dimensions[cell.column_letter].width = max(14, min(40, len(str(cell.value)) + 4))
	for row in data.iter_rows(min_row=2, max_row=2):
		for cell in row:
			cell.number_format = "@"  # text: the loader reads what is written
	about = workbook.create_sheet(_("Columns"))
	about.append([_("Header"), _("Field"), _("Required"), _("Accepts")])
	for cell in about[1]:
		cell.font = Font(bold=True)
	for column, header in zip(spec.columns, frame.columns, strict=True):
		about.append(
			[
				header,
				column,
				_("Yes") if column in spec.required else _("No"),
				column_help(doctype, column, order),
			]
		)
	for letter, width in (("A", 36), ("B", 22), ("C", 10), ("D", 80)):
		about.column_dimensions[letter].width = width
	buffer = io.BytesIO()
	workbook.save(buffer)
	return buffer.getvalue()


def column_help(doctype: str, column: str, order: str = "ymd") -> str:
	"""What a column accepts, in words (the template's Columns sheet)."""
	spec = row_rules.SPECS[doctype]
	dates = {"ymd": "YYYY-MM-DD", "dmy": "DD-MM-YYYY", "mdy": "MM-DD-YYYY"}[order]
	if column in spec.dates:
		return _("A date: {0} or YYYY/M/D").format(dates)
	if column in spec.datetimes:
		return _("A date and time: {0} HH:MM:SS (or a date)").format(dates)
	if column in spec.numbers:
		rule = spec.numbers[column]
		if rule.integer and rule.max is not None:
			return _("A whole number from {0} to {1}").format(int(rule.min or 0), int(rule.max))
		if rule.integer:
			return _("A whole number, 0 or more")
		return _("An amount, 0 or more; thousands separators allowed (1,234.50)")
	if column in spec.options:
		return _("One of: {0}").format(", ".join(spec.options[column]))
	if column in spec.links:
		target = spec.links[column]
		keys = [_("ID")] + [
			_(frappe.get_meta(target).get_label(k)) for k in row_rules.LINK_KEYS.get(target, ())
		]
		return _("A {0}, by {1}").format(_(target), ", ".join(keys))
	if column == row_rules.natural_key_column(doctype):
		return _("The record's id in your system (a column headed name or id is read as this one)")
	return _("Text, up to {0} characters").format(row_rules.MAX_TEXT_LENGTH)
