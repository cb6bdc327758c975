"""Loading post-loan data: the bulk loader and the data import wizard (PL Data Import)."""

import frappe
from frappe import _

from postloan_performance.services.access import (
	require_data_import,
)


@frappe.whitelist()
def import_post_loan_data(
	doctype: str,
	file_url: str,
	dry_run: bool = False,
	date_order: str | None = None,
	sheet: str | None = None,
) -> dict:
	"""Bulk-load a CSV/XLSX File (public or private) into one of the post-loan data DocTypes.

	Every row is validated first; a file with any problem in its header or rows is refused whole (the
	message counts the problems, summarises them per column and lists each bad row with its number and
	reason) and nothing is written. Links may be given by the keys the lender has (staff number, e-mail,
	loan number, case number). Files over 100,000 rows run as a background job (the answer then says
	``queued``). Re-loading a file inserts nothing new. ``date_order``: Year-Month-Day, Day-Month-Year or
	Month-Day-Year (blank: PL Post-Loan Settings); ``sheet``: the workbook's sheet (blank: the first).
	The desk's wizard for the same is a PL Data Import.
	"""
	from postloan_performance.services import import_files, post_loan_data

	if doctype not in post_loan_data.POST_LOAN_DOCTYPES:
		frappe.throw(
			_("{0} cannot be loaded with the post-loan bulk loader; choose one of: {1}").format(
				frappe.utils.escape_html(_(doctype or "")),
				", ".join(_(d) for d in post_loan_data.POST_LOAN_DOCTYPES),
			)
		)
	require_data_import()
	path = import_files.readable_file_path(file_url)
	large = post_loan_data.LARGE_FILE_ROWS
	if post_loan_data.count_data_rows(path, sheet, stop_after=large) > large:
		return post_loan_data.enqueue_import(
			doctype, path, dry_run=dry_run, date_order=date_order, sheet=sheet
		)
	return post_loan_data.import_file(doctype, path, dry_run=dry_run, date_order=date_order, sheet=sheet)


# ---------------------------------------------------------------- data import wizard (PL Data Import)
def _data_import(name: str, ptype: str = "write"):
	require_data_import()
	doc = frappe.get_doc("PL Data Import", name)
	doc.check_permission(ptype)
	return doc


@frappe.whitelist(methods=["POST"])
def check_data_import(data_import: str) -> dict:
	"""Check a PL Data Import's file without writing (a dry run): counts new / already present / rejected,
	the first rows as they will be stored, or every problem with the rejected rows as a CSV."""
	from postloan_performance.services import data_import as service

	return service.check(_data_import(data_import))


@frappe.whitelist(methods=["POST"])
def start_data_import(data_import: str) -> dict:
	"""Import a checked PL Data Import's file (in the background when it is large)."""
	from postloan_performance.services import data_import as service

	return service.start(_data_import(data_import))


@frappe.whitelist()
def data_import_status(data_import: str) -> dict:
	"""Status, counts and progress of a PL Data Import."""
	from postloan_performance.services import data_import as service

	return service.status(_data_import(data_import, "read"))


@frappe.whitelist()
def data_import_sheets(data_import: str) -> list[str]:
	"""The sheets of a PL Data Import's workbook (none for a CSV)."""
	from postloan_performance.services import data_import as service

	return service.sheets(_data_import(data_import, "read"))


@frappe.whitelist()
def download_import_template(doctype: str, file_format: str = "xlsx", date_order: str | None = None) -> None:
	"""A template for a post-loan data type: English and Chinese headers and one example row (CSV or XLSX;
	the workbook also lists every column with what it accepts)."""
	from postloan_performance.services import data_import as service

	require_data_import()
	file_name, content = service.template(doctype, file_format, date_order)
	frappe.response["filename"] = file_name
	frappe.response["filecontent"] = content
	frappe.response["type"] = "binary"
