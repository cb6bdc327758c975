"""Incentive payout: from published grades to amounts that add up to the pool to the cent.

Pure pandas (no Frappe). The steps, each a function that can be tested by hand:

1. ``pool_amount``: a fixed amount, or a target per employee times the employees in scope.
2. ``membership_days``: the days of the period each person was a member of his appraisal team.
3. ``team_shares``: the pool over teams, in proportion to each team's heads (full-time equivalents:
   days of membership / period days), either equally per head or weighted by the team's mean total
   score; a weighted share is kept between ``floor`` and ``cap`` times the team's equal share, and what
   the bounds free or take is spread over the other teams in proportion, so the shares add up to the
   pool.
4. ``split_team``: a team's share over its members by grade coefficient × days / period days.
5. ``allocate``: rounding to the currency's precision by largest remainder (ties by a stable key),
   first the team shares to the pool, then each person's amount to his team's rounded share, so
   every total is exact.

A team whose members all weigh nothing (all graded D, say) takes no share: its part goes to the other
teams. When no team weighs anything, nothing is paid and the whole pool is reported as unallocated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

EQUAL = "Equal per Head"
WEIGHTED = "Weighted by Team Score"
FIXED = "Fixed Amount"
PER_EMPLOYEE = "Target per Employee"
DEFAULT_COEFFICIENTS = {"S": 1.5, "A": 1.2, "B": 1.0, "C": 0.7, "D": 0.0}
LINE_COLUMNS = [
	"employee",
	"team",
	"layer",
	"grade",
	"total_score",
	"coefficient",
	"days",
	"fte",
	"weight",
	"amount",
]


@dataclass
class PayoutRules:
	pool_basis: str = FIXED
	pool_amount: float = 0.0
	target_amount: float = 0.0
	team_split: str = EQUAL
	floor: float = 0.5
	cap: float = 2.0
	coefficients: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_COEFFICIENTS))
	precision: int = 2


@dataclass
class PayoutResult:
	pool: float
	lines: pd.DataFrame  # LINE_COLUMNS, one row per person
	teams: pd.DataFrame  # team, layer, heads, fte, mean_score, share, amount
	unallocated: float = 0.0
	messages: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- pieces
def period_days(start: date, end: date) -> int:
	return (pd.Timestamp(end) - pd.Timestamp(start)).days + 1


def pool_amount(rules: PayoutRules, employees: int) -> float:
	"""The pool before rounding: a fixed amount, or the sum of per-employee targets."""
	if rules.pool_basis == PER_EMPLOYEE:
		return float(rules.target_amount) * employees
	return float(rules.pool_amount)


def membership_days(memberships: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
	"""Days of [start, end] covered by each (employee, team)'s memberships (from_date, to_date; an open
	to_date runs on); overlapping rows of the same membership are counted once.

	Vectorised: with a membership's rows sorted by start, each row adds the days after the latest end
	of the rows before it."""
	if memberships.empty:
		return pd.DataFrame(columns=["employee", "team", "days"])
	start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
	frame = memberships[["employee", "team"]].copy()
	frame["lo"] = pd.to_datetime(memberships["from_date"]).clip(lower=start_ts)
	frame["hi"] = pd.to_datetime(memberships["to_date"]).fillna(end_ts).clip(upper=end_ts)
	frame = frame[frame["hi"] >= frame["lo"]].sort_values(["employee", "team", "lo"], kind="mergesort")
	if frame.empty:
		return pd.DataFrame(columns=["employee", "team", "days"])
	groups = frame.groupby(["employee", "team"], sort=False)["hi"]
	reached = groups.cummax().groupby([frame["employee"], frame["team"]], sort=False).shift()
	first_new = frame["lo"].where(
		reached.isna(), pd.concat([frame["lo"], reached + pd.Timedelta(days=1)], axis=1).max(axis=1)
	)
	frame["days"] = ((frame["hi"] - first_new).dt.days + 1).clip(lower=0)
	days = frame.groupby(["employee", "team"], sort=True)["days"].sum().reset_index()
	days["days"] = days["days"].astype("int64")
	return days


def grade_used(final_grade, calibrated_grade, grade):
	"""The grade a payout uses: the final grade, else the calibrated one, else the bands' grade."""
	return final_grade or calibrated_grade or grade or None


def coefficient_of(grade, coefficients: dict[str, float]) -> float:
	"""The coefficient of a grade; an unknown or missing grade weighs nothing."""
	if grade is None or (isinstance(grade, float) and math.isnan(grade)):
		return 0.0
	return float(coefficients.get(str(grade).strip(), 0.0))


def bounded_shares(raw: pd.Series, equal: pd.Series, floor: float, cap: float, total: float) -> pd.Series:
	"""Shares in proportion to `raw`, each kept within [floor × equal, cap × equal], adding up to `total`.

	The shares are clip(λ × raw, lower, upper) for the one scale λ at which they add up to `total`
	(found by bisection: the sum only grows with λ); the free parts then absorb the rounding dust.
	`equal` must add up to `total` and floor <= 1 <= cap, so a solution exists whenever some raw is
	positive; with no positive raw the shares are `equal`.
	"""
	index = raw.index
	raw_ = np.clip(raw.to_numpy(dtype=float), 0, None)
	equal_ = equal.to_numpy(dtype=float)
	lower, upper = equal_ * floor, equal_ * cap
	if raw_.sum() <= 0:
		return pd.Series(equal_, index=index)

	def shares_at(scale: float) -> np.ndarray:
		return np.clip(raw_ * scale, lower, upper)

	lo, hi = 0.0, 1.0
	while shares_at(hi).sum() < total and hi < 1e18:
		hi *= 2
	for _ in range(200):
		mid = (lo + hi) / 2
		if shares_at(mid).sum() < total:
			lo = mid
		else:
			hi = mid
	shares = shares_at(hi)
	free = (shares > lower) & (shares < upper)
	if not free.any():
		free = raw_ > 0
	shares[free] += (total - shares.sum()) * shares[free] / shares[free].sum()
	return pd.Series(shares, index=index)


def team_shares(lines: pd.DataFrame, pool: float, rules: PayoutRules) -> pd.DataFrame:
	"""The pool over teams: one row per team with heads, fte, mean_score and share (unrounded).

	`lines` needs team, layer, fte, weight, total_score. Teams whose members all weigh nothing get
	no share."""
	grouped = lines.groupby("team", sort=True)
	teams = pd.DataFrame(
		{
			"layer": grouped["layer"].first(),
			"heads": grouped["employee"].count(),
			"fte": grouped["fte"].sum(),
			"weight": grouped["weight"].sum(),
			"mean_score": grouped["total_score"].mean().fillna(0.0),
		}
	)
	teams["share"] = 0.0
	paying = teams["weight"] > 0
	if paying.any() and pool > 0:
		fte = teams.loc[paying, "fte"]
		equal = pool * fte / fte.sum()
		if rules.team_split == WEIGHTED:
			raw = fte * teams.loc[paying, "mean_score"].clip(lower=0)
			teams.loc[paying, "share"] = bounded_shares(raw, equal, rules.floor, rules.cap, pool)
		else:
			teams.loc[paying, "share"] = equal
	return teams.reset_index().rename(columns={"index": "team"})


def allocate(quotas: pd.Series, total: float, precision: int, keys: pd.Series | None = None) -> pd.Series:
	"""Round `quotas` to `precision` decimals so that they add up to `total` (rounded) exactly.

	Largest remainder: every part gets its quota rounded down (in minor units), then the units left
	go one each to the largest remainders; equal remainders go by `keys` ascending (else the index).
	"""
	scale = 10**precision
	units_total = round(total * scale)
	if quotas.empty:
		return quotas.astype(float)
	if quotas.sum() <= 0:
		return pd.Series(0.0, index=quotas.index)
	scaled = (quotas / quotas.sum() * units_total).round(6)
	floors = scaled.apply(math.floor)
	left = int(units_total - floors.sum())
	order = pd.DataFrame(
		{
			"remainder": -(scaled - floors).round(6),
			"key": (keys if keys is not None else pd.Series(quotas.index, index=quotas.index)).astype(str),
		}
	).sort_values(["remainder", "key"], kind="mergesort")
	units = floors.astype("int64")
	if left > 0:
		units.loc[order.index[:left]] += 1
	return (units / scale).round(precision)


def split_teams(lines: pd.DataFrame, shares: pd.Series, precision: int) -> pd.Series:
	"""Each team's rounded share (``shares`` by team) over its members by weight (coefficient × fte),
	exact to the cent per team: ``allocate`` for every team at once (vectorised by group)."""
	scale = 10**precision
	frame = lines[["team", "employee", "weight"]].copy()
	frame["units_total"] = (frame["team"].map(shares).fillna(0.0) * scale).round().astype("int64")
	weight_sum = frame.groupby("team")["weight"].transform("sum")
	paying = (weight_sum > 0) & (frame["units_total"] > 0)
	scaled = (
		(frame["weight"] / weight_sum.where(paying, 1.0) * frame["units_total"]).where(paying, 0.0).round(6)
	)
	floors = scaled.apply(math.floor).astype("int64")
	frame["floor"] = floors
	frame["remainder"] = -(scaled - floors).round(6)
	frame["key"] = frame["employee"].astype(str)
	left = frame["units_total"] - frame.groupby("team")["floor"].transform("sum")
	order = frame.sort_values(["team", "remainder", "key"], kind="mergesort")
	rank = order.groupby("team", sort=False).cumcount()
	extra = (rank < left.loc[order.index]).astype("int64").reindex(frame.index)
	return ((floors + extra.where(paying, 0)) / scale).round(precision)


# ---------------------------------------------------------------- the whole payout
def compute_payout(
	people: pd.DataFrame, memberships: pd.DataFrame, start: date, end: date, rules: PayoutRules
) -> PayoutResult:
	"""Every person's amount.

	people: employee, team, layer, grade, total_score (one row per appraisal).
	memberships: employee, team, from_date, to_date (memberships of those teams).
	"""
	days_in_period = period_days(start, end)
	lines = people[["employee", "team", "layer", "grade", "total_score"]].copy()
	lines["total_score"] = pd.to_numeric(lines["total_score"], errors="coerce").fillna(0.0)
	days = membership_days(memberships, start, end)
	lines = lines.merge(days, on=["employee", "team"], how="left")
	lines["days"] = lines["days"].fillna(0).astype("int64")
	lines["fte"] = lines["days"] / days_in_period
	lines["coefficient"] = lines["grade"].apply(lambda g: coefficient_of(g, rules.coefficients))
	lines["weight"] = lines["coefficient"] * lines["fte"]
	lines = lines.sort_values(["team", "employee"], kind="mergesort").reset_index(drop=True)

	scale = 10**rules.precision
	pool = round(round(pool_amount(rules, len(lines)) * scale) / scale, rules.precision)
	result = PayoutResult(pool=pool, lines=lines, teams=pd.DataFrame())
	lines["amount"] = 0.0
	if lines.empty:
		result.unallocated = pool
		result.teams = pd.DataFrame(
			columns=["team", "layer", "heads", "fte", "weight", "mean_score", "share", "amount"]
		)
		result.lines = lines[LINE_COLUMNS]
		return result
	teams = team_shares(lines, pool, rules)
	paying = teams["share"] > 0
	if paying.any():
		teams.loc[paying, "share"] = allocate(
			teams.loc[paying, "share"], pool, rules.precision, keys=teams.loc[paying, "team"]
		)
		lines["amount"] = split_teams(lines, teams.set_index("team")["share"], rules.precision)
	teams["amount"] = teams["team"].map(lines.groupby("team")["amount"].sum()).fillna(0.0)
	allocated = round(float(lines["amount"].sum()), rules.precision)
	result.unallocated = round(pool - allocated, rules.precision)
	if result.unallocated:
		result.messages.append("no_weight")
	result.lines = lines[LINE_COLUMNS]
	result.teams = teams
	return result
