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
