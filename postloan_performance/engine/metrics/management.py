"""Management metrics: NPL ratio and its reduction, recovery rate and its improvement."""

from __future__ import annotations

import numpy as np
import pandas as pd

from postloan_performance.engine.delinquency import NPL_CLASSIFICATIONS
from postloan_performance.engine.frames import numbers
from postloan_performance.engine.metrics.base import (
	Frames,
	Period,
	_baseline_or_none,
	_between,
	_coalesce,
	_Context,
	_day,
	_keys,
	_safe_ratio,
	_sum,
)

# ------------------------------------------------------------------------------------- management


def _npl_at(ctx: _Context, as_of: pd.Timestamp) -> pd.Series:
	snapshots = ctx.frame("snapshots")
	days = _day(snapshots["as_of_date"])
	eligible = days.notna() & (days <= as_of)
	if not eligible.any():
		return pd.Series(dtype=float)
	last = days[eligible].max()
	rows = snapshots.loc[days == last, ["loan", "outstanding", "classification"]]
	rows = rows.assign(loan=_keys(rows["loan"]))
	rows = rows[rows["loan"].notna()].drop_duplicates("loan", keep="last").reset_index(drop=True)
	outstanding = numbers(rows["outstanding"])
	is_npl = rows["classification"].isin(NPL_CLASSIFICATIONS).to_numpy()
	rows = rows.assign(_rid=np.arange(len(rows)), _out=outstanding, _npl_out=outstanding.where(is_npl, 0.0))
	if ctx.portfolio:
		attributed = ctx.attribute(rows, team=ctx.loan_team(rows["loan"]))
	else:
		cases = ctx.frame("cases")
		opened, closed = _day(cases["opened_on"]), _day(cases["closed_on"])
		active = opened.notna() & (opened <= last) & (closed.isna() | (closed >= last))
		holders = pd.DataFrame(
			{"loan": _keys(cases.loc[active, "loan"]), "_collector": _keys(cases.loc[active, "collector"])}
		)
		pairs = rows.merge(holders, on="loan", how="inner")
		attributed = ctx.attribute(
			pairs, employee=pairs["_collector"], low=pd.Series(last, index=pairs.index)
		)
	totals = attributed.groupby("subject", sort=False)[["_npl_out", "_out"]].sum()
	return _safe_ratio(totals["_npl_out"], totals["_out"])


def npl_ratio(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""NPL ratio in percent: Σ outstanding classified Substandard/Doubtful/Loss ÷ Σ outstanding.

	Choice: the snapshot date is the single latest ``as_of_date`` present in the snapshot data at or before
	the period end (the latest snapshot date ≤ period end); each loan's snapshot on that date is
	used (the last row if a loan has duplicates), and loans without a snapshot on that date are not in the
	portfolio (e.g. repaid). Portfolio: loans of the subject's teams; people: loans of the subject's cases
	active on that date. NaN without a snapshot or when Σ outstanding is 0.
	"""
	ctx = _Context(frames, subjects, period)
	return ctx.result(_npl_at(ctx, ctx.end), "npl_ratio")


def npl_ratio_reduction(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""npl_ratio at the baseline end − npl_ratio at the period end, in percentage points (positive =
	improvement). NaN when either side has no data or no baseline is given."""
	ctx = _Context(frames, subjects, period)
	base = _baseline_or_none(baseline)
	if base is None:
		return ctx.result(None, "npl_ratio_reduction")
	before = _npl_at(ctx, base[1]).reindex(ctx.index)
	after = _npl_at(ctx, ctx.end).reindex(ctx.index)
	return ctx.result(before - after, "npl_ratio_reduction")


def _recoveries_in(ctx: _Context, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
	recoveries = ctx.frame("recoveries")
	days = _day(recoveries["received_on"])
	inside = _between(days, start, end)
	selected = recoveries.loc[inside].assign(
		_day=days[inside], _amount=numbers(recoveries.loc[inside, "amount"])
	)
	selected = selected.reset_index(drop=True)
	return ctx.attribute(
		selected,
		employee=ctx.case_collector(selected["case"], selected["collector"]),
		low=selected["_day"],
		team=ctx.loan_team(_coalesce(selected["loan"], ctx.case_loan(selected["case"]))),
	)


def _attribute_workload(ctx: _Context, cases: pd.DataFrame) -> pd.DataFrame:
	return ctx.attribute(
		cases,
		employee=cases["collector"],
		low=cases["_low"],
		high=cases["_high"],
		team=ctx.loan_team(cases["loan"]),
	)


def _recovery_rate(ctx: _Context, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
	cases = ctx.active_cases(start, end)
	cases = cases.assign(_entry=numbers(cases["entry_overdue_amount"]))
	denominator = _sum(_attribute_workload(ctx, cases), "_entry")
	numerator = _sum(_recoveries_in(ctx, start, end), "_amount")
	return _safe_ratio(numerator, denominator)


def recovery_rate(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Σ recoveries received in period ÷ Σ entry_overdue_amount of the cases open at period start or
	opened in period, in percent.

	"Open at period start or opened in period" = active at any time in the period (opened_on <= end and
	not closed before start); a case opened on the start date counts once. Recoveries count for the
	collector of their case (portfolio: their loan's team). Not capped: recoveries can exceed the entry
	overdue amount (later instalments, fees). NaN when the denominator is 0; 0 when there is workload but
	nothing was recovered.
	"""
	ctx = _Context(frames, subjects, period)
	return ctx.result(_recovery_rate(ctx, ctx.start, ctx.end), "recovery_rate")


def recovery_rate_improvement(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""recovery_rate(period) − recovery_rate(baseline), percentage points; NaN without a baseline or when
	either side has no data."""
	ctx = _Context(frames, subjects, period)
	base = _baseline_or_none(baseline)
	if base is None:
		return ctx.result(None, "recovery_rate_improvement")
	now = _recovery_rate(ctx, ctx.start, ctx.end).reindex(ctx.index)
	before = _recovery_rate(ctx, *base).reindex(ctx.index)
	return ctx.result(now - before, "recovery_rate_improvement")
