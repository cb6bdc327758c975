"""Review cycles: recomputing an appraisal, the cycle steps, calibration, grade overrides, 360 feedback."""

import frappe
from frappe import _

from postloan_performance.services.access import (
	EXECUTIVE_ROLE,
	MANAGER_ROLES,
	require_roles,
)
from postloan_performance.services.cycle_steps import compute_cycle_job  # noqa: F401 (a queued job's path)

COMPUTE_ROLES = tuple(sorted(MANAGER_ROLES))


@frappe.whitelist(methods=["POST"])
def compute_appraisal(appraisal: str) -> dict:
	"""Recompute one draft appraisal's KPI lines from post-loan data and score them."""
	from postloan_performance.services.compute import compute_appraisals
	from postloan_performance.services.evaluation import enqueue_refresh

	require_roles(*COMPUTE_ROLES)
	doc = frappe.get_doc("PL Appraisal", appraisal)
	doc.check_permission("write")
	if doc.docstatus != 0:
		frappe.throw(_("Only draft appraisals can be recomputed."), title=_("Not Allowed"))
	from postloan_performance.services.cycle import locked_cycle

	locked_cycle(doc.review_cycle)  # not while a step of its cycle runs
	result = compute_appraisals([appraisal])
	enqueue_refresh(doc.review_cycle)  # the Scheme Effect Evaluation's stored metric values
	return dict(result)


# ---------------------------------------------------------------- review cycle steps
CYCLE_ROLES = tuple(sorted(MANAGER_ROLES))


def _cycle_for_step(cycle: str):
	require_roles(*CYCLE_ROLES)
	doc = frappe.get_doc("PL Review Cycle", cycle)
	doc.check_permission("write")
	return doc


@frappe.whitelist(methods=["POST"])
def cycle_step(cycle: str, step: str) -> dict:
	"""Run one step of a review cycle: open, create_appraisals, start_self_review, start_scoring,
	compute, start_calibration, approve_all, publish, close. The desk calls the PL Review Cycle's own
	methods; this path stays for older callers."""
	from postloan_performance.services.cycle_steps import run_step

	_cycle_for_step(cycle)
	return run_step(cycle, step)


@frappe.whitelist()
def latest_review_cycle(company: str | None = None) -> str | None:
	"""The review cycle a report opens on: the latest (by period end) that has started (is not Draft) and
	that the user may read, in `company` or else the user's default company when it has one; trial
	cycles only for those who see trial results. None when there is none."""
	from postloan_performance.services.access import sees_trial_results

	if not frappe.has_permission("PL Review Cycle", "read"):
		return None
	filters = {"status": ("!=", "Draft")}
	if not sees_trial_results():
		filters["is_trial"] = 0
	# the asked company, else the user's default one first and then any company
	scopes = (
		[company] if company else [c for c in (frappe.defaults.get_user_default("Company"),) if c] + [None]
	)
	for scope in scopes:
		rows = frappe.get_list(
			"PL Review Cycle",
			filters={**filters, **({"company": scope} if scope else {})},
			order_by="period_end desc, period_start desc, creation desc",
			limit_page_length=1,
			pluck="name",
		)
		if rows:
			return rows[0]
	return None


@frappe.whitelist()
def calibration_view(cycle: str) -> list[dict]:
	"""Per layer and grade: target share, actual share and deviation."""
	from postloan_performance.services.cycle import calibration_view as view

	require_roles(*CYCLE_ROLES, EXECUTIVE_ROLE)
	frappe.get_doc("PL Review Cycle", cycle).check_permission("read")
	return view(cycle)


@frappe.whitelist(methods=["POST"])
def override_grade(appraisal: str, grade: str, reason: str) -> dict:
	"""Calibrator's override of an appraisal's grade; the reason is required."""
	from postloan_performance.services.cycle import override_grade as override

	require_roles(*CYCLE_ROLES)
	frappe.get_doc("PL Appraisal", appraisal).check_permission("write")
	return override(appraisal, grade, reason)


@frappe.whitelist(methods=["POST"])
def request_feedback(cycle: str) -> dict:
	"""Send the 360 feedback requests of an Open or Scoring review cycle (safe to run again)."""
	from postloan_performance.services.feedback import request_feedback as request

	require_roles(*COMPUTE_ROLES)
	frappe.get_doc("PL Review Cycle", cycle).check_permission("write")
	return request(cycle)


@frappe.whitelist()
def feedback_summary(appraisal: str) -> dict:
	"""The aggregated 360 feedback of an appraisal: combined rating per criterion, never who rated."""
	from postloan_performance.services.feedback import feedback_summary as summary

	return summary(appraisal)
