"""Collection metrics: success rate, cycle days, promises to pay kept, right-party contacts, amounts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from postloan_performance.engine.frames import numbers
from postloan_performance.engine.metrics.base import (
	CONTACT_ACTION_TYPES,
	PTP_GRACE_DAYS,
	PTP_KEPT_SHARE,
	RIGHT_PARTY,
	SUCCESS_STATUSES,
	Frames,
	Period,
	_between,
	_Context,
	_count_rate,
	_day,
	_keys,
	_mean,
	_safe_ratio,
	_sum,
)
from postloan_performance.engine.metrics.management import _attribute_workload, _recoveries_in

# ------------------------------------------------------------------------------------- collection


def _successes(ctx: _Context, cases: pd.DataFrame) -> pd.DataFrame:
	"""Active cases that became Cured/Paid Off in the period (closed_on in period, not before opened_on),
	attributed on their closing date."""
	success = (
		cases["status"].isin(SUCCESS_STATUSES)
		& _between(cases["_closed"], ctx.start, ctx.end)
		& (cases["_closed"] >= cases["_opened"])
	)
	selected = cases.loc[success].reset_index(drop=True)
	selected = selected.assign(_days=(selected["_closed"] - selected["_opened"]).dt.days.astype(float))
	return ctx.attribute(
		selected,
		employee=selected["collector"],
		low=selected["_closed"],
		team=ctx.loan_team(selected["loan"]),
	)


def collection_success_rate(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Cases that became Cured or Paid Off in period ÷ cases active at any time in period, in percent.

	Active: opened_on <= end and (closed_on empty or closed_on >= start). Became Cured/Paid Off: current
	status Cured/Paid Off with closed_on in the period (a case with such a status but no closed_on has no
	date and is not counted). NaN when the subject had no active case.
	"""
	ctx = _Context(frames, subjects, period)
	cases = ctx.active_cases(ctx.start, ctx.end)
	denominator = _attribute_workload(ctx, cases).groupby("subject", sort=False).size().astype(float)
	numerator = _successes(ctx, cases).groupby("subject", sort=False).size().astype(float)
	return ctx.result(_safe_ratio(numerator, denominator), "collection_success_rate")


def avg_collection_cycle_days(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Mean calendar days closed_on − opened_on over cases that became Cured or Paid Off in period (a case
	closed the day it opened counts 0 days). Cases closed before they opened are bad data and ignored."""
	ctx = _Context(frames, subjects, period)
	cases = ctx.active_cases(ctx.start, ctx.end)
	return ctx.result(_mean(_successes(ctx, cases), "_days"), "avg_collection_cycle_days")


def active_case_count(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""The subject's cases active at any time in the period: the denominator of collection_success_rate
	(a count, not a KPI: not in :data:`METRICS`). NaN for a subject without such a case."""
	ctx = _Context(frames, subjects, period)
	cases = ctx.active_cases(ctx.start, ctx.end)
	counts = _attribute_workload(ctx, cases).groupby("subject", sort=False).size().astype(float)
	return ctx.result(counts, "active_case_count")


def _actions_attribution(ctx: _Context, actions: pd.DataFrame, day: pd.Series) -> dict[str, Any]:
	return {
		"employee": ctx.case_collector(actions["case"], actions["collector"]),
		"low": day,
		"team": ctx.loan_team(ctx.case_loan(actions["case"])),
	}


def ptp_kept_rate(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Kept promises to pay ÷ promises with ptp_date in period, in percent.

	A PTP is an action with ptp_amount > 0 and a ptp_date. It is kept when the recoveries on the same
	case received from the action's date to ptp_date + 3 days (inclusive dates) sum to ≥ 95 % of
	ptp_amount. Each PTP is judged on its own (a payment can keep two overlapping promises). The PTP counts
	for the collector of its case, on the action date (ptp_date when the action has no date).
	"""
	ctx = _Context(frames, subjects, period)
	actions = ctx.frame("actions")
	amount = numbers(actions["ptp_amount"])
	promised = _day(actions["ptp_date"])
	mask = (amount > 0) & _between(promised, ctx.start, ctx.end)
	acted = _day(actions.loc[mask, "action_on"])
	ptps = actions.loc[mask].assign(_amount=amount[mask], _promised=promised[mask], _acted=acted)
	ptps = ptps.reset_index(drop=True)
	ptps = ptps.assign(_rid=np.arange(len(ptps)), case=_keys(ptps["case"]))
	recoveries = ctx.frame("recoveries")
	received = pd.DataFrame(
		{
			"case": _keys(recoveries["case"]),
			"_received": _day(recoveries["received_on"]).to_numpy(),
			"_paid": numbers(recoveries["amount"]).to_numpy(),
		}
	)
	received = received[received["case"].notna()]
	window = ptps[["_rid", "case", "_acted", "_promised"]].merge(received, on="case", how="inner")
	in_window = (window["_acted"].isna() | (window["_received"] >= window["_acted"])) & (
		window["_received"] <= window["_promised"] + pd.Timedelta(days=PTP_GRACE_DAYS)
	)
	paid = window[in_window].groupby("_rid")["_paid"].sum()
	paid_per_ptp = ptps["_rid"].map(paid).astype(float).fillna(0.0)
	# compare in percent with a small tolerance so 950.00 of 1000.00 is kept despite float noise
	kept = paid_per_ptp * 100.0 + 1e-6 >= ptps["_amount"] * (PTP_KEPT_SHARE * 100.0)
	ptps = ptps.assign(_kept=kept)
	attributed = ctx.attribute(
		ptps, **_actions_attribution(ctx, ptps, ptps["_acted"].fillna(ptps["_promised"]))
	)
	return ctx.result(_count_rate(attributed, "_kept"), "ptp_kept_rate")


def right_party_contact_rate(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Call and Visit actions in period with contact_result "Right Party" ÷ Call and Visit actions in
	period, in percent (the numerator is restricted to Call/Visit too, so the rate stays within 0–100)."""
	ctx = _Context(frames, subjects, period)
	actions = ctx.frame("actions")
	days = _day(actions["action_on"])
	mask = _between(days, ctx.start, ctx.end) & actions["action_type"].isin(CONTACT_ACTION_TYPES)
	selected = actions.loc[mask].assign(
		_day=days[mask], _right=actions.loc[mask, "contact_result"].eq(RIGHT_PARTY)
	)
	selected = selected.reset_index(drop=True)
	attributed = ctx.attribute(selected, **_actions_attribution(ctx, selected, selected["_day"]))
	return ctx.result(_count_rate(attributed, "_right"), "right_party_contact_rate")


def recovered_amount(
	frames: Frames, subjects: pd.DataFrame, period: Period, baseline: Period | None = None
) -> pd.Series:
	"""Σ recoveries received in period (company currency), for the collector of their case.

	Choice: an amount has no denominator, so "no data" means no workload: a subject with at least one
	case active in the period (or any recovery) gets the sum, 0 included; a subject with neither is NaN.
	"""
	ctx = _Context(frames, subjects, period)
	amounts = _sum(_recoveries_in(ctx, ctx.start, ctx.end), "_amount")
	workload = _attribute_workload(ctx, ctx.active_cases(ctx.start, ctx.end))
	with_data = pd.Index(workload["subject"].unique()).union(pd.Index(amounts.index))
	return ctx.result(amounts.reindex(with_data).fillna(0.0), "recovered_amount")
