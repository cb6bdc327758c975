"""Risk-control metrics: early-warning precision and recall, report quality, event handling time."""

from __future__ import annotations

import pandas as pd

from postloan_performance.engine.delinquency import NPL_CLASSIFICATIONS
from postloan_performance.engine.frames import numbers
from postloan_performance.engine.metrics.base import (
	CONFIRMED,
	FALSE_ALARM,
	RATING_MAX,
	RECALL_LOOKBACK_DAYS,
	Frames,
	Period,
	_between,
	_Context,
	_count_rate,
	_datetime,
	_day,
	_keys,
	_mean,
)

# ------------------------------------------------------------------------------------ risk control


def warning_precision(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Alerts raised in period with outcome Confirmed ÷ alerts raised in period with outcome Confirmed or
	False Alarm, in percent (Pending alerts are not judged yet). For the alert's officer (portfolio: its
	loan's team)."""
	ctx = _Context(frames, subjects, period)
	alerts = ctx.frame("alerts")
	days = _day(alerts["raised_on"])
	mask = _between(days, ctx.start, ctx.end) & alerts["outcome"].isin((CONFIRMED, FALSE_ALARM))
	selected = alerts.loc[mask].assign(_day=days[mask], _confirmed=alerts.loc[mask, "outcome"].eq(CONFIRMED))
	selected = selected.reset_index(drop=True)
	attributed = ctx.attribute(
		selected, employee=selected["officer"], low=selected["_day"], team=ctx.loan_team(selected["loan"])
	)
	return ctx.result(_count_rate(attributed, "_confirmed"), "warning_precision")


def warning_recall(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Loans first classified NPL in period that had an alert in the 90 days before ÷ loans first
	classified NPL in period, in percent.

	First NPL date: the earliest snapshot (over all snapshots, not only the period) classified
	Substandard/Doubtful/Loss; a loan that was NPL before, cured and relapsed is not "first" classified in
	the period. "In the 90 days before": an alert raised on a date in [first − 90 days, first].

	Attribution (choice): portfolio subjects count every such loan of their teams, caught by any alert.
	People subjects (an officer, or a team of officers): misses cannot be attributed to an officer who never
	looked at the loan, so the denominator is the NPL loans on which the subject raised at least one alert
	from first − 90 days up to the period end (raised by a member, on a date inside his membership), and
	the numerator those of them with one of the subject's alerts inside the window; an alert raised after
	the loan turned NPL is therefore a miss. Use portfolio subjects for a team's true recall.
	"""
	ctx = _Context(frames, subjects, period)
	snapshots = ctx.frame("snapshots")
	npl = snapshots["classification"].isin(NPL_CLASSIFICATIONS)
	firsts = (
		pd.DataFrame(
			{
				"loan": _keys(snapshots.loc[npl, "loan"]),
				"_first": _day(snapshots.loc[npl, "as_of_date"]).to_numpy(),
			}
		)
		.dropna()
		.groupby("loan", sort=False)["_first"]
		.min()
		.reset_index()
	)
	firsts = firsts[_between(firsts["_first"], ctx.start, ctx.end)].reset_index(drop=True)
	alerts = ctx.frame("alerts")
	raised = pd.DataFrame(
		{
			"loan": _keys(alerts["loan"]),
			"_officer": _keys(alerts["officer"]),
			"_raised": _day(alerts["raised_on"]).to_numpy(),
		}
	)
	raised = raised[raised["loan"].notna() & raised["_raised"].notna()]
	pairs = firsts.merge(raised, on="loan", how="inner")
	lookback = pairs["_first"] - pd.Timedelta(days=RECALL_LOOKBACK_DAYS)
	pairs = pairs.assign(_in_window=(pairs["_raised"] >= lookback) & (pairs["_raised"] <= pairs["_first"]))
	if ctx.portfolio:
		caught = set(pairs.loc[pairs["_in_window"], "loan"])
		loans = firsts.assign(_caught=firsts["loan"].isin(caught))
		attributed = ctx.attribute(loans, team=ctx.loan_team(loans["loan"]))
		return ctx.result(_count_rate(attributed, "_caught"), "warning_recall")
	involved = pairs[(pairs["_raised"] >= lookback) & (pairs["_raised"] <= ctx.end)].reset_index(drop=True)
	attributed = ctx.attribute(involved, employee=involved["_officer"], low=involved["_raised"])
	if attributed.empty:
		return ctx.result(None, "warning_recall")
	per_loan = attributed.groupby(["subject", "loan"], sort=False)["_in_window"].any().reset_index()
	return ctx.result(_count_rate(per_loan, "_in_window"), "warning_recall")


def risk_report_quality(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Mean quality_rating (1–5) ÷ 5 × 100 of the assessments dated in period, for their author (portfolio:
	by the optional ``loan`` column, else NaN). Unrated assessments are skipped."""
	ctx = _Context(frames, subjects, period)
	assessments = ctx.frame("assessments")
	days = _day(assessments["report_date"])
	rating = numbers(assessments["quality_rating"])
	mask = _between(days, ctx.start, ctx.end) & rating.notna()
	selected = assessments.loc[mask].assign(_day=days[mask], _rating=rating[mask]).reset_index(drop=True)
	attributed = ctx.attribute(
		selected, employee=selected["author"], low=selected["_day"], team=ctx.loan_team(selected["loan"])
	)
	return ctx.result(_mean(attributed, "_rating", 100.0 / RATING_MAX), "risk_report_quality")


def risk_event_handling_hours(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Mean hours from reported_on to resolved_on of the events resolved in period (by resolved_on's
	date), for their handler. Events without reported_on, or resolved before reported, are bad data and
	ignored."""
	ctx = _Context(frames, subjects, period)
	events = ctx.frame("events")
	reported, resolved = _datetime(events["reported_on"]), _datetime(events["resolved_on"])
	days = resolved.dt.normalize()
	mask = _between(days, ctx.start, ctx.end) & reported.notna() & (resolved >= reported)
	hours = (resolved[mask] - reported[mask]).dt.total_seconds() / 3600.0
	selected = events.loc[mask].assign(_day=days[mask], _hours=hours).reset_index(drop=True)
	attributed = ctx.attribute(
		selected, employee=selected["handler"], low=selected["_day"], team=ctx.loan_team(selected["loan"])
	)
	return ctx.result(_mean(attributed, "_hours"), "risk_event_handling_hours")
