"""Service Level: tickets, resolution rate, first-response times (mean, median, p90), CSAT and NPS by
agent or by channel.

Tickets opened in the period and the feedback given in it are read in one query each; the maths is in
`engine.service_level` and follows the built-in metrics (ticket_resolution_rate, first_response_minutes,
customer_satisfaction, customer_loyalty_nps), so an agent's row equals his KPI actuals. Feedback counts for
the collector of its case, else for the employee it names (as the KPI); by channel, feedback counts for
the channel of its ticket.

Dates and datetimes are selected as text and parsed by pandas in one vectorised call, as in
`services.metric_frames`: the database driver would turn each of the ~80,000 values of a quarter of the
benchmark data into a Python datetime one by one (~0.35 s).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

import frappe
from frappe import _
from frappe.utils import add_days

from postloan_performance.engine import service_level
from postloan_performance.services.access import visible_employees
from postloan_performance.services.reports.common import (
	bar_chart,
	chart_number,
	clean,
	dated_frame,
	group_by_of,
	group_rows,
	iso_text,
	period,
	person_columns,
	summary_item,
)

AGENT, CHANNEL = "Agent", "Channel"
ALL = "all"


def columns(group_by: str) -> list[dict]:
	if group_by == CHANNEL:
		head = [{"label": _("Channel"), "fieldname": "channel", "fieldtype": "Data", "width": 120}]
	else:
		head = person_columns(_("Agent"), _("Agent Name"), "agent")
	minutes = {"fieldtype": "Float", "precision": 1, "width": 120}
	return [
		*head,
		{"label": _("Tickets"), "fieldname": "tickets", "fieldtype": "Int", "width": 80},
		{"label": _("Resolved"), "fieldname": "resolved", "fieldtype": "Int", "width": 85},
		{
			"label": _("Resolution Rate (%)"),
			"fieldname": "resolution_rate",
			"fieldtype": "Percent",
			"width": 120,
		},
		{"label": _("First Response Mean (Minutes)"), "fieldname": "first_response_mean", **minutes},
		{"label": _("First Response Median (Minutes)"), "fieldname": "first_response_median", **minutes},
		{"label": _("First Response P90 (Minutes)"), "fieldname": "first_response_p90", **minutes},
		{"label": _("Feedback"), "fieldname": "responses", "fieldtype": "Int", "width": 85},
		{"label": _("CSAT (%)"), "fieldname": "csat", "fieldtype": "Percent", "width": 90},
		{"label": _("NPS"), "fieldname": "nps", "fieldtype": "Float", "precision": 1, "width": 80},
	]


def _where(conditions: list[str]) -> str:
	return "".join(f" and {c}" for c in conditions)


def load_tickets(filters: dict, start: dt.date, end: dt.date, agents: set[str] | None) -> pd.DataFrame:
	conditions = []
	values = {"start": start, "next_day": add_days(end, 1)}
	if filters.get("company"):
		conditions.append("ifnull(l.company, e.company) = %(company)s")
		values["company"] = filters["company"]
	if filters.get("agent"):
		conditions.append("t.agent = %(agent)s")
		values["agent"] = filters["agent"]
	if filters.get("channel"):
		conditions.append("t.channel = %(channel)s")
		values["channel"] = filters["channel"]
	if agents is not None:
		conditions.append("t.agent in %(agents)s")
		values["agents"] = tuple(sorted(agents)) or ("",)
	rows = frappe.db.sql(
		f"""select t.agent, t.channel, {iso_text("t.opened_on")}, {iso_text("t.first_response_on")},
			{iso_text("t.resolved_on")}
		from `tabPL Service Ticket` t
		left join `tabPL Loan` l on l.name = t.loan
		left join `tabEmployee` e on e.name = t.agent
		where t.opened_on >= %(start)s and t.opened_on < %(next_day)s{_where(conditions)}""",
		values,
	)
	return dated_frame(
		rows,
		["agent", "channel", "opened_on", "first_response_on", "resolved_on"],
		("opened_on", "first_response_on", "resolved_on"),
	)


def load_feedback(filters: dict, start: dt.date, end: dt.date, agents: set[str] | None) -> pd.DataFrame:
	"""Feedback given in the period with the employee it counts for (the case's collector, else the
	employee named) and the channel of its ticket."""
	employee = "ifnull(c.collector, f.employee)"
	conditions, values = [], {"start": start, "end": end}
	if filters.get("company"):
		conditions.append("ifnull(l.company, e.company) = %(company)s")
		values["company"] = filters["company"]
	if filters.get("agent"):
		conditions.append(f"{employee} = %(agent)s")
		values["agent"] = filters["agent"]
	if filters.get("channel"):
		conditions.append("t.channel = %(channel)s")
		values["channel"] = filters["channel"]
	if agents is not None:
		conditions.append(f"{employee} in %(agents)s")
		values["agents"] = tuple(sorted(agents)) or ("",)
	rows = frappe.db.sql(
		f"""select {employee}, f.ticket, t.channel, {iso_text("f.given_on")}, f.csat, f.nps
		from `tabPL Customer Feedback` f
		left join `tabPL Collection Case` c on c.name = f.collection_case
		left join `tabPL Service Ticket` t on t.name = f.ticket
		left join `tabPL Loan` l on l.name = ifnull(c.loan, t.loan)
		left join `tabEmployee` e on e.name = {employee}
		where f.given_on between %(start)s and %(end)s{_where(conditions)}""",
		values,
	)
	return dated_frame(rows, ["agent", "ticket", "channel", "given_on", "csat", "nps"], ("given_on",))


def get_data(filters: dict) -> dict:
	start, end = period(filters)
	group_by, by = group_by_of(filters, (AGENT, CHANNEL))
	agents = visible_employees(start=start, end=end)
	tickets = load_tickets(filters, start, end, agents)
	feedback = load_feedback(filters, start, end, agents)
	levels = service_level.ticket_levels(tickets, (start, end), by)
	scores = service_level.feedback_scores(feedback, (start, end), by)
	# the rows: groups with tickets opened in the period or with feedback on a ticket (an agent's feedback
	# on collection cases still counts in his scores, but does not make a collector an agent)
	groups = levels.index.union(pd.Index(feedback.loc[feedback["ticket"].notna(), by].dropna().unique()))
	table = levels.reindex(groups).join(scores, how="left")
	for column in ("tickets", "resolved", "responses"):
		table[column] = table[column].fillna(0)
	rows = _rows(table, by)
	# one feedback row may count for a group shown and be ignored elsewhere: the totals use the shown ones
	shown = feedback[feedback[by].isin(groups)]
	return {
		"columns": columns(group_by),
		"data": rows,
		"chart": chart(rows, by),
		"summary": summary(tickets.assign(_all=ALL), shown.assign(_all=ALL), start, end),
	}


def _rows(table: pd.DataFrame, by: str) -> list[dict]:
	rows = []
	for row, record in group_rows(table, by, "agent"):
		row.update({column: int(record[column]) for column in ("tickets", "resolved", "responses")})
		for column in (
			"resolution_rate",
			"first_response_mean",
			"first_response_median",
			"first_response_p90",
			"csat",
			"nps",
		):
			row[column] = clean(record[column])
		rows.append(row)
	return rows


def chart(rows: list[dict], by: str) -> dict:
	labels = [(r.get("agent_name") or r["agent"]) if by == "agent" else _(r["channel"]) for r in rows]
	return bar_chart(
		labels,
		[
			{"name": _("Resolution Rate (%)"), "values": [chart_number(r["resolution_rate"]) for r in rows]},
			{"name": _("CSAT (%)"), "values": [chart_number(r["csat"]) for r in rows]},
		],
		colors=["#2490ef", "#29cd42"],
	)


def summary(tickets: pd.DataFrame, feedback: pd.DataFrame, start: dt.date, end: dt.date) -> list[dict]:
	levels = service_level.ticket_levels(tickets, (start, end), "_all")
	scores = service_level.feedback_scores(feedback, (start, end), "_all")
	total = levels.loc[ALL] if ALL in levels.index else None
	nps = scores.loc[ALL, "nps"] if ALL in scores.index else None
	return [
		summary_item(int(total["tickets"]) if total is not None else 0, _("Tickets"), "Int"),
		summary_item(
			clean(total["resolution_rate"], 2) if total is not None else None,
			_("Overall Resolution Rate (%)"),
			"Percent",
			"Green",
		),
		summary_item(
			clean(total["first_response_median"], 1) if total is not None else None,
			_("Median First Response (Minutes)"),
			"Float",
			"Blue",
		),
		summary_item(clean(nps, 1), _("NPS"), "Float", "Green"),
	]
