"""Collector Performance: each collector's collection KPIs over a period, ranked by recovered amount.

The values are the built-in metrics of DESIGN.md computed for every collector at once (Employee subjects)
through the same frame loaders and engine as the appraisals (`services.metrics`), so a collector's row
equals his KPI actuals for the same period.
"""

from __future__ import annotations

import pandas as pd

import frappe
from frappe import _

from postloan_performance.engine import metrics as engine_metrics
from postloan_performance.services.metrics import FrameCache, Window, compute_metric
from postloan_performance.services.reports.common import (
	EMPLOYEE_DOCTYPE,
	bar_chart,
	chart_number,
	clean,
	employee_column,
	employee_names,
	period,
	summary_item,
	team_and_descendants,
	visible_employees,
)
from postloan_performance.services.teams import team_members_on

TOP_IN_CHART = 20
# report column -> built-in metric code
METRIC_COLUMNS = {
	"success_rate": "collection_success_rate",
	"recovered_amount": "recovered_amount",
	"avg_cycle_days": "avg_collection_cycle_days",
	"ptp_kept_rate": "ptp_kept_rate",
	"right_party_rate": "right_party_contact_rate",
}


def columns() -> list[dict]:
	return [
		{"label": _("Rank"), "fieldname": "rank", "fieldtype": "Int", "width": 70},
		employee_column(_("Collector"), "collector"),
		{"label": _("Collector Name"), "fieldname": "collector_name", "fieldtype": "Data", "width": 170},
		{"label": _("Team"), "fieldname": "pl_team", "fieldtype": "Link", "options": "PL Team", "width": 160},
		{"label": _("Cases Active"), "fieldname": "cases_active", "fieldtype": "Int", "width": 110},
		{"label": _("Success Rate (%)"), "fieldname": "success_rate", "fieldtype": "Percent", "width": 120},
		{
			"label": _("Recovered Amount"),
			"fieldname": "recovered_amount",
			"fieldtype": "Currency",
			"width": 140,
		},
		{
			"label": _("Average Collection Cycle (Days)"),
			"fieldname": "avg_cycle_days",
			"fieldtype": "Float",
			"precision": 1,
			"width": 130,
		},
		{"label": _("PTP Kept Rate (%)"), "fieldname": "ptp_kept_rate", "fieldtype": "Percent", "width": 120},
		{
			"label": _("Right-Party Contact Rate (%)"),
			"fieldname": "right_party_rate",
			"fieldtype": "Percent",
			"width": 140,
		},
	]


def _candidates(cache: FrameCache) -> set[str]:
	"""Everyone who held a case or is named on a recovery in the loaded window (the engine decides who
	has data in the period)."""
	cases, recoveries = cache.get("cases"), cache.get("recoveries")
	return {c for c in pd.concat([cases["collector"], recoveries["collector"]]).dropna() if c}


def _restrict(collectors: set[str], filters: dict, start, end) -> set[str]:
	if filters.get("collector"):
		collectors &= {filters["collector"]}
	if filters.get("pl_team"):
		teams = team_and_descendants(filters["pl_team"])
		collectors &= {m.employee for m in team_members_on(teams, start, end)}
	visible = visible_employees()
	if visible is not None:
		collectors &= visible
	if filters.get("company") and collectors:
		collectors &= set(
			frappe.get_all(
				"Employee",
				filters={"name": ("in", sorted(collectors)), "company": filters["company"]},
				pluck="name",
				limit_page_length=0,
			)
		)
	return collectors


def _teams_of(collectors: list[str], start, end) -> dict[str, str]:
	"""Each collector's team in the period (the membership that started last, collection teams first)."""
	if not collectors:
		return {}
	member = frappe.qb.DocType("PL Team Member")
	team = frappe.qb.DocType("PL Team")
	rows = (
		frappe.qb.from_(member)
		.join(team)
		.on(team.name == member.parent)
		.select(member.employee, member.parent, member.from_date, team.layer)
		.where(
			(member.parenttype == "PL Team")
			& member.employee.isin(collectors)
			& (member.from_date <= end)
			& (member.to_date.isnull() | (member.to_date >= start))
		)
	).run(as_dict=True)
	rows.sort(key=lambda r: (r.layer == "Collection", r.from_date))
	return {r.employee: r.parent for r in rows}


def get_data(filters: dict) -> dict:
	start, end = period(filters)
	cache = FrameCache(Window(start, end))
	collectors = sorted(_restrict(_candidates(cache), filters, start, end))
	subjects = pd.DataFrame(
		{"subject": collectors, "employee": collectors, "from_date": pd.NaT, "to_date": pd.NaT}
	)
	values = pd.DataFrame(index=pd.Index(collectors, dtype=object))
	if collectors:
		values["cases_active"] = engine_metrics.active_case_count(
			{"cases": cache.get("cases")}, subjects, (start, end)
		)
		for column, code in METRIC_COLUMNS.items():
			values[column] = compute_metric(code, cache, subjects)
		# a collector has data when he held a case in the period or recovered something in it
		values = values[values["cases_active"].notna() | values["recovered_amount"].notna()]
	rows = _rows(values, start, end)
	return {"columns": columns(), "data": rows, "chart": chart(rows), "summary": summary(rows)}


def _rows(values: pd.DataFrame, start, end) -> list[dict]:
	if values.empty:
		return []
	values = values.assign(recovered_amount=values["recovered_amount"].fillna(0.0))
	values["rank"] = values["recovered_amount"].rank(method="min", ascending=False).astype(int)
	values = values.rename_axis("collector").reset_index().sort_values(["rank", "collector"])
	names = employee_names(values["collector"])
	teams = _teams_of(list(values["collector"]), start, end)
	rows = []
	for record in values.to_dict("records"):
		rows.append(
			{
				"rank": int(record["rank"]),
				"collector": record["collector"],
				**EMPLOYEE_DOCTYPE,
				"collector_name": names.get(record["collector"]),
				"pl_team": teams.get(record["collector"]),
				"cases_active": int(clean(record["cases_active"]) or 0),
				"success_rate": clean(record["success_rate"]),
				"recovered_amount": clean(record["recovered_amount"]),
				"avg_cycle_days": clean(record["avg_cycle_days"]),
				"ptp_kept_rate": clean(record["ptp_kept_rate"]),
				"right_party_rate": clean(record["right_party_rate"]),
			}
		)
	return rows


def chart(rows: list[dict]) -> dict:
	top = rows[:TOP_IN_CHART]
	return bar_chart(
		[r["collector_name"] or r["collector"] for r in top],
		[{"name": _("Recovered Amount"), "values": [chart_number(r["recovered_amount"]) for r in top]}],
		colors=["#2490ef"],
	) | {"fieldtype": "Currency"}


def summary(rows: list[dict]) -> list[dict]:
	rates = [r["success_rate"] for r in rows if r["success_rate"] is not None]
	return [
		summary_item(len(rows), _("Collectors"), "Int"),
		summary_item(
			round(sum(r["recovered_amount"] or 0 for r in rows), 2), _("Total Recovered"), "Currency"
		),
		summary_item(
			round(sum(rates) / len(rates), 2) if rates else None,
			_("Mean Success Rate (%)"),
			"Percent",
			"Green",
		),
	]
