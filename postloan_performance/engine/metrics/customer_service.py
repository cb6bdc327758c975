"""Customer-service metrics: tickets, first response, customer satisfaction, NPS, team satisfaction."""

from __future__ import annotations

import pandas as pd

from postloan_performance.engine.frames import numbers
from postloan_performance.engine.metrics.base import (
	MIN_SURVEY_RESPONSES,
	NPS_DETRACTOR_MAX,
	NPS_PROMOTER_MIN,
	RATING_MAX,
	SURVEY_ITEMS,
	Frames,
	Period,
	_between,
	_coalesce,
	_Context,
	_count_rate,
	_datetime,
	_day,
	_mean,
	_safe_ratio,
)

# -------------------------------------------------------------------------------- customer service


def _tickets_opened(ctx: _Context) -> tuple[pd.DataFrame, pd.Series]:
	tickets = ctx.frame("tickets")
	opened = _datetime(tickets["opened_on"])
	mask = _between(opened.dt.normalize(), ctx.start, ctx.end)
	selected = tickets.loc[mask].assign(_opened=opened[mask]).reset_index(drop=True)
	return selected, selected["_opened"].dt.normalize()


def ticket_resolution_rate(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Tickets opened in period and resolved on or before the period end (by date) ÷ tickets opened in
	period, in percent; for the ticket's agent on the opening date."""
	ctx = _Context(frames, subjects, period)
	tickets, days = _tickets_opened(ctx)
	resolved_day = _day(tickets["resolved_on"])
	tickets = tickets.assign(_resolved=resolved_day.notna() & (resolved_day <= ctx.end))
	attributed = ctx.attribute(
		tickets, employee=tickets["agent"], low=days, team=ctx.loan_team(tickets["loan"])
	)
	return ctx.result(_count_rate(attributed, "_resolved"), "ticket_resolution_rate")


def first_response_minutes(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Mean minutes opened_on → first_response_on of tickets opened in period that have a first response
	(unanswered tickets have no duration and are left out; a response before the opening is bad data)."""
	ctx = _Context(frames, subjects, period)
	tickets, days = _tickets_opened(ctx)
	responded = _datetime(tickets["first_response_on"])
	minutes = (responded - tickets["_opened"]).dt.total_seconds() / 60.0
	keep = (minutes >= 0).to_numpy()
	tickets = tickets.assign(_minutes=minutes, _day=days)[keep].reset_index(drop=True)
	attributed = ctx.attribute(
		tickets, employee=tickets["agent"], low=tickets["_day"], team=ctx.loan_team(tickets["loan"])
	)
	return ctx.result(_mean(attributed, "_minutes"), "first_response_minutes")


def _feedback_in_period(ctx: _Context, column: str) -> pd.DataFrame:
	feedback = ctx.frame("customer_feedback")
	days = _day(feedback["given_on"])
	value = numbers(feedback[column])
	mask = _between(days, ctx.start, ctx.end) & value.notna()
	selected = feedback.loc[mask].assign(_day=days[mask], _value=value[mask]).reset_index(drop=True)
	return ctx.attribute(
		selected,
		employee=ctx.case_collector(selected["case"], selected["employee"]),
		low=selected["_day"],
		team=ctx.loan_team(_coalesce(selected["loan"], ctx.case_loan(selected["case"]))),
	)


def customer_satisfaction(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Mean csat (1–5) ÷ 5 × 100 of feedback given in period, for the collector of the feedback's case
	(optional ``case`` column) or else the feedback's ``employee``."""
	ctx = _Context(frames, subjects, period)
	attributed = _feedback_in_period(ctx, "csat")
	return ctx.result(_mean(attributed, "_value", 100.0 / RATING_MAX), "customer_satisfaction")


def customer_loyalty_nps(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Net promoter score of feedback given in period: % with nps ≥ 9 − % with nps ≤ 6 (−100..100),
	over the feedback that has an nps answer."""
	ctx = _Context(frames, subjects, period)
	attributed = _feedback_in_period(ctx, "nps")
	attributed = attributed.assign(
		_net=(attributed["_value"] >= NPS_PROMOTER_MIN).astype(float)
		- (attributed["_value"] <= NPS_DETRACTOR_MAX).astype(float)
	)
	return ctx.result(_mean(attributed, "_net", 100.0), "customer_loyalty_nps")


def team_satisfaction(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Mean of all survey ratings (fairness, clarity, motivation, workload; 1–5) ÷ 5 × 100 for the cycle.

	The survey frame is the cycle's survey (it has no date). Choice: the mean is pooled over every answered
	item of every respondent (an unanswered item is skipped, not 0). Portfolio subjects count the rows
	whose ``team`` is one of their teams; people subjects count respondents who were members at any time
	in the period.
	"""
	ctx = _Context(frames, subjects, period)
	survey = ctx.frame("survey")
	items = pd.DataFrame({item: numbers(survey[item]) for item in SURVEY_ITEMS})
	survey = survey.assign(
		_sum=items.sum(axis=1, skipna=True), _count=items.notna().sum(axis=1).astype(float)
	)
	survey = survey[survey["_count"] > 0].reset_index(drop=True)
	attributed = ctx.attribute(
		survey,
		employee=survey["respondent"],
		low=pd.Series(ctx.start, index=survey.index),
		high=pd.Series(ctx.end, index=survey.index),
		team=survey["team"],
	)
	attributed = attributed.assign(_respondents=1.0)
	totals = attributed.groupby("subject", sort=False)[["_sum", "_count", "_respondents"]].sum()
	# fewer than MIN_SURVEY_RESPONSES answers: no value (one answer must not move a leader's KPI alone)
	enough = totals["_respondents"] >= MIN_SURVEY_RESPONSES
	ratio = _safe_ratio(totals["_sum"][enough], totals["_count"][enough], 100.0 / RATING_MAX)
	return ctx.result(ratio, "team_satisfaction")
