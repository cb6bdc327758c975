"""The scheme effect evaluation's stored figures."""

import frappe
from frappe import _

from postloan_performance.services.access import (
	EXECUTIVE_ROLE,
	MANAGER_ROLES,
	require_roles,
)

# ---------------------------------------------------------------- scheme effect evaluation
SCHEME_EFFECT_ROLES = (*sorted(MANAGER_ROLES), EXECUTIVE_ROLE)  # the report's roles


@frappe.whitelist(methods=["POST"])
def refresh_scheme_evaluation(cycle: str) -> dict:
	"""Recompute the stored metric values of the Scheme Effect Evaluation for a cycle, on the long queue
	(for those who may read the report)."""
	from postloan_performance.services.evaluation import enqueue_refresh

	require_roles(*SCHEME_EFFECT_ROLES)
	frappe.get_doc("PL Review Cycle", cycle).check_permission("read")
	job_id = enqueue_refresh(cycle)
	if not job_id:
		frappe.throw(_("The background queue is not reachable; try again later."), title=_("Not Queued"))
	frappe.msgprint(_("Computing the scheme effect metric values in the background."), alert=True)
	return {"queued": True, "job_id": job_id}
