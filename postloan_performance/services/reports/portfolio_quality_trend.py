"""Portfolio Quality Trend: NPL ratio, M1+/M3+ rates, recovery rate, roll and cure rates by month-end,
with the scheme's go-live month marked.

Read from the monthly summary PL Portfolio Month (``services.portfolio_months``): the month-end dates come
from one index-only query; the summary rows those dates need are built first when missing (after a write
made them stale); then one ``GROUP BY`` over the summary gives the ratios (by bucket and classification),
one the loan moves behind the roll rates (by previous bucket and bucket) and one the recovery figures, for
the loans in view (company, managing team with its sub-teams, product, the user's teams). The maths is in
``engine.portfolio``. ``_get_data_loan_level`` is the former computation from the snapshot, case and
recovery rows, kept to check the summary against.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

import frappe
from frappe import _
from frappe.utils import add_months, get_first_day, get_last_day, getdate, today

from postloan_performance.engine import frames, portfolio
from postloan_performance.services import portfolio_months
from postloan_performance.services.access import visible_teams
from postloan_performance.services.reports.common import (
	chart_number,
	clean,
	summary_item,
	team_and_descendants,
)

SNAPSHOT = "`tabPL Loan Snapshot`"
SUMMARY = "`tabPL Portfolio Month`"
LOAN_JOIN = "join `tabPL Loan` l on l.name = {loan}"
RATE_COLUMNS = ("npl_ratio", "m1_plus_rate", "m3_plus_rate", "recovery_rate")
ROLL_COLUMNS = (*(column for column, _from, _to in portfolio.ROLLS), "cure_rate")


def columns() -> list[dict]:
	percent = {"fieldtype": "Percent", "width": 105}
	return [
		{"label": _("Month-End"), "fieldname": "month_end", "fieldtype": "Date", "width": 105},
		{"label": _("Phase"), "fieldname": "phase", "fieldtype": "Data", "width": 115},
		{"label": _("Loans"), "fieldname": "loans", "fieldtype": "Int", "width": 80},
		{"label": _("Outstanding"), "fieldname": "outstanding", "fieldtype": "Currency", "width": 140},
		{"label": _("NPL Ratio (%)"), "fieldname": "npl_ratio", **percent},
		{"label": _("M1+ Rate (%)"), "fieldname": "m1_plus_rate", **percent},
		{"label": _("M3+ Rate (%)"), "fieldname": "m3_plus_rate", **percent},
		{"label": _("Recovered"), "fieldname": "recovered", "fieldtype": "Currency", "width": 120},
		{"label": _("Recovery Rate (%)"), "fieldname": "recovery_rate", **percent},
		{"label": _("Roll M0→M1 (%)"), "fieldname": "roll_m0_m1", **percent},
		{"label": _("Roll M1→M2 (%)"), "fieldname": "roll_m1_m2", **percent},
		{"label": _("Roll M2→M3 (%)"), "fieldname": "roll_m2_m3", **percent},
		{"label": _("Roll M3→M4+ (%)"), "fieldname": "roll_m3_m4", **percent},
		{"label": _("Cure Rate (%)"), "fieldname": "cure_rate", **percent},
	]


# ---------------------------------------------------------------------------------------- filters


def default_go_live(company: str | None = None) -> dt.date | None:
	"""The period start of the earliest non-trial review cycle (of the company, when given)."""
	conditions = {"is_trial": 0}
	if company:
		conditions["company"] = company
	starts = frappe.get_all(
		"PL Review Cycle",
		filters=conditions,
		pluck="period_start",
		order_by="period_start asc",
		limit_page_length=1,
	)
	return getdate(starts[0]) if starts and starts[0] else None


def _dates(filters: dict) -> tuple[dt.date, dt.date]:
	end = getdate(filters.get("to_date") or today())
	start = getdate(filters.get("from_date") or get_first_day(add_months(end, -11)))
	if start > end:
		frappe.throw(_("From Date must be on or before To Date."), title=_("Invalid Filter"))
	return start, end


class LoanScope:
	"""The loans a user asked for and may see: SQL conditions on `l` (PL Loan, or any table with its
	company, managing_team and product columns) and their values."""

	def __init__(self, filters: dict):
		self.conditions: list[str] = []
		self.values: dict = {}
		self.empty = False
		if filters.get("company"):
			self.conditions.append("l.company = %(company)s")
			self.values["company"] = filters["company"]
		if filters.get("product"):
			self.conditions.append("l.product = %(product)s")
			self.values["product"] = filters["product"]
		teams = set(team_and_descendants(filters["managing_team"])) if filters.get("managing_team") else None
		visible = visible_teams()
		if visible is not None:
			teams = visible if teams is None else teams & visible
		if teams is not None:
			self.empty = not teams
			self.conditions.append("l.managing_team in %(teams)s")
			self.values["teams"] = tuple(sorted(teams)) or ("",)

	def join(self, loan_column: str) -> str:
		return LOAN_JOIN.format(loan=loan_column) if self.conditions else ""

	def where(self, alias: str = "l") -> str:
		conditions = (c.replace("l.", f"{alias}.", 1) for c in self.conditions)
		return "".join(f" and {c}" for c in conditions)


# ---------------------------------------------------------------------------------------- queries


def month_end_dates(start: dt.date, end: dt.date) -> list[dt.date]:
	"""The last snapshot date of each month in [start, end] (a loose scan of the as_of_date index)."""
	return portfolio_months.month_ends(start, end)


def last_date_before(day: dt.date) -> dt.date | None:
	value = frappe.db.sql(f"select max(as_of_date) from {SNAPSHOT} where as_of_date < %(day)s", {"day": day})
	return getdate(value[0][0]) if value and value[0][0] else None


def snapshot_aggregates(scope: LoanScope, dates: list[dt.date]) -> pd.DataFrame:
	rows = frappe.db.sql(
		f"""select s.as_of_date, s.bucket, s.classification,
			sum(case when s.outstanding > 0 then 1 else 0 end), sum(s.outstanding)
		from {SNAPSHOT} s {scope.join("s.loan")}
		where s.as_of_date in %(dates)s{scope.where()}
		group by s.as_of_date, s.bucket, s.classification""",
		{**scope.values, "dates": tuple(dates)},
	)
	return frames.from_rows(rows, ["as_of_date", "bucket", "classification", "loans", "outstanding"])


def loan_buckets(scope: LoanScope, dates: list[dt.date]) -> pd.DataFrame:
	"""(loan, as_of_date, bucket) of every loan in view at the given dates, in one query."""
	rows = frappe.db.sql(
		f"""select s.loan, s.as_of_date, s.bucket
		from {SNAPSHOT} s {scope.join("s.loan")}
		where s.as_of_date in %(dates)s{scope.where()}""",
		{**scope.values, "dates": tuple(dates)},
	)
	return frames.from_rows(rows, ["loan", "as_of_date", "bucket"])


def active_cases(scope: LoanScope, first: dt.date, last: dt.date) -> pd.DataFrame:
	rows = frappe.db.sql(
		f"""select c.opened_on, c.closed_on, c.entry_overdue_amount
		from `tabPL Collection Case` c {scope.join("c.loan")}
		where c.opened_on <= %(last)s and (c.closed_on is null or c.closed_on >= %(first)s){scope.where()}""",
		{**scope.values, "first": first, "last": last},
	)
	return frames.from_rows(rows, ["opened_on", "closed_on", "entry_overdue_amount"])


def recoveries_by_day(scope: LoanScope, first: dt.date, last: dt.date) -> pd.DataFrame:
	case_join = (
		"left join `tabPL Collection Case` c on c.name = r.collection_case" if scope.conditions else ""
	)
	rows = frappe.db.sql(
		f"""select r.received_on, sum(r.amount)
		from `tabPL Recovery` r {case_join} {scope.join("ifnull(r.loan, c.loan)")}
		where r.received_on between %(first)s and %(last)s{scope.where()}
		group by r.received_on""",
		{**scope.values, "first": first, "last": last},
	)
	return frames.from_rows(rows, ["received_on", "amount"])


# ---------------------------------------------------------------------------------- from the summary


def summary_aggregates(scope: LoanScope, dates: list[dt.date]) -> pd.DataFrame:
	"""Loans with outstanding and Σ outstanding by (date, bucket, classification): the sums of the
	summary's rows, equal to ``snapshot_aggregates`` over the snapshots."""
	rows = frappe.db.sql(
		f"""select p.month_end, p.bucket, p.classification, sum(p.loans_with_outstanding), sum(p.outstanding)
		from {SUMMARY} p
		where p.kind = %(kind)s and p.month_end in %(dates)s{scope.where("p")}
		group by p.month_end, p.bucket, p.classification""",
		{**scope.values, "kind": portfolio_months.SNAPSHOT, "dates": tuple(dates)},
	)
	return frames.from_rows(rows, ["as_of_date", "bucket", "classification", "loans", "outstanding"])


def summary_moves(scope: LoanScope, dates: list[dt.date]) -> pd.DataFrame:
	"""Loans by (date, previous month-end, bucket there, bucket at the date), from the summary."""
	rows = frappe.db.sql(
		f"""select p.month_end, p.previous_month_end, p.previous_bucket, p.bucket, sum(p.loans)
		from {SUMMARY} p
		where p.kind = %(kind)s and p.month_end in %(dates)s and p.previous_bucket in %(buckets)s
			and p.bucket in %(buckets)s{scope.where("p")}
		group by p.month_end, p.previous_month_end, p.previous_bucket, p.bucket""",
		{
			**scope.values,
			"kind": portfolio_months.SNAPSHOT,
			"dates": tuple(dates),
			"buckets": tuple(portfolio.BUCKETS),
		},
	)
	return frames.from_rows(rows, ["as_of_date", "previous_date", "bucket_from", "bucket_to", "loans"])


def summary_recovery(scope: LoanScope, months: list[dt.date]) -> pd.DataFrame:
	"""Active cases, their Σ entry overdue amount and Σ recovered by calendar month, from the summary."""
	rows = frappe.db.sql(
		f"""select p.month, sum(p.active_cases), sum(p.entry_overdue_amount), sum(p.recovered)
		from {SUMMARY} p
		where p.kind = %(kind)s and p.month in %(months)s{scope.where("p")}
		group by p.month""",
		{**scope.values, "kind": portfolio_months.RECOVERY, "months": tuple(months)},
	)
	return frames.from_rows(rows, ["month", "cases", "entry_overdue", "recovered"])


def _recovery_from_totals(totals: pd.DataFrame, months: list[tuple[dt.date, dt.date]]) -> pd.DataFrame:
	"""``engine.portfolio.monthly_recovery_rate``'s frame from monthly totals: the rate is NaN when no case
	was active (or their entry overdue amount is 0)."""
	by_month = {getdate(r.month): r for r in totals.itertuples(index=False)}
	rows = []
	for first, last in months:
		total = by_month.get(getdate(first))
		cases = int(total.cases or 0) if total is not None else 0
		recovered = float(total.recovered or 0) if total is not None else 0.0
		entry = float(total.entry_overdue or 0) if total is not None else 0.0
		rate = recovered * 100.0 / entry if cases and entry else np.nan
		rows.append(
			{
				"month_end": pd.Timestamp(last),
				"recovered": recovered,
				"entry_overdue": entry,
				"recovery_rate": rate,
			}
		)
	frame = pd.DataFrame(rows, columns=["month_end", "recovered", "entry_overdue", "recovery_rate"])
	return frame.set_index("month_end")


def _cut_short(first: dt.date, last: dt.date) -> bool:
	"""Whether a month cut at ``last`` (before its end) differs from the whole month: a case opened or a
	recovery received after ``last`` in that month (two index probes)."""
	month_last = get_last_day(first)
	if last >= month_last:
		return False
	values = {"after": last, "last": month_last}
	return bool(
		frappe.db.sql(
			"""select 1 from `tabPL Collection Case` where opened_on > %(after)s and opened_on <= %(last)s
			limit 1""",
			values,
		)
		or frappe.db.sql(
			"""select 1 from `tabPL Recovery` where received_on > %(after)s and received_on <= %(last)s
			limit 1""",
			values,
		)
	)


def _summary_figures(scope, shown, previous, baseline, months):
	"""(ratios, rolls, recovery) from the monthly summary, building the rows it lacks first."""
	ratio_dates = sorted({*shown, *([baseline] if baseline else [])})
	whole = [first for first, last in months if not _cut_short(first, last)]
	built = portfolio_months.ensure_months(ratio_dates, whole)
	# rows built by this request are on the primary database, not yet on a replica
	read = frappe.write_only()(_read_summary) if built else _read_summary
	return read(scope, shown, previous, ratio_dates, months, whole)


def _read_summary(scope, shown, previous, ratio_dates, months, whole):
	ratios = portfolio.portfolio_ratios(summary_aggregates(scope, ratio_dates))
	moves = summary_moves(scope, shown)
	# the first month-end's moves count only from the month just before it (as the loan-level path)
	expected = dict(zip(shown, [previous, *shown[:-1]], strict=True))
	if len(moves):
		keep = [
			expected.get(getdate(day)) is not None and getdate(before) == expected[getdate(day)]
			for day, before in zip(moves["as_of_date"], moves["previous_date"], strict=True)
		]
		moves = moves[keep]
	rolls = portfolio.roll_rates_from_counts(moves, shown)
	parts = []
	if whole:
		parts.append(
			_recovery_from_totals(summary_recovery(scope, whole), [m for m in months if m[0] in whole])
		)
	cut = [(first, last) for first, last in months if first not in whole]
	if cut:  # the last month cut short by the To Date, and changed after it: from the cases and recoveries
		first, last = cut[0][0], cut[-1][1]
		parts.append(
			portfolio.monthly_recovery_rate(
				active_cases(scope, first, last), recoveries_by_day(scope, first, last), cut
			)
		)
	return ratios, rolls, pd.concat(parts) if len(parts) > 1 else parts[0]


def _loan_level_figures(scope, shown, previous, baseline, months):
	"""(ratios, rolls, recovery) from the snapshot, case and recovery rows (the former computation)."""
	dates = sorted({*shown, *(d for d in (previous, baseline) if d)})
	ratios = portfolio.portfolio_ratios(snapshot_aggregates(scope, dates))
	roll_dates = sorted({*shown, *([previous] if previous else [])})
	rolls = portfolio.roll_rates_by_date(loan_buckets(scope, roll_dates), roll_dates)
	recovery = portfolio.monthly_recovery_rate(
		active_cases(scope, months[0][0], months[-1][1]),
		recoveries_by_day(scope, months[0][0], months[-1][1]),
		months,
	)
	return ratios, rolls, recovery


# ------------------------------------------------------------------------------------------- data


def get_data(filters: dict) -> dict:
	# a site not migrated since the summary came has no table for it yet
	return _report(filters, _summary_figures if portfolio_months.ready() else _loan_level_figures)


def _get_data_loan_level(filters: dict) -> dict:
	"""The report computed from the loan-level rows, without the summary (slow on a large book)."""
	return _report(filters, _loan_level_figures)


def _report(filters: dict, figures) -> dict:
	start, end = _dates(filters)
	go_live = (
		getdate(filters["go_live_date"])
		if filters.get("go_live_date")
		else default_go_live(filters.get("company"))
	)
	scope = LoanScope(filters)
	shown = month_end_dates(start, end)
	if not shown or scope.empty:
		return {"columns": columns(), "data": [], "chart": None, "summary": summary([], go_live, None)}

	# the month-end before the first one gives the first month its roll rates; the last one before the
	# go-live date is the scheme's starting point
	before = last_date_before(get_first_day(shown[0]))
	previous = before if before and get_first_day(before) == get_first_day(add_months(shown[0], -1)) else None
	baseline = last_date_before(go_live) if go_live else None
	months = [(get_first_day(d), min(get_last_day(d), end)) for d in shown]
	ratios, rolls, recovery = figures(scope, shown, previous, baseline, months)
	rows = []
	for day, (_first, last) in zip(shown, months, strict=True):
		stamp = pd.Timestamp(day)
		ratio = ratios.loc[stamp] if stamp in ratios.index else None
		rows.append(
			{
				"month_end": day,
				"phase": _("Scheme Live") if go_live and day >= go_live else _("Before Scheme"),
				"loans": int(clean(ratio["loans"]) or 0) if ratio is not None else 0,
				"outstanding": clean(ratio["outstanding"]) if ratio is not None else 0.0,
				"npl_ratio": clean(ratio["npl_ratio"]) if ratio is not None else None,
				"m1_plus_rate": clean(ratio["m1_plus_rate"]) if ratio is not None else None,
				"m3_plus_rate": clean(ratio["m3_plus_rate"]) if ratio is not None else None,
				"recovered": clean(recovery.loc[pd.Timestamp(last), "recovered"]),
				"recovery_rate": clean(recovery.loc[pd.Timestamp(last), "recovery_rate"]),
				**{column: clean(rolls.loc[stamp, column]) for column in ROLL_COLUMNS},
			}
		)
	baseline_npl = None
	if baseline and pd.Timestamp(baseline) in ratios.index:
		baseline_npl = clean(ratios.loc[pd.Timestamp(baseline), "npl_ratio"])
	return {
		"columns": columns(),
		"data": rows,
		"chart": chart(rows, go_live, baseline_npl),
		"summary": summary(rows, go_live, baseline_npl),
	}


def chart(rows: list[dict], go_live: dt.date | None, baseline_npl: float | None) -> dict:
	"""Lines for NPL, M1+ and M3+ by month; the first month-end under the scheme carries a "Scheme Live"
	bar as tall as the lines, and a horizontal marker shows the NPL ratio when the scheme went live."""
	lines = {
		"npl_ratio": _("NPL Ratio (%)"),
		"m1_plus_rate": _("M1+ Rate (%)"),
		"m3_plus_rate": _("M3+ Rate (%)"),
	}
	datasets = [
		{"name": label, "chartType": "line", "values": [chart_number(r[field]) for r in rows]}
		for field, label in lines.items()
	]
	live_index = next((i for i, r in enumerate(rows) if go_live and r["month_end"] >= go_live), None)
	top = max([v for d in datasets for v in d["values"]] + [0])
	datasets.append(
		{
			"name": _("Scheme Live"),
			"chartType": "bar",
			"values": [top if i == live_index else 0 for i in range(len(rows))],
		}
	)
	data = {"labels": [r["month_end"].strftime("%Y-%m") for r in rows], "datasets": datasets}
	if baseline_npl is not None and live_index is not None:
		data["yMarkers"] = [
			{
				"label": _("NPL Ratio at Go-Live"),
				"value": round(baseline_npl, 2),
				"options": {"labelPos": "left"},
			}
		]
	return {
		"data": data,
		"type": "axis-mixed",
		"colors": ["#e24c4c", "#ffa00a", "#7c5ada", "#b8c2cc"],
		"lineOptions": {"dotSize": 4},
		"barOptions": {"spaceRatio": 0.8},
	}


def summary(rows: list[dict], go_live: dt.date | None, baseline_npl: float | None) -> list[dict]:
	latest = rows[-1] if rows else {}
	npl = latest.get("npl_ratio")
	change = None
	if npl is not None and baseline_npl is not None and go_live and latest["month_end"] >= go_live:
		change = round(npl - baseline_npl, 2)
	return [
		summary_item(round(npl, 2) if npl is not None else None, _("Latest NPL Ratio (%)"), "Percent", "Red"),
		summary_item(
			change,
			_("NPL Change Since Go-Live (Points)"),
			"Float",
			"Green" if change is not None and change <= 0 else "Red",
		),
		summary_item(
			round(latest["m3_plus_rate"], 2) if latest.get("m3_plus_rate") is not None else None,
			_("Latest M3+ Rate (%)"),
			"Percent",
			"Orange",
		),
		summary_item(go_live, _("Scheme Go-Live"), "Date", "Blue"),
	]
