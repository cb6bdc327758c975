"""Portfolio frames of the built-in metrics, summed per managing team rather than read per loan.

A portfolio (team) subject's NPL ratio only sums outstanding by team and classification, and its
recovery rate sums case entry amounts and recoveries by team: the frames here give the engine those
sums as a few pseudo-rows per team, read from the monthly portfolio summary (PL Portfolio Month, kept by
``services.portfolio_months``) where it holds them, else from the rows themselves. Used by
``services.metric_frames`` (whole cycles) and ``services.subject_frames`` (few subjects).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

import frappe
from frappe.utils import get_first_day, get_last_day, getdate

from postloan_performance.services import portfolio_months

if TYPE_CHECKING:
	from postloan_performance.services.metric_frames import Window


def last_snapshot_date(on_or_before) -> dt.date | None:
	snap = frappe.qb.DocType("PL Loan Snapshot")
	from frappe.query_builder.functions import Max

	value = (
		frappe.qb.from_(snap).select(Max(snap.as_of_date)).where(snap.as_of_date <= getdate(on_or_before))
	).run()
	return getdate(value[0][0]) if value and value[0][0] else None


TEAM_TOTAL = "\x1fteam-total\x1f{team}\x1f{classification}"  # pseudo-loan name of a team's snapshot total


def load_snapshot_totals_at(dates: list[dt.date]) -> tuple[pd.DataFrame, pd.DataFrame]:
	"""Σ outstanding per snapshot date, managing team and classification, as snapshot rows of one
	pseudo-loan per (team, classification), and the loans frame that maps each pseudo-loan to its team.

	The NPL ratio of portfolio (team) subjects only sums outstanding by team and classification, so the
	engine gets the same sums from a few hundred rows instead of one row per loan and date (~400,000 for
	200,000 loans). Loans without a managing team count for no team, as they do per loan. The sums come
	from the monthly portfolio summary (PL Portfolio Month, kept by `services.portfolio_months`: built at
	import or by the daily job, and here for a date it lacks), else from the snapshots themselves.
	"""
	columns = ("loan", "as_of_date", "outstanding", "classification")
	dates = [d for d in dates if d]
	if not dates:
		return pd.DataFrame(columns=list(columns)), pd.DataFrame(columns=["name", "managing_team"])
	rows = _snapshot_totals_from_summary(dates) if portfolio_months.ready() else None
	if rows is None:
		rows = _snapshot_totals_from_snapshots(dates)
	names = [TEAM_TOTAL.format(team=team, classification=cls) for _date, team, cls, _total in rows]
	snapshots = pd.DataFrame(
		{
			"loan": pd.Series(names, dtype=object),
			"as_of_date": pd.to_datetime(
				pd.Series([str(r[0]) for r in rows], dtype=object), format="ISO8601"
			),
			"outstanding": pd.Series([float(r[3] or 0) for r in rows], dtype=float),
			"classification": pd.Series([r[2] for r in rows], dtype=object),
		}
	)
	loans = pd.DataFrame({"name": names, "managing_team": [r[1] for r in rows]}).drop_duplicates("name")
	return snapshots, loans.reset_index(drop=True)


def _snapshot_totals_from_summary(dates: list[dt.date]) -> list[tuple]:
	portfolio_months.ensure_months(dates, recovery_months=())
	return frappe.db.sql(
		"""select cast(month_end as char), managing_team, classification, sum(outstanding)
		from `tabPL Portfolio Month`
		where kind = %(kind)s and month_end in %(dates)s
		group by month_end, managing_team, classification""",
		{"kind": portfolio_months.SNAPSHOT, "dates": tuple(dates)},
	)


def _snapshot_totals_from_snapshots(dates: list[dt.date]) -> list[tuple]:
	# MariaDB: read the dates' snapshots first and look their loans up (its own choice walks every loan)
	mariadb = frappe.db.db_type == "mariadb"
	join, text = ("straight_join", "char") if mariadb else ("join", "text")
	return frappe.db.sql(
		f"""select cast(s.as_of_date as {text}), l.managing_team, s.classification, sum(s.outstanding)
		from `tabPL Loan Snapshot` s {join} `tabPL Loan` l on l.name = s.loan
		where s.as_of_date in %(dates)s
		group by s.as_of_date, l.managing_team, s.classification""",
		{"dates": tuple(dates)},
	)


RECOVERY_RATE_METRICS = ("recovery_rate", "recovery_rate_improvement")
TEAM_LOAN = "\x1fteam\x1f{team}"  # pseudo-loan name of a team's recovery totals


def _month_aligned(start: dt.date, end: dt.date) -> bool:
	return start == get_first_day(start) and end == get_last_day(end)


def load_recovery_totals(window: Window, teams) -> dict[str, pd.DataFrame] | None:
	"""The frames of the recovery rate (and its improvement) of portfolio subjects made of ``teams``, from
	the monthly summary, as a few pseudo-rows per team: a pseudo-case per set of windows (period, baseline)
	its cases are active in, with their Σ ``entry_overdue_amount`` and dates that are active in exactly
	those windows; a pseudo-recovery per window with the Σ recovered in it; a pseudo-loan per team.

	The engine sums per team the cases active in a window and the recoveries received in it; it gets the
	same sums from these rows when every window is whole calendar months and they do not overlap (a case is
	active in one exactly when its opening month, in the summary's Case rows, is not after the window's
	last month and its closing month, if any, not before its first) and every recovery of those months
	names its loan (the summary then reaches the same team as the engine). None when that does not hold:
	read the rows themselves."""
	period, baseline = window.period, window.baseline
	windows = [period, *([baseline] if baseline else [])]
	if not portfolio_months.ready() or not all(_month_aligned(*w) for w in windows):
		return None
	if baseline and not (period[1] < baseline[0] or baseline[1] < period[0]):
		return None
	first, last = min(w[0] for w in windows), max(w[1] for w in windows)
	loanless = frappe.db.sql(
		"select 1 from `tabPL Recovery` where loan is null and received_on between %s and %s limit 1",
		(first, last),
	)
	if loanless:
		return None
	months = sorted({m for w in windows for m in portfolio_months.months_between(*w)})
	portfolio_months.ensure_recovery_totals(months)
	teams = tuple(sorted(set(teams))) or ("",)
	values = {"teams": teams, "kind": portfolio_months.CASE}
	active = []
	for i, (start, end) in enumerate(windows):
		values[f"first{i}"], values[f"last{i}"] = start, get_first_day(end)
		active.append(
			f"(month <= %(last{i})s and (closed_month is null or closed_month >= %(first{i})s))"  # nosemgrep
		)
	flags = ", ".join(active)
	cases = frappe.db.sql(
		f"""select managing_team, {flags}, sum(entry_overdue_amount) from `tabPL Portfolio Month`
		where kind = %(kind)s and managing_team in %(teams)s and ({" or ".join(active)})
		group by managing_team, {flags}""",  # nosemgrep: the conditions are built above, values bound
		values,
	)
	recovered = frappe.db.sql(
		"""select managing_team, month >= %(first0)s and month <= %(last0)s, sum(recovered)
		from `tabPL Portfolio Month`
		where kind = %(kind)s and managing_team in %(teams)s and month in %(months)s
		group by managing_team, month >= %(first0)s and month <= %(last0)s""",
		{**values, "kind": portfolio_months.RECOVERY, "months": tuple(months)},
	)
	# dates active in exactly the flagged windows: a window's own dates, or open since the first one
	dates = {(1,): (period[0], None), (1, 0): period, (0, 1): baseline, (1, 1): (first, None)}
	loan_of = {team: TEAM_LOAN.format(team=team) for team in teams}
	case_rows = []
	for team, *in_windows, entry in cases:
		key = tuple(int(f) for f in in_windows)
		case_rows.append((f"{loan_of[team]}\x1f{key}", loan_of[team], *dates[key], float(entry or 0)))
	case_frame = pd.DataFrame(
		{
			"name": pd.Series([r[0] for r in case_rows], dtype=object),
			"loan": pd.Series([r[1] for r in case_rows], dtype=object),
			"opened_on": pd.to_datetime(pd.Series([r[2] for r in case_rows], dtype=object)),
			"closed_on": pd.to_datetime(pd.Series([r[3] for r in case_rows], dtype=object)),
			"entry_overdue_amount": pd.Series([r[4] for r in case_rows], dtype=float),
			"collector": pd.Series([None] * len(case_rows), dtype=object),
			"status": pd.Series([None] * len(case_rows), dtype=object),
		}
	)
	recovery_frame = pd.DataFrame(
		{
			"loan": pd.Series([loan_of[r[0]] for r in recovered], dtype=object),
			"case": pd.Series([None] * len(recovered), dtype=object),
			"collector": pd.Series([None] * len(recovered), dtype=object),
			"amount": pd.Series([float(r[2] or 0) for r in recovered], dtype=float),
			"received_on": pd.to_datetime(
				pd.Series([period[0] if r[1] else baseline[0] for r in recovered], dtype=object)
			),
		}
	)
	loans = pd.DataFrame(
		{"name": pd.Series(list(loan_of.values()), dtype=object), "managing_team": list(loan_of)}
	)
	return {"cases": case_frame, "recoveries": recovery_frame, "loans": loans}
