"""Collector Performance: each collector's collection KPIs over a period, ranked by recovered amount.

The values are the built-in metrics (docs/scheme.md) for every collector at once (Employee subjects), equal to
his KPI actuals for the same period (`services.metric_frames` + `engine.metrics`), but summed per collector by
the database (GROUP BY) instead of loading the period's cases, actions and recoveries into pandas (~300,000
rows for a quarter of the benchmark data). The statements follow the engine's attribution for Employee
subjects:

* cases count for their collector: active in the period (opened by its end, not closed before its start),
  successful when Cured/Paid Off and closed in the period (not before they opened);
* actions and recoveries count for "the collector of their case": the case's collector when the case is
  one the KPI loader reads (``load_cases``: opened by the period end, not closed before the lookback start
  ``Window.first_day``) and has a collector, else the row's own collector;
* a promise to pay (ptp_amount > 0, ptp_date in the period) is kept when the recoveries of its case
  received from the action's date to ptp_date + 3 days (only those the KPI loader reads: from
  ``Window.recoveries_start`` to the period end + 3 days) sum to ≥ 95 % of the promise.

Rates are divided in Python in the engine's order of operations (count ÷ count × 100), means as sum ÷
count (MariaDB's AVG keeps four decimals), so the values equal the KPI actuals; the recovered amount is
the database's exact decimal sum, which can differ from the engine's float sum in the last binary digit.
"""

from __future__ import annotations

import pandas as pd

import frappe
from frappe import _
from frappe.utils import add_days

from postloan_performance.engine import frames
from postloan_performance.engine.metrics import (
	CONTACT_ACTION_TYPES,
	PTP_GRACE_DAYS,
	PTP_KEPT_SHARE,
	RIGHT_PARTY,
	SUCCESS_STATUSES,
)
from postloan_performance.services.access import team_members_on, visible_employees
from postloan_performance.services.metric_frames import Window
from postloan_performance.services.reports.common import (
	EMPLOYEE_DOCTYPE,
	bar_chart,
	chart_number,
	clean,
	employee_names,
	period,
	person_columns,
	summary_item,
	team_and_descendants,
)

TOP_IN_CHART = 20
VALUE_COLUMNS = (
	"cases_active",
	"success_rate",
	"recovered_amount",
	"avg_cycle_days",
	"ptp_kept_rate",
	"right_party_rate",
)
# the case a row names, when the KPI loader reads it (services.metric_frames.load_cases)
KNOWN_CASE = (
	"c.name = {alias}.collection_case and c.opened_on <= %(end)s"
	" and (c.closed_on is null or c.closed_on >= %(first_day)s)"
)


def columns() -> list[dict]:
	return [
		{"label": _("Rank"), "fieldname": "rank", "fieldtype": "Int", "width": 70},
		*person_columns(_("Collector"), _("Collector Name"), "collector"),
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


def _restrict(collectors: set[str], filters: dict, start, end) -> set[str]:
	if filters.get("collector"):
		collectors &= {filters["collector"]}
	if filters.get("pl_team"):
		teams = team_and_descendants(filters["pl_team"])
		collectors &= {m.employee for m in team_members_on(teams, start, end)}
	visible = visible_employees(start=start, end=end)
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


def _hint(*indexes: str) -> str:
	"""MariaDB, asked to GROUP BY a collector, walks a (collector, date) index to skip the sort and fetches
	every row at random (~5x slower here than reading the table and grouping ~2,000 collectors).
	(The actions are read in full either way: the period's actions have no index of their own.)"""
	return f"ignore index ({', '.join(indexes)})" if frappe.db.db_type == "mariadb" else ""


def _params(window: Window) -> dict:
	return {
		"start": window.start,
		"end": window.end,
		"next_day": add_days(window.end, 1),
		"first_day": window.first_day,
		"recoveries_start": window.recoveries_start,
		"recoveries_end": add_days(window.end, PTP_GRACE_DAYS),
		"grace": PTP_GRACE_DAYS,
		"kept_share": PTP_KEPT_SHARE * 100,
		"success": SUCCESS_STATUSES,
		"contact_types": CONTACT_ACTION_TYPES,
		"right_party": RIGHT_PARTY,
	}


def _case_totals(params: dict) -> dict[str, tuple]:
	"""collector -> (cases active in the period, of them successful, their days opened → closed)."""
	success = (
		"c.status in %(success)s and c.closed_on >= %(start)s and c.closed_on <= %(end)s"
		" and c.closed_on >= c.opened_on"
	)
	rows = frappe.db.sql(
		f"""select c.collector, count(*),
			sum(case when {success} then 1 else 0 end),
			sum(case when {success} then datediff(c.closed_on, c.opened_on) else 0 end)
		from `tabPL Collection Case` c {_hint("collector_opened_on_index")}
		where c.opened_on <= %(end)s and (c.closed_on is null or c.closed_on >= %(start)s)
		group by c.collector""",
		params,
	)
	return {row[0]: row[1:] for row in rows if row[0]}


def _recovered(params: dict) -> dict[str, float]:
	"""collector of the case (else of the recovery) -> Σ recoveries received in the period."""
	rows = frappe.db.sql(
		f"""select coalesce(c.collector, r.collector) as who, sum(r.amount)
		from `tabPL Recovery` r
		left join `tabPL Collection Case` c on {KNOWN_CASE.format(alias="r")}
		where r.received_on >= %(start)s and r.received_on <= %(end)s
		group by who""",
		params,
	)
	return {row[0]: float(row[1] or 0) for row in rows if row[0]}


def _action_totals(params: dict) -> dict[str, tuple]:
	"""collector of the case (else of the action) -> (Call/Visit actions in the period, of them Right
	Party, promises to pay due in the period, of them kept), in one pass over the actions."""
	contact = "a.action_on >= %(start)s and a.action_on < %(next_day)s and a.action_type in %(contact_types)s"
	promise = "a.ptp_amount > 0 and a.ptp_date >= %(start)s and a.ptp_date <= %(end)s"
	paid = """(select coalesce(sum(r.amount), 0) from `tabPL Recovery` r
		where r.collection_case = a.collection_case
			and r.received_on >= %(recoveries_start)s and r.received_on <= %(recoveries_end)s
			and (a.action_on is null or r.received_on >= date(a.action_on))
			and r.received_on <= date_add(a.ptp_date, interval %(grace)s day))"""
	rows = frappe.db.sql(
		f"""select who, sum(contact), sum(right_party), sum(promise), sum(kept) from (
			select coalesce(c.collector, a.collector) as who,
				case when {contact} then 1 else 0 end as contact,
				case when {contact} and a.contact_result = %(right_party)s then 1 else 0 end as right_party,
				case when {promise} then 1 else 0 end as promise,
				case when {promise} and {paid} * 100 + 0.000001 >= a.ptp_amount * %(kept_share)s
					then 1 else 0 end as kept
			from `tabPL Collection Action` a
			left join `tabPL Collection Case` c on {KNOWN_CASE.format(alias="a")}
			where ({contact}) or ({promise})
		) x group by who""",
		params,
	)
	return {row[0]: tuple(int(v or 0) for v in row[1:]) for row in rows if row[0]}


def _rate(part, whole, scale: float = 100.0) -> float:
	"""part ÷ whole × scale as the engine computes it (NaN for no data)."""
	return float(part) / float(whole) * scale if whole else float("nan")


def collector_values(window: Window) -> pd.DataFrame:
	"""Every collector with data in the period (a case active in it or a recovery in it) and his
	cases_active, success_rate, recovered_amount, avg_cycle_days, ptp_kept_rate, right_party_rate
	(NaN = no data), indexed by collector."""
	params = _params(window)
	cases, recovered, actions = _case_totals(params), _recovered(params), _action_totals(params)
	nan = float("nan")
	records = {}
	for collector in set(cases) | set(recovered):
		active, won, won_days = cases.get(collector, (0, 0, 0))
		contacts, right_party, promises, kept = actions.get(collector, (0, 0, 0, 0))
		records[collector] = (
			float(active) if active else nan,
			_rate(won, active),
			recovered.get(collector, 0.0),
			_rate(won_days, won, 1.0),
			_rate(kept, promises),
			_rate(right_party, contacts),
		)
	return pd.DataFrame.from_dict(records, orient="index", columns=list(VALUE_COLUMNS)).sort_index()


def get_data(filters: dict) -> dict:
	start, end = period(filters)
	values = collector_values(Window(start, end))
	values = values.loc[sorted(_restrict(set(values.index), filters, start, end))]
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
	for record in frames.records(values):
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
