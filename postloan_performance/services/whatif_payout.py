"""What a scheme version does to an incentive payout: the payout of a what-if's review cycle under an
incentive plan, once with the cycle's own results (before) and once with the what-if's results for its
layer (after).

An incentive plan's pool is a fixed amount or a target per employee, so a version does not change it;
what moves is how the pool is split: teams weighted by their mean total score, people by their grade's
coefficient, and the part no team can take (every member weighs nothing) stays unallocated. Both sides
go through the payout engine (``engine/payout.compute_payout``) exactly as a payout run does, over the
same people: the cycle's appraisals (not cancelled) of the plan's layer, or of every layer when the plan
covers all of them; only the what-if's layer changes between the two sides.

- before: each appraisal's stored total score and the grade a payout run uses (final, else calibrated,
  else the bands' grade);
- after: for the what-if's layer, the what-if's total score and its grade after the forced distribution
  when the version uses one (what calibration would propose), else the bands' grade.
"""

from __future__ import annotations

import pandas as pd

import frappe

from postloan_performance.engine import frames
from postloan_performance.engine import payout as engine_payout
from postloan_performance.services import payout_plan
from postloan_performance.services.payout import payout_of

PLAN = "PL Incentive Plan"
PEOPLE_COLUMNS = ["appraisal", "employee", "team", "layer", "grade", "total_score"]


def plan_for(review_cycle: str, layer: str) -> str | None:
	"""The incentive plan a payout of the cycle's ``layer`` would use: that of the cycle's latest payout
	run (not cancelled) covering the layer, else the plan in effect at the cycle's end
	(``payout_plan.plan_for``); None when there is none."""
	cycle = frappe.db.get_value("PL Review Cycle", review_cycle, ["company", "period_end"], as_dict=True)
	if not cycle:
		return None
	run_plans = frappe.get_all(
		"PL Payout Run",
		filters={"review_cycle": review_cycle, "status": ("!=", "Cancelled"), "docstatus": ("<", 2)},
		pluck="plan",
		order_by="creation desc",
	)
	covering = {
		p.name
		for p in frappe.get_all(PLAN, filters={"name": ("in", run_plans or [""])}, fields=["name", "layer"])
		if not p.layer or p.layer == layer
	}
	for name in run_plans:
		if name in covering:
			return name
	return payout_plan.plan_for(cycle.company, layer, cycle.period_end)


def _cycle_people(review_cycle: str, layer: str | None) -> pd.DataFrame:
	"""The cycle's appraisals (not cancelled) of ``layer`` (every layer when None) with the grade and
	total score a payout run uses."""
	filters = {"review_cycle": review_cycle, "docstatus": ("<", 2)}
	if layer:
		filters["layer"] = layer
	rows = frappe.get_all(
		"PL Appraisal",
		filters=filters,
		fields=[
			"name",
			"employee",
			"pl_team",
			"layer",
			"grade",
			"calibrated_grade",
			"final_grade",
			"total_score",
		],
		order_by="name",
		limit_page_length=0,
	)
	return frames.from_rows(
		(
			[
				r.name,
				r.employee,
				r.pl_team,
				r.layer,
				engine_payout.grade_used(r.final_grade, r.calibrated_grade, r.grade),
				r.total_score,
			]
			for r in rows
		),
		PEOPLE_COLUMNS,
		numeric=["total_score"],
	)


def cycle_payout(review_cycle: str, plan: str) -> engine_payout.PayoutResult:
	"""The payout of the cycle's stored results under ``plan`` (its layer, or every layer)."""
	plan_doc = frappe.get_doc(PLAN, plan)
	cycle = frappe.db.get_value(
		"PL Review Cycle", review_cycle, ["name", "period_start", "period_end"], as_dict=True
	)
	return payout_of(_cycle_people(review_cycle, plan_doc.layer or None), cycle, plan_doc)


def effect(review_cycle: str, layer: str, rows: list[dict], plan: str) -> dict:
	"""Before and after of the payout under ``plan``: per team (team, layer, heads, amount before and
	after, change) and the totals (pool, paid and unallocated on each side). ``rows`` are a what-if's
	stored results (services/scheme_whatif.results)."""
	plan_doc = frappe.get_doc(PLAN, plan)
	cycle = frappe.db.get_value(
		"PL Review Cycle", review_cycle, ["name", "period_start", "period_end"], as_dict=True
	)
	before = _cycle_people(review_cycle, plan_doc.layer or None)
	after = before.copy()
	if not plan_doc.layer or plan_doc.layer == layer:
		new = {r["appraisal"]: r for r in rows}
		changed = after["appraisal"].isin(list(new))
		after.loc[changed, "grade"] = [
			new[a].get("forced_grade") or new[a].get("grade") for a in after.loc[changed, "appraisal"]
		]
		after.loc[changed, "total_score"] = [
			float(new[a].get("score") or 0) for a in after.loc[changed, "appraisal"]
		]
	was, will = payout_of(before, cycle, plan_doc), payout_of(after, cycle, plan_doc)
	teams = (
		was.teams[["team", "layer", "heads", "amount"]]
		.rename(columns={"amount": "amount_before"})
		.merge(
			will.teams[["team", "amount"]].rename(columns={"amount": "amount_after"}), on="team", how="outer"
		)
		.fillna({"amount_before": 0.0, "amount_after": 0.0})
		.sort_values("team", kind="mergesort")
	)
	teams["change"] = teams["amount_after"] - teams["amount_before"]
	return {
		"plan": plan,
		"currency": plan_doc.currency,
		"pool": was.pool,
		"paid_before": round(was.pool - was.unallocated, 6),
		"paid_after": round(will.pool - will.unallocated, 6),
		"unallocated_before": was.unallocated,
		"unallocated_after": will.unallocated,
		"teams": frames.records(teams),
	}
