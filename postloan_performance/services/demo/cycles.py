"""Running the demo's review cycles through the real cycle steps and workflow actions."""

from __future__ import annotations

import json

import numpy as np

import frappe
from frappe import _
from frappe.model.workflow import apply_workflow
from frappe.utils import add_days, now_datetime

from postloan_performance.engine.names import LAYERS
from postloan_performance.services import cycle as cycle_service
from postloan_performance.services.bulk import bulk_update, insert_versions
from postloan_performance.services.compute import compute_appraisals
from postloan_performance.services.demo.plan import (
	APPEAL_REASONS,
	DEMO_COMPANY,
	MANAGER_COMMENTS,
	SELF_ASSESSMENTS,
	TEAM_PREFIX,
)
from postloan_performance.services.demo.ratings import _insert_feedback, _insert_surveys


# ---------------------------------------------------------------- one cycle
def _run_cycle(ctx, spec, index: int, previous: str | None, progress) -> dict:
	ds = ctx.ds
	cycle = frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": spec.cycle_name,
			"company": DEMO_COMPANY,
			"is_trial": spec.is_trial,
			"compare_with": previous,
			"period_start": spec.period_start,
			"period_end": spec.period_end,
			"baseline_start": spec.baseline_start,
			"baseline_end": spec.baseline_end,
			"self_review_deadline": add_days(spec.period_end, 10),
			"feedback_deadline": add_days(spec.period_end, 12),
			"manager_review_deadline": add_days(spec.period_end, 20),
			"appeal_window_days": 10,
			"templates": [{"layer": layer, "template": f"{layer} - Default"} for layer in LAYERS],
			"teams": [{"pl_team": t} for t in ds.teams["team_name"]],
		}
	).insert()
	name = cycle.name
	cycle_service.open_cycle(name)
	cycle_service.create_appraisals(name)
	cycle_service.start_self_review(name)
	appraisals = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": name, "docstatus": 0},
		fields=["name", "employee", "employee_name", "pl_team", "template"],
	)
	appraisals.sort(key=lambda a: ctx.key_of[a.employee])
	if spec.final_status != "Open":  # the survey follows the reviews
		_insert_surveys(ctx, name, index, appraisals)
	_insert_feedback(ctx, cycle, index, appraisals)
	progress(_("{0}: appraisals, 360 feedback and survey").format(name))

	_user_reviews(ctx, name, index)
	rng = np.random.default_rng([int(ctx.seed) % (1 << 64), 200 + index])
	if spec.final_status == "Open":
		# reviews under way: most self reviews done, about half of the manager reviews
		pending = _names(name, "Self Review")
		_advance(name, "Self Review", "Manager Review", [n for n in pending if rng.random() < 0.7])
		in_review = _names(name, "Manager Review")
		_advance(name, "Manager Review", "Calibration", [n for n in in_review if rng.random() < 0.5])
		progress(_("{0}: reviews under way").format(name))
		return {"cycle": name, "status": frappe.db.get_value("PL Review Cycle", name, "status")}

	# the scheme owner skips the reviews nobody wrote (the set-wise form of "Skip … Review")
	_advance(name, "Self Review", "Manager Review", _names(name, "Self Review"))
	_advance(name, "Manager Review", "Calibration", _names(name, "Manager Review"))
	cycle_service.start_scoring(name)
	compute_appraisals(review_cycle=name)
	cycle_service.start_calibration(name)
	if not spec.is_trial:
		_override_one(name)
	cycle_service.approve_all(name)
	cycle_service.publish_cycle(name)
	if not spec.is_trial:
		_after_publication(ctx, name, final=spec.final_status == "Closed")
	if spec.final_status == "Closed":
		cycle_service.close_cycle(name)
	progress(_("{0}: scored, calibrated and published").format(name))
	return {"cycle": name, "status": frappe.db.get_value("PL Review Cycle", name, "status")}


def _names(cycle: str, status: str) -> list[str]:
	return frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle, "docstatus": 0, "status": status},
		pluck="name",
		order_by="name asc",
	)


def _advance(cycle: str, from_status: str, to_status: str, names: list[str]) -> int:
	"""Move appraisals on in the workflow set-wise, with their audit trail (as start_self_review)."""
	if not names:
		return 0
	now, user = now_datetime(), frappe.session.user
	bulk_update(
		"PL Appraisal", {n: {"status": to_status, "modified": now, "modified_by": user} for n in names}
	)
	insert_versions("PL Appraisal", {n: {"changed": [["status", from_status, to_status]]} for n in names})
	return len(names)


def _workflow(user: str, appraisal: str, action: str, **values):
	"""One real workflow action by a demo user (values are saved first, as the form would)."""
	manager = frappe.session.user
	frappe.set_user(user)
	try:
		if values:
			doc = frappe.get_doc("PL Appraisal", appraisal)
			doc.update(values)
			doc.save()
		apply_workflow(json.dumps({"doctype": "PL Appraisal", "name": appraisal}), action)
	finally:
		frappe.set_user(manager)


def _appraisal_of(cycle: str, employee: str) -> str | None:
	return frappe.db.get_value(
		"PL Appraisal", {"review_cycle": cycle, "employee": employee, "docstatus": ("<", 2)}, "name"
	)


def _user_reviews(ctx, cycle: str, index: int):
	"""The people with a user write their self-assessment; their leads write the manager review."""
	people = ctx.people
	for i, staff in enumerate(people.staff):
		appraisal = _appraisal_of(cycle, staff.employee)
		text = SELF_ASSESSMENTS[(i + index) % len(SELF_ASSESSMENTS)]
		_workflow(staff.user, appraisal, "Submit Self Review", self_assessment=text)
		_workflow(
			people.leads[staff.team],
			appraisal,
			"Submit Manager Review",
			manager_comment=MANAGER_COMMENTS[(i + index) % len(MANAGER_COMMENTS)],
		)
	for i, user in enumerate(people.leads.values()):
		employee = frappe.db.get_value("Employee", {"user_id": user}, "name")
		appraisal = _appraisal_of(cycle, employee)
		text = SELF_ASSESSMENTS[(i + index + 2) % len(SELF_ASSESSMENTS)]
		_workflow(user, appraisal, "Submit Self Review", self_assessment=text)


def _override_one(cycle: str):
	"""The calibrator lifts one collector just below the A band, with the reason."""
	candidates = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle, "layer": "Collection", "calibrated_grade": "B"},
		fields=["name"],
		order_by="total_score desc, employee_name asc",
		limit=1,
	)
	if candidates:
		cycle_service.override_grade(
			candidates[0].name,
			"A",
			_("Took over the hardest portfolio of the team in the middle of the quarter."),
		)


def _after_publication(ctx, cycle: str, final: bool):
	"""Acknowledgements and appeals by the people with a user; the scheme owner decides some appeals.

	In a cycle that will be closed, every appeal is decided (one upheld, one rejected); in the latest
	cycle one appeal is under review and one is still open.
	"""
	people = ctx.people
	staff = people.staff
	leads = list(people.leads.values())
	collection_lead = people.leads[f"{TEAM_PREFIX}Collection 01"]
	lead_employee = frappe.db.get_value("Employee", {"user_id": collection_lead}, "name")
	if final:
		acknowledging = [(staff[0].user, staff[0].employee), (leads[0], None)]
		appealing = [(staff[1], "Rejected"), (staff[2], "Upheld")]
	else:
		acknowledging = [(staff[1].user, staff[1].employee), (staff[2].user, staff[2].employee)]
		appealing = [
			(staff[0], "Under Review"),
			(frappe._dict(user=collection_lead, employee=lead_employee), "Open"),
		]
	for user, employee in acknowledging:
		employee = employee or frappe.db.get_value("Employee", {"user_id": user}, "name")
		_workflow(user, _appraisal_of(cycle, employee), "Acknowledge")
	for i, (person, outcome) in enumerate(appealing):
		appraisal = _appraisal_of(cycle, person.employee)
		kpi = frappe.get_all(
			"PL Appraisal KPI",
			filters={"parent": appraisal, "parenttype": "PL Appraisal"},
			pluck="kpi",
			order_by="idx asc",
			limit=1,
		)
		frappe.set_user(person.user)
		try:
			appeal = frappe.get_doc(
				{
					"doctype": "PL Appeal",
					"appraisal": appraisal,
					"reason": APPEAL_REASONS[i % len(APPEAL_REASONS)],
					"disputed_lines": [{"kpi": kpi[0], "comment": APPEAL_REASONS[i % len(APPEAL_REASONS)]}]
					if kpi
					else [],
				}
			).insert()
		finally:
			frappe.set_user(people.manager)
		if outcome == "Open":
			continue
		appeal.reload()
		appeal.status = outcome
		if outcome == "Upheld":
			appeal.revised_score = round(min(100.0, (appeal.original_score or 0) + 8.0), 2)
			appeal.resolution = _("The case log confirms the claim; the KPI actual was corrected.")
		elif outcome == "Rejected":
			appeal.resolution = _("The figures match the loan system; the result stands.")
		appeal.save()
