"""Scheme What-If Comparison: a what-if's results against the cycle's actual results.

Three views of one PL Scheme What-If (services/scheme_whatif.py):

- **Distribution**: per team of the layer (and the layer as a whole), people, mean score and the count of
  each grade before (the cycle's results) and after (the what-if), and after the forced distribution
  when the version uses it;
- **Grade Moves**: the scheme owner (PL Performance Manager, System Manager) sees each person whose grade
  moves; an executive sees only counts per team and (before, after) grade;
- **KPIs**: per KPI of the version, KPI Health (engine/kpi_health.py) before and after: whether it still
  tells people apart, and the KPIs that stop discriminating under the version;
- **Payout**: per team, the incentive payout under a plan (the filter, else the plan a payout of the cycle
  would use) with the cycle's results and with the what-if's (services/whatif_payout.py); team amounts
  only, never a person's.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import frappe
from frappe import _
from frappe.utils import flt

from postloan_performance.engine import kpi_health as health
from postloan_performance.services import scheme_whatif, whatif_payout
from postloan_performance.services.access import EXECUTIVE_ROLE, MANAGER_ROLES, is_manager, require_roles
from postloan_performance.services.reports import kpi_health as kpi_health_report
from postloan_performance.services.reports.common import bar_chart, require, summary_item

DISTRIBUTION, MOVES, KPIS, PAYOUT = "Distribution", "Grade Moves", "KPIs", "Payout"
ALL_TEAMS = "all"


def get_data(filters: dict) -> dict:
	require(filters, "what_if")
	require_roles(*MANAGER_ROLES, EXECUTIVE_ROLE)
	name = filters["what_if"]
	doc = frappe.db.get_value(
		scheme_whatif.DOCTYPE,
		name,
		["name", "template", "review_cycle", "layer", "status"],
		as_dict=True,
	)
	if not doc:
		frappe.throw(_("{0} {1} not found").format(_(scheme_whatif.DOCTYPE), name), frappe.DoesNotExistError)
	frappe.has_permission(scheme_whatif.DOCTYPE, "read", doc=name, throw=True)
	if doc.status != "Completed":
		return {
			"columns": [],
			"data": [],
			"chart": None,
			"summary": [],
			"message": _("What-if {0} has not completed yet (status {1}).").format(name, _(doc.status)),
		}
	rows = scheme_whatif.results(name)
	order = scheme_whatif.grade_order(doc.template)
	forced = any(r.get("forced_grade") for r in rows)
	view = filters.get("view") or DISTRIBUTION
	if view == PAYOUT:
		return payout(rows, doc, filters.get("incentive_plan"))
	if view == MOVES:
		columns, data = moves(rows, order, named=is_manager())
	elif view == KPIS:
		columns, data = kpis(rows, doc)
	else:
		columns, data = distribution(rows, order, forced)
	return {
		"columns": columns,
		"data": data,
		"chart": chart(rows, order, forced),
		"summary": summary(rows, order, forced, doc),
	}


def _team_rows(rows: list[dict]) -> list[tuple[str, list[dict]]]:
	by_team = defaultdict(list)
	for r in rows:
		by_team[r["pl_team"]].append(r)
	return [*sorted(by_team.items()), (ALL_TEAMS, rows)]


def _mean(values) -> float | None:
	values = [flt(v) for v in values]
	return sum(values) / len(values) if values else None


def distribution(rows: list[dict], order: list[str], forced: bool) -> tuple[list[dict], list[dict]]:
	columns = [
		{"label": _("Layer"), "fieldname": "layer", "fieldtype": "Data", "width": 110},
		{"label": _("Team"), "fieldname": "pl_team", "fieldtype": "Link", "options": "PL Team", "width": 170},
		{"label": _("People"), "fieldname": "people", "fieldtype": "Int", "width": 70},
		{"label": _("Mean Score Before"), "fieldname": "mean_before", "fieldtype": "Float", "width": 110},
		{"label": _("Mean Score After"), "fieldname": "mean_after", "fieldtype": "Float", "width": 110},
		{"label": _("Change"), "fieldname": "mean_change", "fieldtype": "Float", "width": 80},
	]
	for grade in order:
		columns.append(
			{"label": _("{0} Before").format(grade), "fieldname": f"before_{grade}", "fieldtype": "Int"}
		)
		columns.append(
			{"label": _("{0} After").format(grade), "fieldname": f"after_{grade}", "fieldtype": "Int"}
		)
		if forced:
			columns.append(
				{"label": _("{0} Forced").format(grade), "fieldname": f"forced_{grade}", "fieldtype": "Int"}
			)
	data = []
	for team, members in _team_rows(rows):
		before = Counter(r["baseline_grade"] for r in members)
		after = Counter(r["grade"] for r in members)
		mean_before = _mean(r["baseline_score"] for r in members)
		mean_after = _mean(r["score"] for r in members)
		row = {
			"layer": members[0]["layer"] if members else None,
			"pl_team": None if team == ALL_TEAMS else team,
			"people": len(members),
			"mean_before": mean_before,
			"mean_after": mean_after,
			"mean_change": (mean_after - mean_before) if members else None,
			"bold": int(team == ALL_TEAMS),
		}
		for grade in order:
			row[f"before_{grade}"] = before.get(grade, 0)
			row[f"after_{grade}"] = after.get(grade, 0)
			if forced:
				row[f"forced_{grade}"] = sum(1 for r in members if r.get("forced_grade") == grade)
		data.append(row)
	return columns, data


def moves(rows: list[dict], order: list[str], named: bool) -> tuple[list[dict], list[dict]]:
	"""Who moves grade: each person for the scheme owner, counts per team and move for others."""
	moved = [r for r in rows if scheme_whatif.move(r["baseline_grade"], r["grade"], order) != 0]
	if named:
		columns = [
			{"label": _("Employee"), "fieldname": "employee", "fieldtype": "Link", "options": "Employee"},
			{"label": _("Employee Name"), "fieldname": "employee_name", "fieldtype": "Data", "width": 150},
			{
				"label": _("Team"),
				"fieldname": "pl_team",
				"fieldtype": "Link",
				"options": "PL Team",
				"width": 150,
			},
			{"label": _("Score Before"), "fieldname": "baseline_score", "fieldtype": "Float"},
			{"label": _("Score After"), "fieldname": "score", "fieldtype": "Float"},
			{"label": _("Grade Before"), "fieldname": "baseline_grade", "fieldtype": "Data", "width": 90},
			{"label": _("Grade After"), "fieldname": "grade", "fieldtype": "Data", "width": 90},
			{"label": _("Final Grade Before"), "fieldname": "baseline_final_grade", "fieldtype": "Data"},
			{"label": _("Forced Grade After"), "fieldname": "forced_grade", "fieldtype": "Data"},
			{"label": _("Grades Moved"), "fieldname": "move", "fieldtype": "Int", "width": 90},
		]
		data = [
			{
				**{c["fieldname"]: r.get(c["fieldname"]) for c in columns},
				"move": scheme_whatif.move(r["baseline_grade"], r["grade"], order),
			}
			for r in moved
		]
		data.sort(key=lambda d: (-abs(d["move"]), d["pl_team"] or "", d["employee"]))
		return columns, data
	columns = [
		{"label": _("Team"), "fieldname": "pl_team", "fieldtype": "Link", "options": "PL Team", "width": 170},
		{"label": _("Grade Before"), "fieldname": "baseline_grade", "fieldtype": "Data", "width": 100},
		{"label": _("Grade After"), "fieldname": "grade", "fieldtype": "Data", "width": 100},
		{"label": _("Grades Moved"), "fieldname": "move", "fieldtype": "Int", "width": 100},
		{"label": _("People"), "fieldname": "people", "fieldtype": "Int", "width": 80},
	]
	counts = Counter((r["pl_team"], r["baseline_grade"], r["grade"]) for r in moved)
	data = [
		{
			"pl_team": team,
			"baseline_grade": before,
			"grade": after,
			"move": scheme_whatif.move(before, after, order),
			"people": n,
		}
		for (team, before, after), n in sorted(
			counts.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), str(kv[0][2]))
		)
	]
	return columns, data


def kpis(rows: list[dict], doc) -> tuple[list[dict], list[dict]]:
	"""KPI Health of the cycle's lines (before) and of the what-if's lines (after), per KPI of the version."""
	before, _names = kpi_health_report.evaluate({"review_cycle": doc.review_cycle, "layer": doc.layer})
	before = {h.kpi: h for h in before}
	lines = [
		health.KpiLine(
			kpi=k["kpi"],
			appraisal=r["appraisal"],
			actual=k["actual"],
			score=k["score"],
			target=k["target"],
			direction=k["direction"],
			cap=flt(k["cap"]),
		)
		for r in rows
		for k in r["kpis"]
	]
	names = {k["kpi"]: k["kpi_name"] for r in rows for k in r["kpis"]}
	columns = [
		{"label": _("KPI"), "fieldname": "kpi", "fieldtype": "Link", "options": "PL KPI", "width": 160},
		{"label": _("KPI Name"), "fieldname": "kpi_name", "fieldtype": "Data", "width": 160},
		{"label": _("Target Before"), "fieldname": "target_before", "fieldtype": "Float"},
		{"label": _("Target After"), "fieldname": "target_after", "fieldtype": "Float"},
		{"label": _("Score Std Dev Before"), "fieldname": "stdev_before", "fieldtype": "Float"},
		{"label": _("Score Std Dev After"), "fieldname": "stdev_after", "fieldtype": "Float"},
		{"label": _("At Cap After (%)"), "fieldname": "at_cap_after", "fieldtype": "Percent"},
		{"label": _("Better than Target After (%)"), "fieldname": "better_after", "fieldtype": "Percent"},
		{"label": _("Discriminates Before"), "fieldname": "discriminates_before", "fieldtype": "Check"},
		{"label": _("Discriminates After"), "fieldname": "discriminates_after", "fieldtype": "Check"},
		{"label": _("Stops Discriminating"), "fieldname": "stops_discriminating", "fieldtype": "Check"},
		{
			"label": _("Target Everyone Beats After"),
			"fieldname": "everyone_beats_after",
			"fieldtype": "Check",
		},
	]
	data = []
	for after in health.kpi_health(lines):
		old = before.get(after.kpi)
		discriminated = None if old is None else int(not old.does_not_discriminate)
		data.append(
			{
				"kpi": after.kpi,
				"kpi_name": names.get(after.kpi),
				"target_before": old.current_target if old else None,
				"target_after": after.current_target,
				"stdev_before": old.stdev_score if old else None,
				"stdev_after": after.stdev_score,
				"at_cap_after": after.share_at_cap,
				"better_after": after.share_better_than_target,
				"discriminates_before": discriminated,
				"discriminates_after": int(not after.does_not_discriminate),
				"stops_discriminating": int(bool(discriminated) and after.does_not_discriminate),
				"everyone_beats_after": int(after.target_everyone_beats),
			}
		)
	return columns, data


def payout(rows: list[dict], doc, plan: str | None) -> dict:
	"""The payout view: team amounts before and after under the plan, with the totals as the summary."""
	plan = plan or whatif_payout.plan_for(doc.review_cycle, doc.layer)
	if not plan:
		company = frappe.db.get_value("PL Review Cycle", doc.review_cycle, "company")
		return {
			"columns": [],
			"data": [],
			"chart": None,
			"summary": [],
			"message": _(
				"No enabled incentive plan of company {0} covers layer {1}: choose one to see the payout."
			).format(company, _(doc.layer)),
		}
	frappe.has_permission("PL Incentive Plan", "read", doc=plan, throw=True)
	result = whatif_payout.effect(doc.review_cycle, doc.layer, rows, plan)
	currency = {"fieldtype": "Currency", "options": "currency", "width": 130}
	columns = [
		{"label": _("Team"), "fieldname": "pl_team", "fieldtype": "Link", "options": "PL Team", "width": 170},
		{"label": _("Layer"), "fieldname": "layer", "fieldtype": "Data", "width": 110},
		{"label": _("Heads"), "fieldname": "heads", "fieldtype": "Float", "width": 70},
		{"label": _("Amount Before"), "fieldname": "amount_before", **currency},
		{"label": _("Amount After"), "fieldname": "amount_after", **currency},
		{"label": _("Change"), "fieldname": "change", **currency},
	]
	data = [
		{
			"pl_team": t["team"],
			"layer": t["layer"],
			"heads": t["heads"],
			"amount_before": t["amount_before"],
			"amount_after": t["amount_after"],
			"change": t["change"],
			"currency": result["currency"],
		}
		for t in result["teams"]
	]
	data.append(
		{
			"pl_team": None,
			"heads": sum(flt(t["heads"]) for t in result["teams"]),
			"amount_before": result["paid_before"],
			"amount_after": result["paid_after"],
			"change": result["paid_after"] - result["paid_before"],
			"currency": result["currency"],
			"bold": 1,
		}
	)
	money = {"datatype": "Currency", "currency": result["currency"]}
	return {
		"columns": columns,
		"data": data,
		"chart": bar_chart(
			[t["team"] for t in result["teams"]],
			[
				{"name": _("Before"), "values": [t["amount_before"] for t in result["teams"]]},
				{"name": _("After"), "values": [t["amount_after"] for t in result["teams"]]},
			],
		),
		"summary": [
			{"value": plan, "label": _("Incentive Plan"), "datatype": "Data"},
			{**summary_item(result["pool"], _("Pool")), **money},
			{**summary_item(result["paid_before"], _("Paid Before")), **money},
			{**summary_item(result["paid_after"], _("Paid After")), **money},
			{**summary_item(result["unallocated_before"], _("Unallocated Before")), **money},
			{
				**summary_item(result["unallocated_after"], _("Unallocated After"), indicator="Orange"),
				**money,
			},
		],
	}


def chart(rows: list[dict], order: list[str], forced: bool) -> dict:
	before = Counter(r["baseline_grade"] for r in rows)
	after = Counter(r["grade"] for r in rows)
	datasets = [
		{"name": _("Before"), "values": [before.get(g, 0) for g in order]},
		{"name": _("After"), "values": [after.get(g, 0) for g in order]},
	]
	if forced:
		after_forced = Counter(r.get("forced_grade") for r in rows)
		datasets.append({"name": _("After, Forced"), "values": [after_forced.get(g, 0) for g in order]})
	return bar_chart(order, datasets)


def summary(rows: list[dict], order: list[str], forced: bool, doc) -> list[dict]:
	totals = scheme_whatif.summary(rows, order)
	items = [
		summary_item(totals["subjects"], _("People"), "Int"),
		summary_item(totals["moved_up"], _("Moved Up a Grade"), "Int", "Green"),
		summary_item(totals["moved_down"], _("Moved Down a Grade"), "Int", "Red"),
		summary_item(totals["mean_score_before"], _("Mean Score (Baseline)")),
		summary_item(totals["mean_score_after"], _("Mean Score (What-If)")),
	]
	if forced:
		changed = sum(1 for r in rows if r.get("forced_grade") and r["forced_grade"] != r["grade"])
		items.append(summary_item(changed, _("Changed by Forced Distribution"), "Int", "Orange"))
	return items
