"""The eighteen built-in metrics (docs/scheme.md, "Built-in metrics"), computed set-wise with pandas.

Every metric has the signature ``metric(frames, subjects, period, baseline=None) -> pd.Series`` and
returns one float per subject (every subject of ``subjects`` appears, in first-seen order), NaN when the
subject has no data / a zero denominator (never 0 for "no data", never an exception for data). Rates are
percent (0–100), amounts in company currency, durations as named. No frappe here.

Inputs
------
``frames`` maps frame names to DataFrames (columns in ``REQUIRED_COLUMNS``; extra columns are ignored,
optional ones in ``OPTIONAL_COLUMNS`` are used when present). A missing frame, None, or an empty frame
without columns (``pd.DataFrame(frappe.get_all(...))`` with no rows) is "no rows"; a non-empty frame that
lacks a required column raises :class:`FrameColumnsError`. Dates may be ``datetime64`` or python
``date``/``datetime`` values; ``period``/``baseline`` are ``(start, end)`` inclusive dates, and a datetime
is in a period when its date is.

Attribution (who a record counts for)
-------------------------------------
``subjects`` comes in two shapes, chosen by its columns:

* **people** – columns ``subject, employee[, from_date, to_date]``: one row per (subject, employee)
  membership; an Employee subject is ``(emp, emp, NaT, NaT)``, a Team subject has one row per member
  (the caller lists the members of descendant teams too). A record counts for a subject when its
  attributed employee is a member on the record's attributing date (NaT bounds are open). A record is
  counted at most once per subject even when memberships overlap. Attributed employee and date:

  - cases: the case's ``collector``; a case counts for the *workload* (denominators) when the
    collector's membership overlaps the part of the period in which the case was active
    ``[max(opened_on, start), min(closed_on, end)]``; a case *outcome* (Cured/Paid Off) on its
    ``closed_on``;
  - actions, recoveries, customer feedback: "the collector of their case" (the case's collector when the
    row names a known case, else the row's own ``collector``/``employee``), on ``action_on`` /
    ``received_on`` / ``given_on``;
  - alerts: ``officer`` on ``raised_on``; events: ``handler`` on ``resolved_on``; assessments:
    ``author`` on ``report_date``; tickets: ``agent`` on ``opened_on``; survey: ``respondent``, counted
    when the membership overlaps the period (the survey frame is the cycle's survey);
  - npl_ratio for people: the loans of the subject's cases active on the snapshot date.

* **portfolio** – columns ``subject, team``: one row per team of the subject (the team itself and each
  descendant). Records count by their loan's ``loans.managing_team`` (records reach their loan through
  their ``loan`` column, or their case's loan); the survey counts by ``survey.team``. Metrics whose
  records have no loan (assessments, tickets, customer feedback without a ``loan``/``case`` column) are
  NaN in portfolio mode. Membership dates do not apply: the current managing team is used.

If ``subjects`` has a ``team`` column it is read as portfolio, otherwise as people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from postloan_performance.engine import EngineError
from postloan_performance.engine.delinquency import NPL_CLASSIFICATIONS
from postloan_performance.engine.metric_catalog import BUILTIN_METRICS

__all__ = [
	"METRICS",
	"OPTIONAL_COLUMNS",
	"REQUIRED_COLUMNS",
	"FrameColumnsError",
	"MetricSpec",
	"PeriodError",
	"UnknownMetricError",
	"active_case_count",
	"avg_collection_cycle_days",
	"collection_success_rate",
	"compute",
	"customer_loyalty_nps",
	"customer_satisfaction",
	"first_response_minutes",
	"npl_ratio",
	"npl_ratio_reduction",
	"ptp_kept_rate",
	"recovered_amount",
	"recovery_rate",
	"recovery_rate_improvement",
	"right_party_contact_rate",
	"risk_event_handling_hours",
	"risk_report_quality",
	"team_satisfaction",
	"ticket_resolution_rate",
	"warning_precision",
	"warning_recall",
]

Frames = Mapping[str, pd.DataFrame | None]
Period = tuple[Any, Any]
MetricFunction = Callable[[Frames, pd.DataFrame, Period, "Period | None"], pd.Series]

SUCCESS_STATUSES = ("Cured", "Paid Off")
CONTACT_ACTION_TYPES = ("Call", "Visit")
RIGHT_PARTY = "Right Party"
CONFIRMED = "Confirmed"
FALSE_ALARM = "False Alarm"
PTP_GRACE_DAYS = 3
PTP_KEPT_SHARE = 0.95
RECALL_LOOKBACK_DAYS = 90
SURVEY_ITEMS = ("fairness", "clarity", "motivation", "workload")
RATING_MAX = 5.0
# Survey answers are shown or used only in groups of at least this many (team_satisfaction, reports).
MIN_SURVEY_RESPONSES = 3
NPS_PROMOTER_MIN = 9
NPS_DETRACTOR_MAX = 6

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
	"loans": ("name", "managing_team"),
	"snapshots": ("loan", "as_of_date", "outstanding", "classification"),
	"cases": ("name", "loan", "opened_on", "closed_on", "entry_overdue_amount", "collector", "status"),
	"actions": ("case", "collector", "action_type", "action_on", "contact_result", "ptp_amount", "ptp_date"),
	"recoveries": ("loan", "case", "collector", "amount", "received_on"),
	"alerts": ("loan", "raised_on", "officer", "outcome"),
	"events": ("loan", "reported_on", "resolved_on", "handler"),
	"assessments": ("author", "report_date", "quality_rating"),
	"tickets": ("agent", "opened_on", "first_response_on", "resolved_on"),
	"customer_feedback": ("employee", "csat", "nps", "given_on"),
	"survey": ("respondent", "team", *SURVEY_ITEMS),
}
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
	"assessments": ("loan",),
	"tickets": ("loan",),
	"customer_feedback": ("case", "loan"),
}


class FrameColumnsError(EngineError):
	"""A non-empty input frame lacks required columns. details: frame, columns."""

	code = "missing_columns"


class PeriodError(EngineError):
	"""A period is not a (start, end) pair of dates with start <= end. details: period."""

	code = "invalid_period"


class UnknownMetricError(EngineError):
	"""``compute`` was asked for a code that is not in :data:`METRICS`. details: metric."""

	code = "unknown_metric"


# ------------------------------------------------------------------------------------------ helpers


def _timestamp(value: Any) -> pd.Timestamp:
	stamp = pd.Timestamp(value)
	if stamp.tzinfo is not None:
		stamp = stamp.tz_localize(None)
	return stamp.normalize()


def _period(period: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
	try:
		start, end = period
		start_stamp, end_stamp = _timestamp(start), _timestamp(end)
	except (TypeError, ValueError):
		raise PeriodError(period=period) from None
	if pd.isna(start_stamp) or pd.isna(end_stamp) or start_stamp > end_stamp:
		raise PeriodError(period=period)
	return start_stamp, end_stamp


def _datetime(values: pd.Series) -> pd.Series:
	converted = pd.to_datetime(values, errors="coerce")
	if isinstance(converted.dtype, pd.DatetimeTZDtype):
		converted = converted.dt.tz_localize(None)
	return converted


def _day(values: pd.Series) -> pd.Series:
	return _datetime(values).dt.normalize()


def _number(values: pd.Series) -> pd.Series:
	return pd.to_numeric(values, errors="coerce").astype(float)


def _keys(values: Any) -> np.ndarray:
	"""Object array of identifiers (None/NaN stay missing) so merges never compare str with float."""
	return np.asarray(pd.Series(values).astype(object), dtype=object)


def _dates(values: Any, length: int) -> np.ndarray:
	"""Positional datetime64 array of ``length`` (a scalar is repeated; None gives NaT)."""
	if values is None or np.ndim(values) == 0:
		return pd.to_datetime(pd.Series([values] * length, dtype=object)).to_numpy()
	return pd.to_datetime(pd.Series(np.asarray(values))).to_numpy()


def _coalesce(first: Any, second: Any) -> np.ndarray:
	first_keys, second_keys = _keys(first), _keys(second)
	return np.where(pd.notna(first_keys), first_keys, second_keys)


def _between(days: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
	return days.notna() & (days >= start) & (days <= end)


def _safe_ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 100.0) -> pd.Series:
	"""numerator / denominator × scale, aligned on the denominator; NaN where the denominator is ≤ 0."""
	numerator = numerator.reindex(denominator.index).fillna(0.0)
	return numerator / denominator.where(denominator > 0) * scale


class _Context:
	"""Normalised inputs of one metric call: frames (lazily checked), subjects, period, lookups."""

	def __init__(self, frames: Frames | None, subjects: pd.DataFrame | None, period: Period) -> None:
		self.frames = frames or {}
		self.start, self.end = _period(period)
		self._cache: dict[str, pd.DataFrame] = {}
		self._maps: dict[tuple[str, str], pd.Series] = {}
		self.portfolio, self.subjects = self._normalise_subjects(subjects)
		self.index = pd.Index(pd.unique(_keys(self.subjects["subject"])), dtype=object, name="subject")

	@staticmethod
	def _normalise_subjects(subjects: pd.DataFrame | None) -> tuple[bool, pd.DataFrame]:
		frame = subjects if subjects is not None else pd.DataFrame()
		portfolio = "team" in frame.columns
		required = ("subject", "team") if portfolio else ("subject", "employee")
		missing = [column for column in required if column not in frame.columns]
		if missing and len(frame):
			raise FrameColumnsError(frame="subjects", columns=missing)
		frame = frame.assign(**{column: None for column in missing})
		frame = frame[frame["subject"].notna()].reset_index(drop=True)
		if portfolio:
			return True, pd.DataFrame({"subject": _keys(frame["subject"]), "_key": _keys(frame["team"])})
		from_date = frame["from_date"] if "from_date" in frame.columns else pd.Series(None, index=frame.index)
		to_date = frame["to_date"] if "to_date" in frame.columns else pd.Series(None, index=frame.index)
		normalised = pd.DataFrame(
			{
				"subject": _keys(frame["subject"]),
				"_key": _keys(frame["employee"]),
				"_from": _day(from_date.astype(object)).to_numpy(),
				"_to": _day(to_date.astype(object)).to_numpy(),
			}
		)
		return False, normalised

	def frame(self, name: str) -> pd.DataFrame:
		if name in self._cache:
			return self._cache[name]
		data = self.frames.get(name)
		frame = data if data is not None else pd.DataFrame()
		required = REQUIRED_COLUMNS[name]
		missing = [column for column in required if column not in frame.columns]
		if missing and len(frame):
			raise FrameColumnsError(frame=name, columns=missing)
		absent = missing + [c for c in OPTIONAL_COLUMNS.get(name, ()) if c not in frame.columns]
		frame = frame.reset_index(drop=True).assign(**{column: None for column in absent})
		self._cache[name] = frame
		return frame

	def _lookup(self, frame_name: str, key: str, value: str) -> pd.Series:
		if (frame_name, value) not in self._maps:
			frame = self.frame(frame_name)
			table = pd.DataFrame({"key": _keys(frame[key]), "value": _keys(frame[value])})
			table = table[table["key"].notna()].drop_duplicates("key", keep="last")
			self._maps[(frame_name, value)] = pd.Series(
				table["value"].to_numpy(), index=table["key"].to_numpy()
			)
		return self._maps[(frame_name, value)]

	def _map(self, keys: Any, frame_name: str, key: str, value: str) -> np.ndarray:
		lookup = self._lookup(frame_name, key, value)
		return _keys(pd.Series(_keys(keys)).map(lookup))

	def case_collector(self, case: Any, own: Any) -> np.ndarray:
		"""The collector of the row's case when the case is known, else the row's own employee."""
		return _coalesce(self._map(case, "cases", "name", "collector"), own)

	def case_loan(self, case: Any) -> np.ndarray:
		return self._map(case, "cases", "name", "loan")

	def loan_team(self, loan: Any) -> np.ndarray:
		return self._map(loan, "loans", "name", "managing_team")

	def attribute(
		self,
		records: pd.DataFrame,
		*,
		employee: Any = None,
		low: Any = None,
		high: Any = None,
		team: Any = None,
	) -> pd.DataFrame:
		"""``records`` joined to the subjects they count for (column ``subject``), once per subject.

		People mode uses ``employee`` and the attributing date interval ``[low, high]`` (``high`` defaults to
		``low``); portfolio mode uses ``team``. Records keep their ``_rid`` when they have one (several rows
		of the same record), else get one per row.
		"""
		base = records.reset_index(drop=True)
		if "_rid" not in base.columns:
			base = base.assign(_rid=np.arange(len(base)))
		if self.portfolio:
			if team is None:
				return base.iloc[0:0].assign(subject=None)
			base = base.assign(_key=_keys(team) if len(base) else np.array([], dtype=object))
			base = base[base["_key"].notna()]
			merged = base.merge(self.subjects, on="_key", how="inner")
		else:
			if employee is None:
				return base.iloc[0:0].assign(subject=None)
			low_values = _dates(low, len(base))
			high_values = _dates(high, len(base)) if high is not None else low_values
			base = base.assign(
				_key=_keys(employee) if len(base) else np.array([], dtype=object),
				_low=low_values,
				_high=high_values,
			)
			base = base[base["_key"].notna()]
			merged = base.merge(self.subjects, on="_key", how="inner")
			inside = (merged["_from"].isna() | (merged["_high"] >= merged["_from"])) & (
				merged["_to"].isna() | (merged["_low"] <= merged["_to"])
			)
			merged = merged[inside]
		return merged.drop_duplicates(["subject", "_rid"])

	def result(self, values: pd.Series | None, name: str | None = None) -> pd.Series:
		if values is None or values.empty:
			values = pd.Series(dtype=float)
		out = values.reindex(self.index).astype(float)
		out.index.name = "subject"
		out.name = name
		return out

	def active_cases(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
		"""Cases active at any time in [start, end]: opened_on <= end and (open or closed_on >= start),
		with ``_opened``, ``_closed`` and the active window ``_low``/``_high`` inside the period."""
		cases = self.frame("cases")
		opened, closed = _day(cases["opened_on"]), _day(cases["closed_on"])
		active = opened.notna() & (opened <= end) & (closed.isna() | (closed >= start))
		selected = cases.loc[active].assign(_opened=opened[active], _closed=closed[active])
		selected = selected.assign(
			_low=selected["_opened"].where(selected["_opened"] > start, start),
			_high=selected["_closed"].where(selected["_closed"].notna() & (selected["_closed"] < end), end),
		)
		return selected.reset_index(drop=True)


def _count_rate(attributed: pd.DataFrame, flag: str) -> pd.Series:
	"""Percent of attributed rows whose boolean ``flag`` is true, per subject."""
	if attributed.empty:
		return pd.Series(dtype=float)
	return (
		attributed.assign(_flag=attributed[flag].astype(float)).groupby("subject", sort=False)["_flag"].mean()
		* 100
	)


def _mean(attributed: pd.DataFrame, column: str, scale: float = 1.0) -> pd.Series:
	if attributed.empty:
		return pd.Series(dtype=float)
	return attributed.groupby("subject", sort=False)[column].mean() * scale


def _sum(attributed: pd.DataFrame, column: str) -> pd.Series:
	if attributed.empty:
		return pd.Series(dtype=float)
	return attributed.groupby("subject", sort=False)[column].sum()


def _baseline_or_none(baseline: Period | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
	return None if baseline is None else _period(baseline)


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
	outstanding = _number(rows["outstanding"])
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
		_day=days[inside], _amount=_number(recoveries.loc[inside, "amount"])
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
	cases = cases.assign(_entry=_number(cases["entry_overdue_amount"]))
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
	amount = _number(actions["ptp_amount"])
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
			"_paid": _number(recoveries["amount"]).to_numpy(),
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
	rating = _number(assessments["quality_rating"])
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
	value = _number(feedback[column])
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
	items = pd.DataFrame({item: _number(survey[item]) for item in SURVEY_ITEMS})
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


# ------------------------------------------------------------------------------------------ registry


@dataclass(frozen=True)
class MetricSpec:
	"""One built-in metric. ``label`` is the English label (a msgid for the Frappe layer's translation);
	``frames`` lists every frame the function may read (``loans`` only in portfolio mode)."""

	code: str
	label: str
	unit: str
	direction: str
	function: MetricFunction
	frames: tuple[str, ...]
	needs_baseline: bool = False


_LOAN_DATA = ("loans",)
# code -> (function, every frame it may read); label, unit and direction come from metric_catalog
_FUNCTIONS: dict[str, tuple[MetricFunction, tuple[str, ...]]] = {
	"npl_ratio": (npl_ratio, ("snapshots", "cases", *_LOAN_DATA)),
	"npl_ratio_reduction": (npl_ratio_reduction, ("snapshots", "cases", *_LOAN_DATA)),
	"recovery_rate": (recovery_rate, ("cases", "recoveries", *_LOAN_DATA)),
	"recovery_rate_improvement": (recovery_rate_improvement, ("cases", "recoveries", *_LOAN_DATA)),
	"collection_success_rate": (collection_success_rate, ("cases", *_LOAN_DATA)),
	"avg_collection_cycle_days": (avg_collection_cycle_days, ("cases", *_LOAN_DATA)),
	"ptp_kept_rate": (ptp_kept_rate, ("actions", "recoveries", "cases", *_LOAN_DATA)),
	"right_party_contact_rate": (right_party_contact_rate, ("actions", "cases", *_LOAN_DATA)),
	"recovered_amount": (recovered_amount, ("recoveries", "cases", *_LOAN_DATA)),
	"warning_precision": (warning_precision, ("alerts", *_LOAN_DATA)),
	"warning_recall": (warning_recall, ("snapshots", "alerts", *_LOAN_DATA)),
	"risk_report_quality": (risk_report_quality, ("assessments", *_LOAN_DATA)),
	"risk_event_handling_hours": (risk_event_handling_hours, ("events", *_LOAN_DATA)),
	"ticket_resolution_rate": (ticket_resolution_rate, ("tickets", *_LOAN_DATA)),
	"first_response_minutes": (first_response_minutes, ("tickets", *_LOAN_DATA)),
	"customer_satisfaction": (customer_satisfaction, ("customer_feedback", "cases", *_LOAN_DATA)),
	"customer_loyalty_nps": (customer_loyalty_nps, ("customer_feedback", "cases", *_LOAN_DATA)),
	"team_satisfaction": (team_satisfaction, ("survey",)),
}
_NEEDS_BASELINE = frozenset({"npl_ratio_reduction", "recovery_rate_improvement"})

METRICS: dict[str, MetricSpec] = {
	code: MetricSpec(
		code,
		BUILTIN_METRICS[code]["label"],
		BUILTIN_METRICS[code]["unit"],
		BUILTIN_METRICS[code]["direction"],
		function,
		frames,
		code in _NEEDS_BASELINE,
	)
	for code, (function, frames) in _FUNCTIONS.items()
}
assert set(METRICS) == set(BUILTIN_METRICS), "every catalogued metric has a function and vice versa"


def compute(
	code: str,
	frames: Frames,
	subjects: pd.DataFrame,
	period: Period | tuple[dt.date, dt.date],
	baseline: Period | None = None,
) -> pd.Series:
	"""Compute built-in metric ``code`` for every subject; see the module docstring for inputs and
	attribution. Raises :class:`UnknownMetricError` for an unknown code."""
	spec = METRICS.get(code)
	if spec is None:
		raise UnknownMetricError(metric=code)
	result = spec.function(frames, subjects, period, baseline)
	result.name = code
	return result
