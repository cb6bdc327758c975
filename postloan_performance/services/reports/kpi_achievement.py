"""KPI Achievement: every KPI line of a cycle's appraisals the user may read, with achievement and score.

The appraisals come from `frappe.get_list` (the row-level rules of permissions.py apply: a team leader
sees his teams, an appraisee his own published appraisal); their lines are then read in one query.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

import frappe
from frappe import _
from frappe.utils import flt

from postloan_performance.engine import scoring
from postloan_performance.privacy import reading_results
from postloan_performance.services.reports.common import (
	EMPLOYEE_DOCTYPE,
	appraisal_columns,
	bar_chart,
	percent,
	require,
	summary_item,
	team_and_descendants,
)

LINE_FIELDS = (
	"parent",
	"idx",
	"kpi",
	"kpi_name",
	"unit",
	"direction",
	"weight",
	"target",
	"actual",
	"no_data",
	"score",
	"weighted_score",
	"data_date",
)


def columns() -> list[dict]:
	return [
		*appraisal_columns("appraisal", name_width=150, layer_width=110),
		{"label": _("KPI"), "fieldname": "kpi", "fieldtype": "Link", "options": "PL KPI", "width": 150},
		{"label": _("KPI Name"), "fieldname": "kpi_name", "fieldtype": "Data", "width": 170},
		{"label": _("Unit"), "fieldname": "unit", "fieldtype": "Data", "width": 70},
		{"label": _("Weight"), "fieldname": "weight", "fieldtype": "Float", "precision": 1, "width": 70},
		{"label": _("Target"), "fieldname": "target", "fieldtype": "Float", "precision": 2, "width": 90},
		{"label": _("Actual"), "fieldname": "actual", "fieldtype": "Float", "precision": 2, "width": 100},
		{"label": _("No Data"), "fieldname": "no_data", "fieldtype": "Check", "width": 70},
		{
			"label": _("Achievement (%)"),
			"fieldname": "achievement",
			"fieldtype": "Percent",
			"precision": 1,
			"width": 110,
		},
		{"label": _("Score"), "fieldname": "score", "fieldtype": "Float", "precision": 2, "width": 80},
		{
			"label": _("Weighted Score"),
			"fieldname": "weighted_score",
			"fieldtype": "Float",
			"precision": 2,
			"width": 100,
		},
		{"label": _("Data Date"), "fieldname": "data_date", "fieldtype": "Date", "width": 100},
	]


def get_data(filters: dict) -> dict:
	require(filters, "review_cycle")
	appraisals = permitted_appraisals(filters)
	lines = lines_of(list(appraisals), filters.get("kpi"))
	rows = []
	for line in lines:
		header = appraisals[line.parent]
		has_data = not line.no_data
		actual = flt(line.actual) if has_data else None
		direction = line.direction or scoring.HIGHER_IS_BETTER
		rows.append(
			{
				"appraisal": line.parent,
				"employee": header.employee,
				"employee_name": header.employee_name,
				"pl_team": header.pl_team,
				"layer": header.layer,
				"kpi": line.kpi,
				"kpi_name": line.kpi_name,
				"unit": line.unit,
				"direction": direction,
				"weight": line.weight,
				"target": line.target,
				"actual": actual,
				"no_data": 0 if has_data else 1,
				# recomputed from actual and target: blank where it is undefined (no data, target 0)
				"achievement": scoring.achievement(actual, line.target, direction) if has_data else None,
				"score": line.score if has_data else None,
				"weighted_score": line.weighted_score if has_data else None,
				"data_date": line.data_date,
				**EMPLOYEE_DOCTYPE,
			}
		)
	# lines come in (appraisal, idx) order; the sort is stable
	rows.sort(key=lambda r: (r["pl_team"] or "", r["employee_name"] or "", r["appraisal"]))
	return {"columns": columns(), "data": rows, "chart": chart(rows), "summary": summary(rows)}


def permitted_appraisals(filters: dict) -> dict[str, frappe._dict]:
	"""The cycle's appraisals the user may read (permission query conditions apply)."""
	conditions = {"review_cycle": filters["review_cycle"], "docstatus": ("<", 2)}
	if filters.get("layer"):
		conditions["layer"] = filters["layer"]
	if filters.get("pl_team"):
		conditions["pl_team"] = ("in", team_and_descendants(filters["pl_team"]) or [""])
	if filters.get("employee"):
		conditions["employee"] = filters["employee"]
	with reading_results():  # KPI actuals: the appraisee's own only once published, never in a trial
		rows = frappe.get_list(
			"PL Appraisal",
			filters=conditions,
			fields=["name", "employee", "employee_name", "pl_team", "layer"],
			order_by="name asc",
			limit_page_length=0,
		)
	return {r.name: r for r in rows}


def lines_of(appraisals: list[str], kpi: str | None = None) -> list[frappe._dict]:
	"""The KPI lines of the given (permitted) appraisals, in one query."""
	if not appraisals:
		return []
	conditions = {"parenttype": "PL Appraisal", "parentfield": "kpis", "parent": ("in", appraisals)}
	if kpi:
		conditions["kpi"] = kpi
	return frappe.get_all(
		"PL Appraisal KPI",
		filters=conditions,
		fields=list(LINE_FIELDS),
		order_by="parent asc, idx asc",
		limit_page_length=0,
	)


def meets_target(row: dict) -> bool:
	"""At or better than target in the KPI's direction."""
	sign = -1 if row["direction"] == scoring.LOWER_IS_BETTER else 1
	return sign * (flt(row["actual"]) - flt(row["target"])) >= -1e-9


def chart(rows: list[dict]) -> dict:
	by_kpi = defaultdict(list)
	for row in rows:
		if row["achievement"] is not None:
			by_kpi[row["kpi"]].append(row["achievement"])
	kpis = sorted({row["kpi"] for row in rows})
	values = [round(statistics.fmean(by_kpi[k]), 2) if by_kpi[k] else 0 for k in kpis]
	return bar_chart(kpis, [{"name": _("Mean Achievement (%)"), "values": values}])


def summary(rows: list[dict]) -> list[dict]:
	with_data = [r for r in rows if not r["no_data"]]
	achievements = [r["achievement"] for r in with_data if r["achievement"] is not None]
	targeted = [r for r in with_data if r["target"] is not None]
	meeting = sum(1 for r in targeted if meets_target(r))
	share = percent(meeting, len(targeted))
	return [
		summary_item(len(rows), _("KPI Lines"), "Int"),
		summary_item(len(rows) - len(with_data), _("Lines without Data"), "Int", "Orange"),
		summary_item(
			round(statistics.fmean(achievements), 2) if achievements else 0,
			_("Mean Achievement (%)"),
			"Percent",
		),
		summary_item(
			round(share, 2) if share is not None else 0, _("At or Above Target (%)"), "Percent", "Green"
		),
	]
