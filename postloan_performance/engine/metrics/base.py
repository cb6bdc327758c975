"""What every metric shares: frame columns, errors, period and attribution helpers (the context)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from postloan_performance.engine import EngineError

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
