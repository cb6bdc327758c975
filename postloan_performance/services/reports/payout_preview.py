"""Payout Preview: a payout run's people with their grade, coefficient, days and amount, and the totals
per team and layer against the pool. Rows follow the payout access rules: the scheme owner and HR see
everything; a team leader sees his teams' totals (and their people only when the plan allows); an
appraisee sees his own line once the run is confirmed."""

from __future__ import annotations

from collections import defaultdict

import frappe
from frappe import _
from frappe.utils import flt

from postloan_performance.services.access import led_teams
from postloan_performance.services.payout_access import report_runs, sees_all_payouts
from postloan_performance.services.reports.common import EMPLOYEE_DOCTYPE, employee_column


def columns() -> list[dict]:
	return [
		employee_column(_("Employee"), width=130),
		{"fieldname": "employee_name", "label": _("Employee Name"), "fieldtype": "Data", "width": 170},
		{"fieldname": "pl_team", "label": _("Team"), "fieldtype": "Link", "options": "PL Team", "width": 160},
		{"fieldname": "layer", "label": _("Layer"), "fieldtype": "Data", "width": 120},
		{"fieldname": "grade", "label": _("Grade"), "fieldtype": "Data", "width": 70},
		{
			"fieldname": "coefficient",
			"label": _("Coefficient"),
			"fieldtype": "Float",
			"precision": 2,
			"width": 100,
		},
		{"fieldname": "days", "label": _("Days"), "fieldtype": "Int", "width": 70},
		{
			"fieldname": "amount",
			"label": _("Amount"),
			"fieldtype": "Currency",
			"options": "currency",
			"width": 130,
		},
		{"fieldname": "status", "label": _("Status"), "fieldtype": "Data", "width": 150},
		{
			"fieldname": "additional_salary",
			"label": _("Additional Salary"),
			"fieldtype": "Data",
			"width": 170,
		},
	]


def last_run(allowed: list[str] | None) -> str | None:
	"""Without a chosen run: the latest run the user may see here that is not cancelled."""
	filters = {"status": ("!=", "Cancelled")}
	if allowed is not None:
		if not allowed:
			return None
		filters["name"] = ("in", allowed)
	runs = frappe.get_all("PL Payout Run", filters=filters, order_by="creation desc", pluck="name", limit=1)
	return runs[0] if runs else None


def get_data(filters) -> dict:
	allowed = report_runs()
	name = filters.get("payout_run") or last_run(allowed)
	if not name:
		return {"columns": columns(), "data": [], "summary": []}
	run = frappe.get_doc("PL Payout Run", name)
	if allowed is None:
		run.check_permission("read")
	elif run.name not in allowed:
		frappe.throw(
			_("You may not see payout run {0}.").format(frappe.bold(run.name)), frappe.PermissionError
		)
	lines = frappe.get_list(
		"PL Payout Line",
		filters={"payout_run": run.name},
		fields=[
			"employee",
			"employee_name",
			"pl_team",
			"layer",
			"grade",
			"coefficient",
			"days",
			"amount",
			"status",
			"additional_salary",
		],
		order_by="layer asc, pl_team asc, employee asc",
		limit_page_length=0,
	)
	everything = sees_all_payouts()
	own_teams = set(led_teams())
	teams = [t for t in run.teams if everything or t.pl_team in own_teams]
	by_team = defaultdict(list)
	for line in lines:
		by_team[line.pl_team].append(line)
	team_rows = {t.pl_team: t for t in teams}
	layers = defaultdict(list)
	for team in sorted(set(team_rows) | set(by_team)):
		layer = team_rows[team].layer if team in team_rows else by_team[team][0].layer
		layers[layer or ""].append(team)
	data = []
	currency = run.currency
	for layer in sorted(layers):
		layer_amount = 0.0
		for team in layers[layer]:
			for line in by_team.get(team, []):
				data.append(
					{**line, **EMPLOYEE_DOCTYPE, "status": _(line.status), "currency": currency, "indent": 1}
				)
			if team in team_rows:
				total = team_rows[team]
				layer_amount += flt(total.amount)
				data.append(
					{
						"pl_team": team,
						"layer": layer,
						"employee_name": _("Team total ({0} people)").format(total.heads),
						"amount": total.amount,
						"currency": currency,
						"indent": 0,
						"bold": 1,
					}
				)
		if everything:
			data.append(
				{
					"layer": layer,
					"employee_name": _("Layer total"),
					"amount": layer_amount,
					"currency": currency,
					"indent": 0,
					"bold": 1,
				}
			)
	summary = []
	if everything:
		data.append(
			{"employee_name": _("Total"), "amount": run.total_amount, "currency": currency, "bold": 1}
		)
		data.append({"employee_name": _("Pool"), "amount": run.pool, "currency": currency, "bold": 1})
		summary = [
			{"label": _("Pool"), "value": run.pool, "datatype": "Currency", "currency": currency},
			{
				"label": _("Total Amount"),
				"value": run.total_amount,
				"datatype": "Currency",
				"currency": currency,
			},
			{
				"label": _("Unallocated"),
				"value": run.unallocated,
				"datatype": "Currency",
				"currency": currency,
			},
			{"label": _("Status"), "value": _(run.status), "datatype": "Data"},
		]
	return {"columns": columns(), "data": data, "summary": summary}
