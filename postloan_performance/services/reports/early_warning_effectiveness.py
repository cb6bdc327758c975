"""Early Warning Effectiveness: alerts, outcomes, precision, recall and lead time by rule or by officer.

Precision is the warning_precision metric (Confirmed ÷ judged alerts raised in the period). Recall is
the warning_recall metric: of the loans first classified NPL in the period, the share that had an alert in
the 90 days before. By rule, over the whole portfolio in view, every rule is measured against every such
loan. By officer (and whenever the alerts in view are limited to some officers: an officer filter or a
team leader's view) it is the officer's recall as in the KPI: of the NPL loans he raised an alert on
(from 90 days before the NPL date to the period end), the share he raised in time. Lead time: mean days
from a Confirmed alert to its loan's first NPL date. Maths in `engine.portfolio`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

import frappe
from frappe import _
from frappe.utils import add_days

from postloan_performance.engine import portfolio
from postloan_performance.engine.delinquency import NPL_CLASSIFICATIONS
from postloan_performance.engine.metrics import RECALL_LOOKBACK_DAYS
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

RULE, OFFICER = "Rule", "Officer"
COUNT_COLUMNS = ("alerts", "confirmed", "false_alarms", "pending", "npl_loans", "caught")


def columns(group_by: str) -> list[dict]:
	if group_by == OFFICER:
		head = person_columns(_("Officer"), _("Officer Name"), "officer")
	else:
		head = [{"label": _("Rule"), "fieldname": "rule", "fieldtype": "Data", "width": 200}]
	return [
		*head,
		{"label": _("Alerts"), "fieldname": "alerts", "fieldtype": "Int", "width": 80},
		{"label": _("Confirmed"), "fieldname": "confirmed", "fieldtype": "Int", "width": 95},
		{"label": _("False Alarms"), "fieldname": "false_alarms", "fieldtype": "Int", "width": 100},
		{"label": _("Pending"), "fieldname": "pending", "fieldtype": "Int", "width": 80},
		{"label": _("Precision (%)"), "fieldname": "precision", "fieldtype": "Percent", "width": 100},
		{"label": _("NPL Loans"), "fieldname": "npl_loans", "fieldtype": "Int", "width": 90},
		{"label": _("Caught in Time"), "fieldname": "caught", "fieldtype": "Int", "width": 110},
		{"label": _("Recall (%)"), "fieldname": "recall", "fieldtype": "Percent", "width": 90},
		{
			"label": _("Average Lead Time (Days)"),
			"fieldname": "lead_time_days",
			"fieldtype": "Float",
			"precision": 1,
			"width": 130,
		},
	]


def load_alerts(filters: dict, start: dt.date, end: dt.date, officers: set[str] | None) -> pd.DataFrame:
	"""Alerts in view raised from the recall lookback before the period to its end, in one query."""
	conditions, values = [], {"first": add_days(start, -RECALL_LOOKBACK_DAYS), "end": end}
	join = ""
	if filters.get("company"):
		join = "join `tabPL Loan` l on l.name = a.loan"
		conditions.append("l.company = %(company)s")
		values["company"] = filters["company"]
	for field in ("rule", "officer"):
		if filters.get(field):
			conditions.append(f"a.{field} = %({field})s")
			values[field] = filters[field]
	if officers is not None:
		conditions.append("a.officer in %(officers)s")
		values["officers"] = tuple(sorted(officers)) or ("",)
	rows = frappe.db.sql(
		f"""select a.loan, a.rule, a.officer, {iso_text("a.raised_on")}, a.outcome
		from `tabPL Risk Alert` a {join}
		where a.raised_on between %(first)s and %(end)s{"".join(f" and {c}" for c in conditions)}""",
		values,
	)
	return dated_frame(rows, ["loan", "rule", "officer", "raised_on", "outcome"], ("raised_on",))


def load_first_npl(filters: dict, start: dt.date) -> pd.DataFrame:
	"""Each loan's first NPL snapshot date over all history, for the loans whose first one is on or after
	the period start (later than the period: lead times of alerts raised near its end).

	Grouping every NPL snapshot by loan fills a temporary table with every loan ever NPL (~0.3 s for the
	155,000 NPL snapshots of the benchmark data, ~0.6 s with the company join). Read in the order of the
	(classification, loan, as_of_date) index, the first date per classification and loan is streamed
	without one, and only the few whose first date is on or after the start are kept; of those, a loan
	that was NPL (in any classification) before the start is dropped, and the first date is the earliest
	over its classifications (~0.13 s, ~0.3 s with the company).
	"""
	join, condition, values = "", "", {"start": start, "classes": NPL_CLASSIFICATIONS}
	if filters.get("company"):
		join = "join `tabPL Loan` l on l.name = x.loan"
		condition = " and l.company = %(company)s"
		values["company"] = filters["company"]
	rows = frappe.db.sql(
		f"""select x.loan, {iso_text("min(x.first_npl_on)")}
		from (
			select s.loan, min(s.as_of_date) as first_npl_on
			from `tabPL Loan Snapshot` s
			where s.classification in %(classes)s and s.loan is not null
			group by s.classification, s.loan
			having min(s.as_of_date) >= %(start)s
		) x {join}
		where not exists (
			select 1 from `tabPL Loan Snapshot` p
			where p.classification in %(classes)s and p.loan = x.loan and p.as_of_date < %(start)s
		){condition}
		group by x.loan""",
		values,
	)
	return dated_frame(rows, ["loan", "first_npl_on"], ("first_npl_on",))


def get_data(filters: dict) -> dict:
	start, end = period(filters)
	group_by, by = group_by_of(filters, (RULE, OFFICER))
	officers = visible_employees(start=start, end=end)
	alerts = load_alerts(filters, start, end, officers)
	first_npl = load_first_npl(filters, start)
	# recall of the people in view (the KPI's) unless the whole portfolio's alerts are in view by rule
	involved_only = group_by == OFFICER or officers is not None or bool(filters.get("officer"))

	outcomes = portfolio.alert_outcomes(alerts, (start, end), by)
	recall = portfolio.warning_recall_by(
		first_npl, alerts, (start, end), by, involved_only=involved_only, groups=outcomes.index
	)
	lead = portfolio.lead_time_days(alerts, first_npl, (start, end), by)
	table = outcomes.join(recall, how="outer").join(lead, how="left")
	table[list(COUNT_COLUMNS)] = table[list(COUNT_COLUMNS)].fillna(0)
	rows = _rows(table, by)
	overall = portfolio.warning_recall(first_npl, alerts, (start, end), involved_only=involved_only)
	return {
		"columns": columns(group_by),
		"data": rows,
		"chart": chart(rows, by),
		"summary": summary(outcomes, overall),
	}


def _rows(table: pd.DataFrame, by: str) -> list[dict]:
	rows = []
	for row, record in group_rows(table, by, "officer"):
		row.update({column: int(record[column]) for column in COUNT_COLUMNS})
		row.update({column: clean(record[column]) for column in ("precision", "recall", "lead_time_days")})
		rows.append(row)
	return rows


def chart(rows: list[dict], by: str) -> dict:
	labels = [(r.get("officer_name") or r["officer"]) if by == "officer" else r["rule"] for r in rows]
	return bar_chart(
		labels,
		[
			{"name": _("Precision (%)"), "values": [chart_number(r["precision"]) for r in rows]},
			{"name": _("Recall (%)"), "values": [chart_number(r["recall"]) for r in rows]},
		],
		colors=["#2490ef", "#29cd42"],
	)


def summary(outcomes: pd.DataFrame, overall: dict) -> list[dict]:
	confirmed, false_alarms = outcomes["confirmed"].sum(), outcomes["false_alarms"].sum()
	judged = confirmed + false_alarms
	precision = round(float(confirmed) * 100.0 / float(judged), 2) if judged else None
	recall = clean(overall["recall"], 2)
	return [
		summary_item(int(outcomes["alerts"].sum()), _("Alerts"), "Int"),
		summary_item(precision, _("Overall Precision (%)"), "Percent", "Green"),
		summary_item(recall, _("Overall Recall (%)"), "Percent", "Green"),
		summary_item(int(outcomes["pending"].sum()), _("Pending Alerts"), "Int", "Orange"),
	]
