"""Whitelisted endpoints. Each one is type-annotated and checks permissions before it acts."""

import frappe
from frappe import _

COMPUTE_ROLES = ("PL Performance Manager", "System Manager")


@frappe.whitelist(methods=["POST"])
def compute_appraisal(appraisal: str) -> dict:
	"""Recompute one draft appraisal's KPI lines from post-loan data and score them."""
	from postloan_performance.services.compute import compute_appraisals

	frappe.only_for(COMPUTE_ROLES)
	doc = frappe.get_doc("PL Appraisal", appraisal)
	doc.check_permission("write")
	if doc.docstatus != 0:
		frappe.throw(_("Only draft appraisals can be recomputed."), title=_("Not Allowed"))
	result = compute_appraisals([appraisal])
	return dict(result)


@frappe.whitelist()
def import_post_loan_data(doctype: str, file_url: str, dry_run: bool = False) -> dict:
	"""Bulk-load a CSV/XLSX File (public or private) into one of the post-loan data DocTypes.

	Every row is validated first; a file with any bad row is refused whole (the message lists each bad
	row with its number and reason) and nothing is written. Files over 100,000 rows run as a background
	job (the answer then says ``queued``). Re-loading a file inserts nothing new.
	"""
	from postloan_performance.services import postloan_data

	if doctype not in postloan_data.POST_LOAN_DOCTYPES:
		frappe.throw(
			_("{0} cannot be loaded with the post-loan bulk loader; choose one of: {1}").format(
				frappe.utils.escape_html(_(doctype or "")),
				", ".join(_(d) for d in postloan_data.POST_LOAN_DOCTYPES),
			)
		)
	frappe.has_permission(doctype, "import", throw=True)
	frappe.has_permission(doctype, "create", throw=True)
	path = _readable_file_path(file_url)
	if postloan_data.count_data_rows(path) > postloan_data.LARGE_FILE_ROWS:
		return postloan_data.enqueue_import(doctype, path, dry_run=dry_run)
	return postloan_data.import_file(doctype, path, dry_run=dry_run)


def _readable_file_path(file_url: str) -> str:
	"""The local path of a File the session user may read, found by its file_url."""
	from postloan_performance.services.postloan_data import resolve_path

	names = frappe.get_all("File", filters={"file_url": file_url, "is_folder": 0}, pluck="name")
	if not names:
		frappe.throw(
			_("File {0} was not found.").format(frappe.utils.escape_html(file_url)), frappe.DoesNotExistError
		)
	for name in names:
		file_doc = frappe.get_doc("File", name)
		if file_doc.has_permission("read"):
			return resolve_path(file_doc.get_full_path())
	frappe.throw(
		_("You are not allowed to read the file {0}.").format(frappe.utils.escape_html(file_url)),
		frappe.PermissionError,
	)
