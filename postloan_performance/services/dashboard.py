"""Numbers and charts of the "Post-Loan Performance" workspace.

Each function answers with a fixed, small number of aggregate queries, whatever the size of the
portfolio: the workspace is opened often and must stay fast on millions of snapshots. The whitelisted
entry points are in api.py; they call :func:`require_pl_role` first.

Filters: every function takes an optional company (the number cards and charts offer it as a filter);
without one the whole site is aggregated.
"""

from __future__ import annotations

import datetime as dt
import json

import frappe
from frappe import _
from frappe.utils import add_days, flt, get_first_day, get_last_day, getdate, today

from postloan_performance.engine.delinquency import NPL_CLASSIFICATIONS
from postloan_performance.engine.metrics import MIN_SURVEY_RESPONSES
from postloan_performance.engine.names import PUBLISHED_STATES
from postloan_performance.services import access
from postloan_performance.services.access import reads_all_results

# Appraisal states that come after Manager Review (the cycle's progress card counts them as done).
PAST_MANAGER_REVIEW = ("Calibration", "Approved", *PUBLISHED_STATES)
OPEN_CYCLE_STATES = ("Open", "Scoring", "Calibration")
PUBLISHED_CYCLE_STATES = ("Published", "Closed")
TREND_MONTHS = 24
# KPI Achievement chart: each line's achievement is clipped to [0, ACHIEVEMENT_CAP] % before the
# mean, so that one KPI whose target is close to zero does not flatten every other bar.
ACHIEVEMENT_CAP = 200.0
ROUND = 2
# KPI Achievement chart: to those who do not read every result, a KPI's mean only over at least this many
# lines (the app's minimum group for aggregates, as for survey answers)
MIN_GROUP = MIN_SURVEY_RESPONSES


def require_pl_role() -> None:
	"""Only users with a post-loan performance role (or System Manager) may read the dashboard."""
	access.require_pl_role()


def require_chart_roles(chart: str) -> None:
	"""Only the roles of the Dashboard Chart (its role list; a PL role when it has none) get its data,
	whatever chart name the caller passes."""
	require_pl_role()
	if frappe.session.user == "Administrator":
		return
	roles = set(
		frappe.get_all("Has Role", filters={"parenttype": "Dashboard Chart", "parent": chart}, pluck="role")
	)
	if roles and not roles & set(frappe.get_roles()):
		frappe.throw(_("You may not see the chart {0}.").format(_(chart)), frappe.PermissionError)


def company_from(filters) -> str | None:
	"""The company of a card's or chart's filters (a dict or its JSON), or None."""
	if not filters:
		return None
	if isinstance(filters, str):
		try:
			filters = json.loads(filters)
		except ValueError:
			return None
	if isinstance(filters, dict):
		return filters.get("company") or None
	return None


def _round(value) -> float | None:
	return None if value is None else round(flt(value), ROUND)


def _loan_join(company: str | None, alias: str = "s", loan: str = "l") -> tuple[str, str, dict]:
	"""SQL join and condition restricting `alias.loan` to the loans of a company."""
	if not company:
		return "", "", {}
	return (
		f"join `tabPL Loan` {loan} on {loan}.name = {alias}.loan",
		f" and {loan}.company = %(company)s",
		{"company": company},
	)


# ---------------------------------------------------------------- NPL ratio
def latest_snapshot_date(company: str | None = None) -> dt.date | None:
	join, condition, params = _loan_join(company)
	rows = frappe.db.sql(
		f"select max(s.as_of_date) from `tabPL Loan Snapshot` s {join} where 1=1 {condition}",  # nosemgrep
		params,
	)
	return getdate(rows[0][0]) if rows and rows[0][0] else None


def npl_ratio(company: str | None = None) -> dict:
	"""NPL ratio (percent) on the latest snapshot date, in one aggregate query.

	As the built-in metric: Σ outstanding of snapshots classified Substandard/Doubtful/Loss ÷ Σ
	outstanding, over the snapshots of the single latest `as_of_date` (the npl_ratio metric).
	"""
	join, condition, params = _loan_join(company)
	inner_join, inner_condition, _params = _loan_join(company, "s2", "l2")
	row = frappe.db.sql(
		f"""
		select s.as_of_date,
			sum(case when s.classification in %(npl)s then s.outstanding else 0 end),
			sum(s.outstanding),
			count(*)
		from `tabPL Loan Snapshot` s {join}
		where s.as_of_date = (
			select max(s2.as_of_date) from `tabPL Loan Snapshot` s2 {inner_join} where 1=1 {inner_condition}
		) {condition}
		group by s.as_of_date
		""",  # nosemgrep
		{**params, "npl": NPL_CLASSIFICATIONS},
	)
	if not row:
		return {"value": None, "as_of_date": None, "loans": 0}
	as_of_date, npl, total, loans = row[0]
	value = flt(npl) * 100.0 / flt(total) if flt(total) else None
	return {"value": _round(value), "as_of_date": getdate(as_of_date), "loans": loans}


def npl_trend(company: str | None = None, months: int = TREND_MONTHS) -> dict:
	"""Monthly NPL ratio: for each month, the ratio on its last snapshot date (latest `months` months)."""
	join, condition, params = _loan_join(company)
	dates = [
		getdate(d)
		for d in frappe.db.sql_list(
			f"select distinct s.as_of_date from `tabPL Loan Snapshot` s {join} where 1=1 {condition}",  # nosemgrep
			params,
		)
	]
	last_of_month: dict[tuple[int, int], dt.date] = {}
	for day in dates:
		key = (day.year, day.month)
		if key not in last_of_month or day > last_of_month[key]:
			last_of_month[key] = day
	chosen = [last_of_month[k] for k in sorted(last_of_month)][-months:]
	if not chosen:
		return {"labels": [], "datasets": [{"name": _("NPL Ratio (%)"), "values": []}]}
	rows = frappe.db.sql(
		f"""
		select s.as_of_date,
			sum(case when s.classification in %(npl)s then s.outstanding else 0 end),
			sum(s.outstanding)
		from `tabPL Loan Snapshot` s {join}
		where s.as_of_date in %(dates)s {condition}
		group by s.as_of_date
		""",  # nosemgrep
		{**params, "npl": NPL_CLASSIFICATIONS, "dates": tuple(chosen)},
	)
	ratio = {getdate(d): (flt(n) * 100.0 / flt(t) if flt(t) else None) for d, n, t in rows}
	return {
		"labels": [d.strftime("%Y-%m") for d in chosen],
		"datasets": [{"name": _("NPL Ratio (%)"), "values": [_round(ratio.get(d)) or 0 for d in chosen]}],
	}


# ---------------------------------------------------------------- recovery rate
def last_full_month(reference: dt.date) -> tuple[dt.date, dt.date]:
	"""The latest calendar month that ends on or before `reference`."""
	reference = getdate(reference)
	if reference == getdate(get_last_day(reference)):
		return getdate(get_first_day(reference)), reference
	end = add_days(get_first_day(reference), -1)
	return getdate(get_first_day(end)), getdate(end)


def recovery_rate(company: str | None = None, on: dt.date | None = None) -> dict:
	"""Recovery rate (percent) of the last full month of data, per the recovery_rate metric.

	The month is the latest full calendar month up to the latest snapshot date (or today, whichever
	is earlier). Σ recoveries received in the month ÷ Σ entry_overdue_amount of the cases active at
	any time in it (open at its start or opened in it). One statement with two aggregates.
	"""
	reference = getdate(on or today())
	latest = latest_snapshot_date(company)
	if latest and latest < reference:
		reference = latest
	start, end = last_full_month(reference)
	company_case = "and l.company = %(company)s" if company else ""
	row = frappe.db.sql(
		f"""
		select
			(select sum(r.amount) from `tabPL Recovery` r
				{"join `tabPL Loan` l on l.name = r.loan" if company else ""}
				where r.received_on between %(start)s and %(end)s {company_case}),
			(select sum(c.entry_overdue_amount) from `tabPL Collection Case` c
				{"join `tabPL Loan` l on l.name = c.loan" if company else ""}
				where c.opened_on <= %(end)s and (c.closed_on is null or c.closed_on >= %(start)s)
				{company_case})
		""",  # nosemgrep
		{"start": start, "end": end, "company": company},
	)
	recovered, workload = row[0] if row else (None, None)
	value = flt(recovered) * 100.0 / flt(workload) if flt(workload) else None
	return {
		"value": _round(value),
		"month_start": start,
		"month_end": end,
		"recovered": flt(recovered),
		"workload": flt(workload),
	}


# ---------------------------------------------------------------- review cycles
def _latest_cycle(statuses: tuple[str, ...], company: str | None, **filters) -> str | None:
	conditions = {"status": ("in", statuses), **filters}
	if company:
		conditions["company"] = company
	names = frappe.get_all(
		"PL Review Cycle",
		filters=conditions,
		order_by="period_end desc, period_start desc, creation desc",
		pluck="name",
		limit=1,
	)
	return names[0] if names else None


def open_cycle_progress(company: str | None = None) -> dict:
	"""Share (percent) of the appraisals of the latest Open/Scoring/Calibration cycle that are past
	Manager Review."""
	cycle = _latest_cycle(OPEN_CYCLE_STATES, company)
	if not cycle:
		return {"value": None, "cycle": None, "done": 0, "total": 0}
	total, done = frappe.db.sql(
		"""
		select count(*), coalesce(sum(status in %(done)s), 0)
		from `tabPL Appraisal`
		where review_cycle = %(cycle)s and docstatus < 2
		""",
		{"cycle": cycle, "done": PAST_MANAGER_REVIEW},
	)[0]
	value = done * 100.0 / total if total else 0.0
	return {"value": _round(value), "cycle": cycle, "done": int(done), "total": int(total)}


def grade_distribution(company: str | None = None) -> dict:
	"""Final grades of the latest published (Published or Closed) formal cycle, best grade first."""
	cycle = _latest_cycle(PUBLISHED_CYCLE_STATES, company, is_trial=0)
	if not cycle:
		return {"labels": [], "datasets": [{"name": _("Appraisals"), "values": []}], "cycle": None}
	counts = dict(
		frappe.db.sql(
			"""
			select final_grade, count(*) from `tabPL Appraisal`
			where review_cycle = %(cycle)s and docstatus = 1 and ifnull(final_grade, '') != ''
			group by final_grade
			""",
			{"cycle": cycle},
		)
	)
	order = frappe.db.sql_list(
		"""
		select b.grade from `tabPL Grade Band` b
		where b.parenttype = 'PL KPI Template' and b.parent in (
			select distinct template from `tabPL Appraisal` where review_cycle = %(cycle)s
		)
		group by b.grade order by max(b.min_score) desc
		""",
		{"cycle": cycle},
	)
	labels = order + sorted(g for g in counts if g not in order)
	return {
		"labels": labels,
		"datasets": [{"name": cycle, "values": [int(counts.get(g, 0)) for g in labels]}],
		"cycle": cycle,
	}


def kpi_achievement(company: str | None = None) -> dict:
	"""Mean achievement (percent of target, each line clipped to 0–ACHIEVEMENT_CAP) by KPI over the
	computed lines of the latest cycle.

	The latest published (Published or Closed) formal cycle with computed appraisals is used; trial
	cycles never. Lines without data are left out.
	"""
	company_condition = "and c.company = %(company)s" if company else ""
	# only published formal cycles: a chart must not show results before their publication
	latest = frappe.db.sql_list(
		f"""
		select a.review_cycle from `tabPL Appraisal` a
		join `tabPL Review Cycle` c on c.name = a.review_cycle
		where a.computed_on is not null and a.docstatus < 2 {company_condition}
			and c.is_trial = 0 and c.status in %(published)s
		order by c.period_end desc, c.period_start desc, c.creation desc
		limit 1
		""",  # nosemgrep
		{"company": company, "published": PUBLISHED_CYCLE_STATES},
	)
	cycle = latest[0] if latest else None
	if not cycle:
		return {"labels": [], "datasets": [{"name": _("Mean Achievement (%)"), "values": []}], "cycle": None}
	rows = frappe.db.sql(
		"""
		select k.kpi, max(k.kpi_name), avg(least(greatest(k.achievement, 0), %(cap)s)), count(*)
		from `tabPL Appraisal KPI` k
		join `tabPL Appraisal` a on a.name = k.parent
		where k.parenttype = 'PL Appraisal' and a.review_cycle = %(cycle)s and a.docstatus < 2
			and ifnull(k.no_data, 0) = 0
		group by k.kpi
		order by k.kpi
		""",
		{"cycle": cycle, "cap": ACHIEVEMENT_CAP},
	)
	if not reads_all_results():
		# a mean over fewer lines than the minimum group would show few people's results (one's, at worst)
		rows = [row for row in rows if row[3] >= MIN_GROUP]
	return {
		"labels": [_(name or kpi) for kpi, name, _mean, _n in rows],
		"datasets": [
			{"name": _("Mean Achievement (%)"), "values": [_round(mean) or 0 for _k, _n, mean, _c in rows]}
		],
		"cycle": cycle,
	}


# ---------------------------------------------------------------- number card answers
def card(value: float | None, route: list[str], empty: str, route_options: dict | None = None) -> dict | str:
	"""The answer of a Custom number card: a percent with a route, or a short text when there is no data."""
	if value is None:
		return empty
	answer = {"value": value, "fieldtype": "Percent", "precision": ROUND, "route": route}
	if route_options:
		answer["route_options"] = route_options
	return answer


def report_or_list_route(report: str, doctype: str) -> list[str]:
	if frappe.db.exists("Report", report):
		return ["query-report", report]
	return ["List", doctype]
