"""The built-in metrics of the default templates as plain aggregate SQL, two ways.

* :func:`floor` — the raw floor: one ``GROUP BY`` statement per metric (and period) for every subject at
  once, the least SQL that produces the numbers the cycle needs; nothing else (no appraisal reads or
  writes, no scoring).
* :func:`per_subject` — the naive per-document way: the same aggregate filtered by one employee (or, for
  the management layer's team KPIs, one team and its sub-teams), one query per metric per appraisal.

Both follow the attribution rules of ``engine/metrics.py`` for Employee subjects and for portfolio (team)
subjects, so their values equal the pipeline's KPI actuals (the runner checks it). Rates are percent;
``None`` is "no data" (a zero denominator). Averages are ``sum / count`` in Python: MariaDB's ``AVG`` of
integers keeps only four decimals (``div_precision_increment``).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import frappe

NPL = "('Substandard', 'Doubtful', 'Loss')"
SUCCESS = "('Cured', 'Paid Off')"


@dataclass(frozen=True)
class Window:
	start: dt.date
	end: dt.date
	baseline_start: dt.date | None
	baseline_end: dt.date | None
	cycle: str

	def params(self, start: dt.date | None = None, end: dt.date | None = None) -> dict:
		start, end = start or self.start, end or self.end
		return {"start": start, "end": end, "end_dt": f"{end} 23:59:59.999999", "cycle": self.cycle}


def _ratio(numerator, denominator, scale: float = 100.0) -> float | None:
	if not denominator or float(denominator) <= 0:
		return None
	return float(numerator or 0) / float(denominator) * scale


@dataclass(frozen=True)
class EmployeeMetric:
	"""``select <key>, <aggregates> <source> group by <key>``; ``finish`` turns the aggregates into the value."""

	code: str
	key: str
	source: str
	aggregates: str
	finish: Callable[..., float | None]


EMPLOYEE_METRICS = {
	m.code: m
	for m in (
		EmployeeMetric(
			"collection_success_rate",
			"c.collector",
			"from `tabPL Collection Case` c where c.opened_on <= %(end)s"
			" and (c.closed_on is null or c.closed_on >= %(start)s)",
			f"count(*), sum(c.status in {SUCCESS} and c.closed_on between %(start)s and %(end)s"
			" and c.closed_on >= c.opened_on)",
			lambda active, success: _ratio(success, active),
		),
		EmployeeMetric(
			"avg_collection_cycle_days",
			"c.collector",
			f"from `tabPL Collection Case` c where c.status in {SUCCESS}"
			" and c.closed_on between %(start)s and %(end)s and c.closed_on >= c.opened_on"
			" and c.opened_on <= %(end)s",
			"sum(datediff(c.closed_on, c.opened_on)), count(*)",
			lambda days, count: _ratio(days, count, 1.0),
		),
		EmployeeMetric(
			"customer_satisfaction",
			"coalesce(c.collector, f.employee)",
			"from `tabPL Customer Feedback` f left join `tabPL Collection Case` c on c.name = f.collection_case"
			" where f.given_on between %(start)s and %(end)s",
			"sum(f.csat), count(*)",
			lambda csat, count: _ratio(csat, count, 100.0 / 5),
		),
		EmployeeMetric(
			"customer_loyalty_nps",
			"coalesce(c.collector, f.employee)",
			"from `tabPL Customer Feedback` f left join `tabPL Collection Case` c on c.name = f.collection_case"
			" where f.given_on between %(start)s and %(end)s",
			"sum((f.nps >= 9) - (f.nps <= 6)), count(*)",
			lambda net, count: _ratio(net, count, 100.0),
		),
		EmployeeMetric(
			"warning_precision",
			"a.officer",
			"from `tabPL Risk Alert` a where a.raised_on between %(start)s and %(end)s"
			" and a.outcome in ('Confirmed', 'False Alarm')",
			"sum(a.outcome = 'Confirmed'), count(*)",
			lambda confirmed, count: _ratio(confirmed, count, 100.0),
		),
		EmployeeMetric(
			"risk_report_quality",
			"r.author",
			"from `tabPL Risk Assessment` r where r.report_date between %(start)s and %(end)s"
			" and r.quality_rating > 0",
			"sum(r.quality_rating), count(*)",
			lambda rating, count: _ratio(rating, count, 100.0 / 5),
		),
		EmployeeMetric(
			"risk_event_handling_hours",
			"v.handler",
			"from `tabPL Risk Event` v where v.resolved_on between %(start)s and %(end_dt)s"
			" and v.reported_on is not null and v.resolved_on >= v.reported_on",
			"sum(timestampdiff(microsecond, v.reported_on, v.resolved_on)), count(*)",
			lambda micro, count: _ratio(micro, count, 1 / 3.6e9),
		),
		EmployeeMetric(
			"ticket_resolution_rate",
			"t.agent",
			"from `tabPL Service Ticket` t where t.opened_on between %(start)s and %(end_dt)s",
			"sum(t.resolved_on is not null and t.resolved_on <= %(end_dt)s), count(*)",
			lambda resolved, count: _ratio(resolved, count, 100.0),
		),
		EmployeeMetric(
			"first_response_minutes",
			"t.agent",
			"from `tabPL Service Ticket` t where t.opened_on between %(start)s and %(end_dt)s"
			" and t.first_response_on is not null and t.first_response_on >= t.opened_on",
			"sum(timestampdiff(microsecond, t.opened_on, t.first_response_on)), count(*)",
			lambda micro, count: _ratio(micro, count, 1 / 6e7),
		),
	)
}
TEAM_METRICS = ("npl_ratio_reduction", "recovery_rate_improvement", "team_satisfaction")

# Team (portfolio) aggregates, per managing team: {where} adds "and l.managing_team in %(teams)s" for one
# subject. The floor rolls the managing teams up to every management team they belong to (nested set).
# STRAIGHT_JOIN keeps MariaDB reading the snapshots of one date in index order and looking their loans up,
# instead of walking the loans by team and fetching each loan's snapshot at random (~50x slower here).
NPL_SQL = (
	f"select l.managing_team, sum(if(s.classification in {NPL}, s.outstanding, 0)), sum(s.outstanding)"
	" from `tabPL Loan Snapshot` s straight_join `tabPL Loan` l on l.name = s.loan"
	" where s.as_of_date = %(as_of)s {where} group by l.managing_team"
)
RECOVERED_SQL = (
	"select l.managing_team, sum(r.amount) from `tabPL Recovery` r straight_join `tabPL Loan` l on l.name = r.loan"
	" where r.received_on between %(start)s and %(end)s {where} group by l.managing_team"
)
WORKLOAD_SQL = (
	"select l.managing_team, sum(c.entry_overdue_amount) from `tabPL Collection Case` c"
	" straight_join `tabPL Loan` l on l.name = c.loan"
	" where c.opened_on <= %(end)s and (c.closed_on is null or c.closed_on >= %(start)s) {where}"
	" group by l.managing_team"
)
SURVEY_SQL = (
	"select v.pl_team, sum(v.fairness + v.clarity + v.motivation + v.workload), 4 * count(*)"
	" from `tabPL Satisfaction Survey` v where v.review_cycle = %(cycle)s {where} group by v.pl_team"
)
ROLL_UP = (
	"select a.name, {sums} from ({inner}) x join `tabPL Team` t on t.name = x.team"
	" join `tabPL Team` a on a.lft <= t.lft and a.rgt >= t.rgt and a.name in %(subjects)s group by a.name"
)


def _named(inner: str, values: int) -> tuple[str, str]:
	"""The inner statement with its columns named team, v1 … and the SUM of each for the roll-up."""
	select, rest = inner.split(" from ", 1)
	columns = select.removeprefix("select ").split(", ", 1)
	named = f"select {columns[0]} as team, " + ", ".join(
		f"{expression} as v{i}" for i, expression in enumerate(_split(columns[1]), start=1)
	)
	return f"{named} from {rest}", ", ".join(f"sum(x.v{i})" for i in range(1, values + 1))


def _split(expressions: str) -> list[str]:
	"""Top-level comma split of a select list."""
	parts, depth, current = [], 0, ""
	for char in expressions:
		if char == "(":
			depth += 1
		elif char == ")":
			depth -= 1
		if char == "," and depth == 0:
			parts.append(current.strip())
			current = ""
		else:
			current += char
	parts.append(current.strip())
	return parts


def last_snapshot_date(on_or_before: dt.date) -> dt.date | None:
	value = frappe.db.sql(
		"select max(as_of_date) from `tabPL Loan Snapshot` where as_of_date <= %s", on_or_before
	)[0][0]
	return value


# ------------------------------------------------------------------------------------------- the floor


def _grouped(sql: str, params: dict) -> dict[str, tuple]:
	"""Per management team (and its sub-teams): one statement, aggregated per managing team, rolled up."""
	inner = sql.format(where="")
	values = len(_split(inner.split(" from ", 1)[0].removeprefix("select "))) - 1
	named, sums = _named(inner, values)
	return {row[0]: row[1:] for row in frappe.db.sql(ROLL_UP.format(sums=sums, inner=named), params)}


@functools.cache
def _grouping_hint(source: str, key: str) -> str:
	"""``ignore index (…)`` for the indexes that start with the grouped column of the source's first table.

	Asked to GROUP BY collector, MariaDB walks the whole (collector, date) index to skip a sort and then
	fetches every row at random: ~8x slower here than reading the table and sorting 2,000 groups. The
	floor is meant to be the best plain SQL, so it tells MariaDB not to. (Looked up once per process: the
	runner's warm-up pass does it before the timed floor.)
	"""
	match = re.match(r"from `(tab[^`]+)` (\w+)", source)
	if not match or not key.startswith(f"{match.group(2)}."):
		return ""
	column = key.split(".", 1)[1]
	rows = frappe.db.sql(f"show index from `{match.group(1)}`", as_dict=True)
	names = sorted({r.Key_name for r in rows if r.Seq_in_index == 1 and r.Column_name == column})
	return f"ignore index ({', '.join(f'`{n}`' for n in names)})" if names else ""


def floor(window: Window, employees: list[str], teams: list[str], metrics: set[str]) -> dict:
	"""Every metric for every subject with one GROUP BY per metric and period: {(code, subject): value}."""
	values: dict[tuple[str, str], float | None] = {}
	params = window.params()
	for code in sorted(metrics & set(EMPLOYEE_METRICS)):
		metric = EMPLOYEE_METRICS[code]
		hint = _grouping_hint(metric.source, metric.key)
		source = re.sub(r"^(from `[^`]+` \w+)", lambda m: f"{m.group(1)} {hint}", metric.source)
		rows = frappe.db.sql(
			f"select {metric.key}, {metric.aggregates} {source} group by {metric.key}", params
		)
		found = {row[0]: metric.finish(*row[1:]) for row in rows if row[0]}
		for employee in employees:
			values[(code, employee)] = found.get(employee)
	if not teams:
		return values
	subjects = {"subjects": tuple(teams)}
	if "npl_ratio_reduction" in metrics:
		before = _grouped(NPL_SQL, {**subjects, "as_of": last_snapshot_date(window.baseline_end)})
		after = _grouped(NPL_SQL, {**subjects, "as_of": last_snapshot_date(window.end)})
		for team in teams:
			values[("npl_ratio_reduction", team)] = _difference(
				_ratio(*before.get(team, (0, 0))), _ratio(*after.get(team, (0, 0)))
			)
	if "recovery_rate_improvement" in metrics:
		rates = []
		for start, end in ((window.start, window.end), (window.baseline_start, window.baseline_end)):
			p = {**subjects, **window.params(start, end)}
			recovered = _grouped(RECOVERED_SQL, p)
			workload = _grouped(WORKLOAD_SQL, p)
			rates.append(
				{team: _ratio(recovered.get(team, (0,))[0], workload.get(team, (0,))[0]) for team in teams}
			)
		for team in teams:
			values[("recovery_rate_improvement", team)] = _difference(rates[0][team], rates[1][team])
	if "team_satisfaction" in metrics:
		totals = _grouped(SURVEY_SQL, {**subjects, **params})
		for team in teams:
			values[("team_satisfaction", team)] = _ratio(*totals.get(team, (0, 0)), scale=100.0 / 5)
	return values


def _difference(first: float | None, second: float | None) -> float | None:
	return None if first is None or second is None else first - second


# ------------------------------------------------------------------------------------ one subject at a time


def per_subject(code: str, subject: str, window: Window) -> float | None:
	"""One metric for one employee, or for one management team (its loans and its sub-teams')."""
	params = window.params()
	if code in EMPLOYEE_METRICS:
		metric = EMPLOYEE_METRICS[code]
		row = frappe.db.sql(
			f"select {metric.aggregates} {metric.source} and {metric.key} = %(subject)s",
			{**params, "subject": subject},
		)[0]
		return metric.finish(*row)
	root = frappe.db.get_value("PL Team", subject, ["lft", "rgt"], as_dict=True)
	teams = tuple(
		frappe.get_all("PL Team", filters={"lft": (">=", root.lft), "rgt": ("<=", root.rgt)}, pluck="name")
	)

	def one(sql: str, p: dict) -> tuple:
		"""The statement for the subject's teams, summed over them."""
		column = "v.pl_team" if "Satisfaction Survey" in sql else "l.managing_team"
		rows = frappe.db.sql(sql.format(where=f"and {column} in %(teams)s"), {**p, "teams": teams})
		return tuple(sum(float(row[i] or 0) for row in rows) for i in range(1, len(rows[0]))) if rows else ()

	if code == "npl_ratio_reduction":
		before = one(NPL_SQL, {"as_of": last_snapshot_date(window.baseline_end)})
		after = one(NPL_SQL, {"as_of": last_snapshot_date(window.end)})
		return _difference(_ratio(*(before or (0, 0))), _ratio(*(after or (0, 0))))
	if code == "recovery_rate_improvement":
		rates = []
		for start, end in ((window.start, window.end), (window.baseline_start, window.baseline_end)):
			p = window.params(start, end)
			recovered = (one(RECOVERED_SQL, p) or (0,))[0]
			workload = (one(WORKLOAD_SQL, p) or (0,))[0]
			rates.append(_ratio(recovered, workload))
		return _difference(*rates)
	if code == "team_satisfaction":
		return _ratio(*(one(SURVEY_SQL, params) or (0, 0)), scale=100.0 / 5)
	raise ValueError(f"no SQL form for metric {code}")
