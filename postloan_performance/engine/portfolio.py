"""Portfolio-quality and early-warning maths behind the Portfolio Quality Trend and Early Warning
Effectiveness reports: NPL and delinquency ratios per snapshot date, roll rates and cure rates between
consecutive month-ends, vintage M2+ curves, the monthly recovery rate, and alert precision / recall /
lead time by group. Pure pandas + numpy, no frappe.

Conventions (as in ``engine.metrics``): rates are percent (0–100) and NaN when their denominator is zero
("no data", never 0); dates may be ``datetime64`` or python ``date``/``datetime`` values and a datetime
counts on its date; periods are inclusive ``(start, end)`` pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from postloan_performance.engine.delinquency import BUCKETS, NPL_CLASSIFICATIONS
from postloan_performance.engine.frames import numbers
from postloan_performance.engine.metrics import (
	CONFIRMED,
	FALSE_ALARM,
	RECALL_LOOKBACK_DAYS,
	FrameColumnsError,
)
from postloan_performance.engine.metrics.base import _period, _timestamp

__all__ = [
	"BUCKETS",
	"CURE_FROM",
	"ROLLS",
	"alert_outcomes",
	"bucket_rank",
	"cure_rate",
	"lead_time_days",
	"monthly_recovery_rate",
	"portfolio_ratios",
	"roll_rate",
	"roll_rate_matrix",
	"roll_rates_by_date",
	"roll_rates_from_counts",
	"vintage_m2_plus",
	"warning_recall",
	"warning_recall_by",
]

PENDING = "Pending"
# (column, from bucket, buckets that count as "rolled"): the next bucket; from M3 every bucket from M4 on.
ROLLS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
	("roll_m0_m1", "M0", ("M1",)),
	("roll_m1_m2", "M1", ("M2",)),
	("roll_m2_m3", "M2", ("M3",)),
	("roll_m3_m4", "M3", ("M4", "M5", "M6+")),
)
CURE_FROM = BUCKETS[1:]
M1_PLUS = BUCKETS[1:]
M2_PLUS = BUCKETS[2:]
M3_PLUS = BUCKETS[3:]


# ------------------------------------------------------------------------------------------ helpers


def _require(frame: pd.DataFrame | None, name: str, columns: Sequence[str]) -> pd.DataFrame:
	"""The frame (None or a column-less empty frame = no rows) with the required columns checked."""
	frame = frame if frame is not None else pd.DataFrame()
	missing = [c for c in columns if c not in frame.columns]
	if missing and len(frame):
		raise FrameColumnsError(frame=name, columns=missing)
	return frame.reset_index(drop=True).assign(**{c: None for c in missing})


def _day(values: Any) -> pd.Series:
	converted = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce")
	if isinstance(converted.dtype, pd.DatetimeTZDtype):
		converted = converted.dt.tz_localize(None)
	return converted.dt.normalize()


def _percent(numerator: float, denominator: float) -> float:
	return float(numerator) * 100.0 / float(denominator) if denominator else np.nan


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
	numerator = numerator.reindex(denominator.index).fillna(0.0).astype(float)
	return numerator * 100.0 / denominator.astype(float).where(denominator > 0)


def bucket_rank(buckets: Any) -> pd.Series:
	"""0 for M0 … 6 for M6+; NaN for an empty or unknown bucket."""
	rank = {bucket: float(i) for i, bucket in enumerate(BUCKETS)}
	return pd.Series(buckets, dtype=object).map(rank).astype(float)


# ----------------------------------------------------------------------------------- ratios by date


def portfolio_ratios(aggregates: pd.DataFrame | None) -> pd.DataFrame:
	"""NPL, M1+ and M3+ ratios per snapshot date from snapshot aggregates.

	``aggregates``: one row per (as_of_date, bucket, classification) with ``loans`` (loan count) and
	``outstanding`` (Σ outstanding), e.g. a SQL ``GROUP BY``. Returns, indexed by ``as_of_date`` (sorted):
	``loans``, ``outstanding``, ``npl_outstanding`` and the ratios in percent of the outstanding:
	``npl_ratio`` (Substandard/Doubtful/Loss), ``m1_plus_rate`` (bucket ≥ M1) and ``m3_plus_rate``
	(bucket ≥ M3); NaN where the outstanding is 0.
	"""
	frame = _require(
		aggregates, "aggregates", ("as_of_date", "bucket", "classification", "loans", "outstanding")
	)
	columns = ["loans", "outstanding", "npl_outstanding", "npl_ratio", "m1_plus_rate", "m3_plus_rate"]
	if frame.empty:
		return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], name="as_of_date"), dtype=float)
	outstanding = numbers(frame["outstanding"]).fillna(0.0)
	frame = frame.assign(
		as_of_date=_day(frame["as_of_date"]),
		loans=numbers(frame["loans"]).fillna(0.0),
		outstanding=outstanding,
		npl_outstanding=outstanding.where(frame["classification"].isin(NPL_CLASSIFICATIONS), 0.0),
		m1_outstanding=outstanding.where(frame["bucket"].isin(M1_PLUS), 0.0),
		m3_outstanding=outstanding.where(frame["bucket"].isin(M3_PLUS), 0.0),
	)
	totals = frame.groupby("as_of_date").agg(
		loans=("loans", "sum"),
		outstanding=("outstanding", "sum"),
		npl_outstanding=("npl_outstanding", "sum"),
		m1_outstanding=("m1_outstanding", "sum"),
		m3_outstanding=("m3_outstanding", "sum"),
	)
	totals["npl_ratio"] = _ratio(totals["npl_outstanding"], totals["outstanding"])
	totals["m1_plus_rate"] = _ratio(totals["m1_outstanding"], totals["outstanding"])
	totals["m3_plus_rate"] = _ratio(totals["m3_outstanding"], totals["outstanding"])
	return totals[columns].sort_index()


# -------------------------------------------------------------------------------------- roll rates


def roll_rate_matrix(prev: pd.DataFrame | None, next: pd.DataFrame | None) -> pd.DataFrame:
	"""Loans by (bucket at the earlier date, bucket at the later date).

	``prev`` and ``next``: one row per loan (``loan``, ``bucket``) at two consecutive month-ends. Only loans
	present at both dates with a known bucket count (a loan without a snapshot at the later date has
	left the book and leaves the denominators). Returns a 7 × 7 count matrix, index = from bucket,
	columns = to bucket, in :data:`BUCKETS` order (zeros included).
	"""
	before = _require(prev, "prev", ("loan", "bucket"))[["loan", "bucket"]]
	after = _require(next, "next", ("loan", "bucket"))[["loan", "bucket"]]
	before = before[before["loan"].notna() & before["bucket"].isin(BUCKETS)].drop_duplicates(
		"loan", keep="last"
	)
	after = after[after["loan"].notna() & after["bucket"].isin(BUCKETS)].drop_duplicates("loan", keep="last")
	pairs = before.merge(after, on="loan", suffixes=("_from", "_to"))
	counts = pairs.groupby(["bucket_from", "bucket_to"]).size()
	matrix = counts.unstack(fill_value=0) if len(counts) else pd.DataFrame()
	matrix = matrix.reindex(index=list(BUCKETS), columns=list(BUCKETS), fill_value=0).fillna(0).astype(int)
	matrix.index.name, matrix.columns.name = "from", "to"
	return matrix


def roll_rate(matrix: pd.DataFrame, from_bucket: str, to_buckets: Iterable[str]) -> float:
	"""Percent of the loans in ``from_bucket`` at the earlier date that are in one of ``to_buckets`` at the
	later date (NaN when no loan was in ``from_bucket``)."""
	row = matrix.loc[from_bucket]
	return _percent(row[list(to_buckets)].sum(), row.sum())


def cure_rate(matrix: pd.DataFrame) -> float:
	"""Percent of the loans delinquent (M1 or worse) at the earlier date that are M0 at the later date."""
	rows = matrix.loc[list(CURE_FROM)]
	return _percent(rows["M0"].sum(), rows.to_numpy().sum())


def roll_rates_by_date(pairs: pd.DataFrame | None, dates: Sequence[Any]) -> pd.DataFrame:
	"""Roll and cure rates between each pair of consecutive ``dates`` (sorted month-ends).

	``pairs``: loan-level rows (``loan``, ``as_of_date``, ``bucket``). Returns one row per date, indexed by
	the *later* date of each pair, with the :data:`ROLLS` columns (``roll_m0_m1`` … ``roll_m3_m4``) and
	``cure_rate``, in percent; the first date has NaN (no earlier month-end). Same counting as
	:func:`roll_rate_matrix` for every pair, done in one merge of the whole frame; the rates from the
	counts as :func:`roll_rates_from_counts`.
	"""
	frame = _require(pairs, "pairs", ("loan", "as_of_date", "bucket"))
	stamps = sorted({_timestamp(d) for d in dates})
	position = pd.Series(np.arange(len(stamps)), index=pd.DatetimeIndex(stamps))
	frame = pd.DataFrame(
		{
			"loan": frame["loan"].to_numpy(),
			"bucket": frame["bucket"].to_numpy(),
			"_pos": _day(frame["as_of_date"]).map(position).to_numpy(),
		}
	)
	frame = frame[frame["loan"].notna() & frame["bucket"].isin(BUCKETS) & frame["_pos"].notna()]
	frame = frame.drop_duplicates(["_pos", "loan"], keep="last").astype({"_pos": int})
	earlier = frame.assign(_pos=frame["_pos"] + 1)  # matched with the next date's rows
	moves = earlier.merge(frame, on=["_pos", "loan"], suffixes=("_from", "_to"))
	counts = moves.groupby(["_pos", "bucket_from", "bucket_to"]).size().rename("loans").reset_index()
	counts["as_of_date"] = [stamps[pos] for pos in counts["_pos"]]
	return roll_rates_from_counts(counts, stamps)


def roll_rates_from_counts(moves: pd.DataFrame | None, dates: Sequence[Any]) -> pd.DataFrame:
	"""Roll and cure rates at each of ``dates`` from counted loan moves.

	``moves``: rows of (``as_of_date``, ``bucket_from``, ``bucket_to``, ``loans``): ``loans`` loans were in
	``bucket_from`` at the month-end before ``as_of_date`` and are in ``bucket_to`` at ``as_of_date`` (e.g.
	a GROUP BY over a monthly summary; several rows of the same move add up). Moves from or to an unknown
	bucket, and dates not in ``dates``, are ignored. Returns the frame of :func:`roll_rates_by_date`,
	indexed by ``dates``: NaN where no loan was in the rate's starting bucket(s).
	"""
	frame = _require(moves, "moves", ("as_of_date", "bucket_from", "bucket_to", "loans"))
	stamps = sorted({_timestamp(d) for d in dates})
	columns = [column for column, _from, _to in ROLLS] + ["cure_rate"]
	out = pd.DataFrame(np.nan, index=pd.DatetimeIndex(stamps, name="as_of_date"), columns=columns)
	frame = pd.DataFrame(
		{
			"as_of_date": _day(frame["as_of_date"]).to_numpy(),
			"bucket_from": frame["bucket_from"].to_numpy(),
			"bucket_to": frame["bucket_to"].to_numpy(),
			"loans": numbers(frame["loans"]).fillna(0.0).to_numpy(),
		}
	)
	frame = frame[
		frame["bucket_from"].isin(BUCKETS)
		& frame["bucket_to"].isin(BUCKETS)
		& frame["as_of_date"].isin(stamps)
	]
	counts = frame.groupby(["as_of_date", "bucket_from", "bucket_to"])["loans"].sum()
	present = set(counts.index.get_level_values(0)) if len(counts) else set()
	for row, stamp in enumerate(stamps):
		if stamp not in present:
			continue
		matrix = counts.loc[stamp].unstack(fill_value=0)
		matrix = matrix.reindex(index=list(BUCKETS), columns=list(BUCKETS), fill_value=0).fillna(0)
		for column, from_bucket, to_buckets in ROLLS:
			out.iloc[row, out.columns.get_loc(column)] = roll_rate(matrix, from_bucket, to_buckets)
		out.iloc[row, out.columns.get_loc("cure_rate")] = cure_rate(matrix)
	return out


# ------------------------------------------------------------------------------------------ vintage


def _month_number(days: pd.Series) -> pd.Series:
	return days.dt.year * 12 + days.dt.month - 1


def vintage_m2_plus(snapshots: pd.DataFrame | None, loans: pd.DataFrame | None) -> pd.DataFrame:
	"""Cumulative share of each vintage's loans that have been M2 or worse, by months on book.

	``loans``: ``loan``, ``disbursed_on``; the vintage is the disbursement month ("YYYY-MM").
	``snapshots``: ``loan``, ``as_of_date``, ``bucket``. Months on book (MOB) of a snapshot = calendar
	months from the disbursement month to the snapshot month (a snapshot in the disbursement month is MOB
	0). Value at MOB k = loans of the vintage with an M2+ snapshot at some MOB ≤ k ÷ loans of the vintage,
	in percent; NaN after the last MOB observed for the vintage (not seen yet). Loans without a
	disbursement date are ignored. Rows: vintages (sorted), columns: MOB 0 … the largest observed.
	"""
	book = _require(loans, "loans", ("loan", "disbursed_on"))
	snaps = _require(snapshots, "snapshots", ("loan", "as_of_date", "bucket"))
	book = book.assign(_disbursed=_day(book["disbursed_on"]))
	book = book[book["loan"].notna() & book["_disbursed"].notna()].drop_duplicates("loan", keep="last")
	if book.empty:
		return pd.DataFrame(index=pd.Index([], name="vintage"), dtype=float)
	book = book.assign(
		vintage=book["_disbursed"].dt.strftime("%Y-%m"), _month=_month_number(book["_disbursed"])
	)
	snaps = snaps.assign(_day=_day(snaps["as_of_date"])).merge(book[["loan", "vintage", "_month"]], on="loan")
	snaps = snaps[snaps["_day"].notna()]
	snaps = snaps.assign(mob=_month_number(snaps["_day"]) - snaps["_month"])
	snaps = snaps[snaps["mob"] >= 0]
	sizes = book.groupby("vintage").size().astype(float)
	if snaps.empty:
		return pd.DataFrame(index=sizes.index, dtype=float)
	last_mob = snaps.groupby("vintage")["mob"].max()
	width = int(last_mob.max()) + 1
	first_bad = snaps[snaps["bucket"].isin(M2_PLUS)].groupby(["vintage", "loan"])["mob"].min().reset_index()
	bad = first_bad.groupby(["vintage", "mob"]).size().unstack(fill_value=0)
	bad = bad.reindex(index=sizes.index, columns=range(width), fill_value=0).fillna(0)
	curve = bad.cumsum(axis=1).div(sizes, axis=0) * 100.0
	observed = np.arange(width)[None, :] <= last_mob.reindex(sizes.index).fillna(-1).to_numpy()[:, None]
	curve = curve.where(observed)
	curve.index.name, curve.columns.name = "vintage", "mob"
	return curve


# ---------------------------------------------------------------------------------------- recovery


def monthly_recovery_rate(
	cases: pd.DataFrame | None, recoveries: pd.DataFrame | None, months: Sequence[tuple[Any, Any]]
) -> pd.DataFrame:
	"""The recovery_rate metric for each month: Σ recoveries received in the month ÷ Σ entry_overdue_amount
	of the cases active in the month (open at its start or opened in it: opened_on ≤ end and closed_on
	empty or ≥ start), in percent.

	``cases``: ``opened_on``, ``closed_on``, ``entry_overdue_amount``; ``recoveries``: ``received_on``,
	``amount``; ``months``: (start, end) pairs. Returns one row per month, indexed by its end:
	``recovered``, ``entry_overdue`` and ``recovery_rate`` (NaN when no case was active).
	"""
	cases = _require(cases, "cases", ("opened_on", "closed_on", "entry_overdue_amount"))
	recoveries = _require(recoveries, "recoveries", ("received_on", "amount"))
	opened, closed = _day(cases["opened_on"]), _day(cases["closed_on"])
	entry = numbers(cases["entry_overdue_amount"]).fillna(0.0)
	received, amount = _day(recoveries["received_on"]), numbers(recoveries["amount"]).fillna(0.0)
	rows = []
	for month in months:
		start, end = _period(month)
		active = opened.notna() & (opened <= end) & (closed.isna() | (closed >= start))
		inside = received.notna() & (received >= start) & (received <= end)
		denominator, numerator = float(entry[active].sum()), float(amount[inside].sum())
		rows.append(
			{
				"month_end": end,
				"recovered": numerator,
				"entry_overdue": denominator,
				"recovery_rate": _percent(numerator, denominator) if active.any() else np.nan,
			}
		)
	frame = pd.DataFrame(rows, columns=["month_end", "recovered", "entry_overdue", "recovery_rate"])
	return frame.set_index("month_end")


# ----------------------------------------------------------------------------------- early warning


def _alerts(alerts: pd.DataFrame | None, by: str | None) -> pd.DataFrame:
	columns = ("loan", "raised_on", "outcome") + ((by,) if by else ())
	frame = _require(alerts, "alerts", columns)
	frame = frame.assign(_raised=_day(frame["raised_on"]), _group="" if by is None else frame[by])
	return frame[frame["_raised"].notna() & frame["_group"].notna()]


def alert_outcomes(alerts: pd.DataFrame | None, period: Any, by: str) -> pd.DataFrame:
	"""Alerts raised in ``period`` by ``by`` (e.g. ``rule`` or ``officer``): ``alerts``, ``confirmed``,
	``false_alarms``, ``pending`` and ``precision`` = confirmed ÷ (confirmed + false alarms) in percent
	(the warning_precision metric; pending alerts are not judged yet, NaN when none is judged)."""
	start, end = _period(period)
	frame = _alerts(alerts, by)
	frame = frame[(frame["_raised"] >= start) & (frame["_raised"] <= end)]
	frame = frame.assign(
		_confirmed=frame["outcome"].eq(CONFIRMED).astype(int),
		_false=frame["outcome"].eq(FALSE_ALARM).astype(int),
		_pending=(~frame["outcome"].isin((CONFIRMED, FALSE_ALARM))).astype(int),
	)
	totals = frame.groupby("_group", sort=True).agg(
		alerts=("_raised", "size"),
		confirmed=("_confirmed", "sum"),
		false_alarms=("_false", "sum"),
		pending=("_pending", "sum"),
	)
	totals["precision"] = _ratio(totals["confirmed"], totals["confirmed"] + totals["false_alarms"])
	totals.index.name = by
	return totals


def _recall_pairs(
	first_npl: pd.DataFrame | None,
	alerts: pd.DataFrame | None,
	period: Any,
	by: str | None,
	lookback_days: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
	start, end = _period(period)
	firsts = _require(first_npl, "first_npl", ("loan", "first_npl_on"))
	firsts = firsts.assign(_first=_day(firsts["first_npl_on"]))
	firsts = firsts[firsts["loan"].notna() & (firsts["_first"] >= start) & (firsts["_first"] <= end)]
	firsts = firsts.groupby("loan", as_index=False)["_first"].min()
	raised = _alerts(alerts, by)[["loan", "_raised", "_group"]]
	pairs = firsts.merge(raised, on="loan")
	low = pairs["_first"] - pd.Timedelta(days=lookback_days)
	pairs = pairs[(pairs["_raised"] >= low) & (pairs["_raised"] <= end)]
	return firsts, pairs.assign(_caught=pairs["_raised"] <= pairs["_first"])


def warning_recall_by(
	first_npl: pd.DataFrame | None,
	alerts: pd.DataFrame | None,
	period: Any,
	by: str,
	*,
	involved_only: bool = False,
	groups: Iterable[Any] = (),
	lookback_days: int = RECALL_LOOKBACK_DAYS,
) -> pd.DataFrame:
	"""The warning_recall metric per alert group (``by``: ``rule``, ``officer`` …).

	``first_npl``: ``loan``, ``first_npl_on`` (each loan's first NPL snapshot date over all history; only
	those in ``period`` count). ``alerts``: ``loan``, ``raised_on``, ``outcome`` and the ``by`` column. A
	loan is *caught* by a group when one of the group's alerts was raised in [first − lookback, first].

	* ``involved_only=False`` (the portfolio's recall, e.g. by rule): the denominator of every group is
	  every loan first NPL in the period; the numerator the loans the group caught. Groups are those with an
	  alert raised in [first − lookback, period end] on such a loan.
	* ``involved_only=True`` (people's recall, as ``engine.metrics.warning_recall`` for people subjects):
	  a group's denominator is the loans first NPL in the period on which it raised an alert in
	  [first − lookback, period end] (a late alert is a miss), its numerator those it caught.

	``groups`` are listed too when they have no such alert (recall 0 of every loan, or NaN when
	``involved_only``). Returns ``npl_loans``, ``caught`` and ``recall`` (percent) indexed by group.
	"""
	firsts, pairs = _recall_pairs(first_npl, alerts, period, by, lookback_days)
	per_loan = pairs.groupby(["_group", "loan"])["_caught"].any().reset_index()
	caught = per_loan.groupby("_group")["_caught"].sum().astype(float)
	index = caught.index.union(pd.Index(list(groups), dtype=object))
	if involved_only:
		denominator = per_loan.groupby("_group").size().astype(float).reindex(index).fillna(0.0)
	else:
		denominator = pd.Series(float(len(firsts)), index=index)
	out = pd.DataFrame({"npl_loans": denominator, "caught": caught.reindex(denominator.index).fillna(0.0)})
	out["recall"] = _ratio(out["caught"], out["npl_loans"])
	out.index.name = by
	return out.sort_index()


def warning_recall(
	first_npl: pd.DataFrame | None,
	alerts: pd.DataFrame | None,
	period: Any,
	*,
	involved_only: bool = False,
	lookback_days: int = RECALL_LOOKBACK_DAYS,
) -> dict[str, float]:
	"""The recall over all alerts (any rule, any officer): ``{"npl_loans", "caught", "recall"}``; see
	:func:`warning_recall_by` for ``involved_only`` (denominator = loans with an alert from first −
	lookback to the period end)."""
	firsts, pairs = _recall_pairs(first_npl, alerts, period, None, lookback_days)
	caught = float(pairs.loc[pairs["_caught"], "loan"].nunique())
	npl_loans = float(pairs["loan"].nunique()) if involved_only else float(len(firsts))
	return {"npl_loans": npl_loans, "caught": caught, "recall": _percent(caught, npl_loans)}


def lead_time_days(
	alerts: pd.DataFrame | None, first_npl: pd.DataFrame | None, period: Any, by: str
) -> pd.Series:
	"""Mean days from raising to the loan's first NPL date over the Confirmed alerts raised in ``period``,
	by ``by``. Only alerts raised on or before the first NPL date count (an alert on a loan that was NPL
	already warned of nothing); NaN for a group without such alerts. ``first_npl``: ``loan``,
	``first_npl_on`` over all history (no period restriction)."""
	start, end = _period(period)
	frame = _alerts(alerts, by)
	frame = frame[(frame["_raised"] >= start) & (frame["_raised"] <= end) & frame["outcome"].eq(CONFIRMED)]
	firsts = _require(first_npl, "first_npl", ("loan", "first_npl_on"))
	firsts = firsts.assign(_first=_day(firsts["first_npl_on"]))
	firsts = firsts[firsts["loan"].notna() & firsts["_first"].notna()].groupby("loan")["_first"].min()
	frame = frame.join(firsts.rename("_first"), on="loan")
	frame = frame[frame["_first"].notna() & (frame["_first"] >= frame["_raised"])]
	days = (frame["_first"] - frame["_raised"]).dt.days.astype(float)
	result = days.groupby(frame["_group"]).mean()
	result.index.name = by
	return result.rename("lead_time_days")
