"""Team Performance Summary: teams ranked within their layer by the mean total score of their appraisals.

The cycles are the chosen one, or else the last four cycles with results (Calibration, Published or
Closed) of the company; trial cycles only when `include_trial` is set. The table aggregates every
appraisal of those cycles per team; the line chart shows each team's mean total cycle by cycle.
Team statistics include every member's appraisal, so they are read with `frappe.get_all` and restricted
to `visible_teams`: a team leader sees only the teams he leads, without his own appraisal.
"""

from __future__ import annotations

import html
import statistics
from collections import defaultdict

import frappe
from frappe import _
from frappe.utils import cint, flt

from postloan_performance.engine.names import LAYERS
from postloan_performance.services.access import visible_teams
from postloan_performance.services.reports.common import (
	EMPLOYEE_DOCTYPE,
	employee_column,
	get_cycle,
	line_chart,
	percent,
	summary_item,
)

DEFAULT_CYCLES = 4
RESULT_STATUSES = ("Calibration", "Published", "Closed")
LAYER_ORDER = LAYERS
TOP_GRADES = ("S", "A")
MAX_TEAM_LINES = 10
TIE_TOLERANCE = 1e-9


def columns() -> list[dict]:
	return [
		{"label": _("Rank in Layer"), "fieldname": "rank", "fieldtype": "Int", "width": 80},
		{"label": _("Team"), "fieldname": "pl_team", "fieldtype": "Link", "options": "PL Team", "width": 170},
		{"label": _("Layer"), "fieldname": "layer", "fieldtype": "Data", "width": 120},
		employee_column(_("Team Lead"), "team_lead"),
		{"label": _("Team Lead Name"), "fieldname": "team_lead_name", "fieldtype": "Data", "width": 150},
		{"label": _("Members Appraised"), "fieldname": "members", "fieldtype": "Int", "width": 100},
		{"label": _("Appraisals"), "fieldname": "appraisals", "fieldtype": "Int", "width": 90},
		{
			"label": _("Mean Total Score"),
			"fieldname": "mean_total",
			"fieldtype": "Float",
			"precision": 2,
			"width": 110,
		},
		{
			"label": _("Min Total Score"),
			"fieldname": "min_total",
			"fieldtype": "Float",
			"precision": 2,
			"width": 100,
		},
		{
			"label": _("Max Total Score"),
			"fieldname": "max_total",
			"fieldtype": "Float",
			"precision": 2,
			"width": 100,
		},
		{
			"label": _("Share Graded S or A (%)"),
			"fieldname": "share_top",
			"fieldtype": "Percent",
			"precision": 1,
			"width": 110,
		},
	]


def get_data(filters: dict) -> dict:
	cycles = cycles_for(filters)
	appraisals = appraisals_of([c.name for c in cycles], filters.get("layer"))
	rows = team_rows(appraisals)
	# the message is HTML: names are escaped once (stored values may already be sanitised)
	names = (html.escape(html.unescape(c.cycle_name or c.name)) for c in cycles)
	cycle_names = ", ".join(f"<b>{name}</b>" for name in names) or html.escape(_("none"))
	return {
		"columns": columns(),
		"data": rows,
		"chart": trend_chart(cycles, appraisals, rows),
		"summary": summary(cycles, appraisals, rows),
		"message": _("Review cycles: {0}").format(cycle_names),
	}


def cycles_for(filters: dict) -> list[frappe._dict]:
	"""The cycles to report on, oldest first."""
	include_trial = cint(filters.get("include_trial"))
	fields = ["cycle_name", "company", "is_trial", "period_start", "status"]
	if filters.get("review_cycle"):
		cycle = get_cycle(filters["review_cycle"], fields)
		if cycle.is_trial and not include_trial:
			frappe.throw(
				_("Review cycle {0} is a trial cycle: check Include Trial Cycles to report on it.").format(
					frappe.bold(cycle.name)
				),
				title=_("Trial Cycle"),
			)
		if filters.get("company") and cycle.company != filters["company"]:
			frappe.throw(
				_("Review cycle {0} belongs to company {1}.").format(frappe.bold(cycle.name), cycle.company),
				title=_("Invalid Filter"),
			)
		return [cycle]
	conditions = {"status": ("in", RESULT_STATUSES)}
	if filters.get("company"):
		conditions["company"] = filters["company"]
	if not include_trial:
		conditions["is_trial"] = 0
	latest = frappe.get_all(
		"PL Review Cycle",
		filters=conditions,
		fields=["name", *fields],
		order_by="period_start desc, name desc",
		limit=DEFAULT_CYCLES,
	)
	return list(reversed(latest))


def appraisals_of(cycles: list[str], layer: str | None) -> list[frappe._dict]:
	if not cycles:
		return []
	conditions = {"review_cycle": ("in", cycles), "docstatus": ("<", 2)}
	if layer:
		conditions["layer"] = layer
	teams = visible_teams()
	if teams is not None:
		if not teams:
			return []
		conditions["pl_team"] = ("in", sorted(teams))
		# a leader's own appraisal is not his to read: mean × n minus the others would give his score
		conditions["appraisee_user"] = ("!=", frappe.session.user)
	return frappe.get_all(
		"PL Appraisal",
		filters=conditions,
		fields=["name", "review_cycle", "employee", "pl_team", "layer", "total_score", "final_grade"],
		limit_page_length=0,
	)


def team_rows(appraisals: list[frappe._dict]) -> list[dict]:
	by_team = defaultdict(list)
	for a in appraisals:
		if a.pl_team:
			by_team[a.pl_team].append(a)
	teams = {
		t.name: t
		for t in frappe.get_all(
			"PL Team",
			filters={"name": ("in", list(by_team) or [""])},
			fields=["name", "layer", "team_lead", "team_lead_name"],
		)
	}
	rows = []
	for name, group in by_team.items():
		team = teams.get(name) or frappe._dict()
		totals = [flt(a.total_score) for a in group]
		top = sum(1 for a in group if a.final_grade in TOP_GRADES)
		rows.append(
			{
				"pl_team": name,
				"layer": team.layer or group[0].layer,
				"team_lead": team.team_lead,
				"team_lead_name": team.team_lead_name,
				"members": len({a.employee for a in group}),
				"appraisals": len(group),
				"mean_total": statistics.fmean(totals),
				"min_total": min(totals),
				"max_total": max(totals),
				"share_top": percent(top, len(group)),
				**EMPLOYEE_DOCTYPE,
			}
		)
	rank_within_layers(rows)
	layer_index = {layer: i for i, layer in enumerate(LAYER_ORDER)}
	rows.sort(
		key=lambda r: (
			layer_index.get(r["layer"], len(LAYER_ORDER)),
			r["layer"] or "",
			r["rank"],
			r["pl_team"],
		)
	)
	return rows


def rank_within_layers(rows: list[dict]) -> None:
	"""Competition ranking (1, 2, 2, 4) by mean total, best first, within each layer."""
	by_layer = defaultdict(list)
	for row in rows:
		by_layer[row["layer"]].append(row)
	for group in by_layer.values():
		group.sort(key=lambda r: (-r["mean_total"], r["pl_team"]))
		for position, row in enumerate(group, start=1):
			previous = group[position - 2] if position > 1 else None
			if previous and abs(previous["mean_total"] - row["mean_total"]) <= TIE_TOLERANCE:
				row["rank"] = previous["rank"]
			else:
				row["rank"] = position


def trend_chart(cycles: list[frappe._dict], appraisals: list[frappe._dict], rows: list[dict]) -> dict:
	"""Mean total per cycle for each team (for each layer when there are too many teams to read)."""
	by_team = len(rows) <= MAX_TEAM_LINES
	key = "pl_team" if by_team else "layer"
	totals = defaultdict(list)
	for a in appraisals:
		totals[(a.get(key), a.review_cycle)].append(flt(a.total_score))
	if by_team:
		series = [r["pl_team"] for r in rows]
	else:
		present = {r["layer"] for r in rows}
		series = [layer for layer in LAYER_ORDER if layer in present]
	datasets = []
	for name in series:
		values = []
		for cycle in cycles:
			group = totals.get((name, cycle.name))
			values.append(round(statistics.fmean(group), 2) if group else None)
		datasets.append({"name": name if by_team else _(name), "values": values})
	return line_chart([c.cycle_name or c.name for c in cycles], datasets)


def summary(cycles: list[frappe._dict], appraisals: list[frappe._dict], rows: list[dict]) -> list[dict]:
	totals = [flt(a.total_score) for a in appraisals if a.pl_team]
	return [
		summary_item(len(rows), _("Teams"), "Int"),
		summary_item(len(cycles), _("Review Cycles"), "Int"),
		summary_item(len(totals), _("Appraisals"), "Int"),
		summary_item(round(statistics.fmean(totals), 2) if totals else 0, _("Mean Total Score")),
	]
