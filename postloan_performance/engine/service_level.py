"""Customer-service levels behind the Service Level report: ticket resolution and first-response
statistics (mean, median, p90) and customer feedback scores (CSAT, NPS) by group. Pure pandas + numpy,
no frappe.

The definitions follow the built-in metrics so that grouping by agent gives the agent's KPI values:
a ticket is in the period when its opening date is; it is resolved when its resolution date is on or
before the period end; first-response minutes are taken over tickets with a response not before the
opening; CSAT = mean csat ÷ 5 × 100, NPS = % nps ≥ 9 − % nps ≤ 6. No data is NaN, never 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from postloan_performance.engine import EngineError
from postloan_performance.engine.frames import numbers
from postloan_performance.engine.metrics import NPS_DETRACTOR_MAX, NPS_PROMOTER_MIN, RATING_MAX
from postloan_performance.engine.portfolio import _period, _require

__all__ = ["PercentileError", "feedback_scores", "percentile", "ticket_levels"]


class PercentileError(EngineError):
	"""The requested percentile is not a number in [0, 100]. details: q."""

	code = "invalid_percentile"


def percentile(values: Iterable[Any], q: float) -> float:
	"""The ``q``-th percentile (0–100) of the numeric values, linearly interpolated between order statistics
	(rank ``(n − 1) × q / 100``, numpy's default "linear" method; the median is q = 50). None, NaN and
	non-numeric values are ignored; NaN when no value is left."""
	try:
		q = float(q)
	except (TypeError, ValueError):
		raise PercentileError(q=q) from None
	if math.isnan(q) or not 0.0 <= q <= 100.0:
		raise PercentileError(q=q)
	array = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(dtype=float)
	array = array[np.isfinite(array)]
	if not len(array):
		return np.nan
	return float(np.percentile(array, q))


def _datetimes(values: Any) -> pd.Series:
	"""Naive datetimes of any date-like values (unparseable -> NaT); a datetime64 column is used as it is
	(the Frappe layer parses its columns in one call) instead of going through Python objects."""
	series = pd.Series(values)
	if pd.api.types.is_datetime64_any_dtype(series.dtype):
		converted = series
	else:
		converted = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce")
	if isinstance(converted.dtype, pd.DatetimeTZDtype):
		converted = converted.dt.tz_localize(None)
	return converted


def _group_percentiles(values: pd.Series, groups: pd.Series, index: pd.Index, q: float) -> pd.Series:
	"""`percentile(values of the group, q)` for every group of ``index``, with numpy on each group's
	finite values (the same computation as `percentile` without a Series per group)."""
	array = values.to_numpy(dtype=float)
	result = {}
	for key, positions in groups.groupby(groups, sort=False).indices.items():
		chosen = array[positions]
		chosen = chosen[np.isfinite(chosen)]
		result[key] = float(np.percentile(chosen, q)) if len(chosen) else np.nan
	return pd.Series(result, dtype=float).reindex(index)


def ticket_levels(tickets: pd.DataFrame | None, period: Any, by: str) -> pd.DataFrame:
	"""Per ``by`` group (``agent``, ``channel`` …) of the tickets opened in ``period``: ``tickets``,
	``resolved`` (by the period end), ``resolution_rate`` (percent), ``responded`` and the first-response
	minutes ``first_response_mean``, ``first_response_median``, ``first_response_p90``.

	``tickets``: ``opened_on``, ``first_response_on``, ``resolved_on`` (datetimes) and the ``by`` column;
	tickets without a group value are left out. A response before the opening is bad data and is left
	out of the response statistics (the ticket still counts).
	"""
	start, end = _period(period)
	frame = _require(tickets, "tickets", ("opened_on", "first_response_on", "resolved_on", by))
	opened = _datetimes(frame["opened_on"])
	responded = _datetimes(frame["first_response_on"])
	resolved_day = _datetimes(frame["resolved_on"]).dt.normalize()
	day = opened.dt.normalize()
	minutes = (responded - opened).dt.total_seconds() / 60.0
	frame = frame.assign(
		_group=frame[by],
		_resolved=(resolved_day.notna() & (resolved_day <= end)).astype(int),
		_minutes=minutes.where(minutes >= 0),
	)
	frame = frame[day.notna() & (day >= start) & (day <= end) & frame["_group"].notna()]
	columns = [
		"tickets",
		"resolved",
		"resolution_rate",
		"responded",
		"first_response_mean",
		"first_response_median",
		"first_response_p90",
	]
	if frame.empty:
		return pd.DataFrame(columns=columns, index=pd.Index([], name=by, dtype=object), dtype=float)
	grouped = frame.groupby("_group", sort=True)
	out = grouped.agg(
		tickets=("_resolved", "size"),
		resolved=("_resolved", "sum"),
		responded=("_minutes", "count"),
		first_response_mean=("_minutes", "mean"),
	)
	out["resolution_rate"] = out["resolved"] * 100.0 / out["tickets"]
	out["first_response_median"] = _group_percentiles(frame["_minutes"], frame["_group"], out.index, 50)
	out["first_response_p90"] = _group_percentiles(frame["_minutes"], frame["_group"], out.index, 90)
	out.index.name = by
	return out[columns].astype(float)


def feedback_scores(feedback: pd.DataFrame | None, period: Any, by: str) -> pd.DataFrame:
	"""Per ``by`` group of the feedback given in ``period``: ``responses`` (feedback rows), ``csat`` = mean
	csat (1–5) ÷ 5 × 100 over the rows with a csat, ``nps`` = % nps ≥ 9 − % nps ≤ 6 over the rows with an
	nps (−100…100). ``feedback``: ``given_on``, ``csat``, ``nps`` and the ``by`` column."""
	start, end = _period(period)
	frame = _require(feedback, "feedback", ("given_on", "csat", "nps", by))
	day = _datetimes(frame["given_on"]).dt.normalize()
	csat, nps = numbers(frame["csat"]), numbers(frame["nps"])
	frame = frame.assign(
		_group=frame[by],
		_csat=csat * 100.0 / RATING_MAX,
		_net=((nps >= NPS_PROMOTER_MIN).astype(float) - (nps <= NPS_DETRACTOR_MAX).astype(float)).where(
			nps.notna()
		)
		* 100.0,
	)
	frame = frame[day.notna() & (day >= start) & (day <= end) & frame["_group"].notna()]
	out = frame.groupby("_group", sort=True).agg(
		responses=("_csat", "size"), csat=("_csat", "mean"), nps=("_net", "mean")
	)
	out.index.name = by
	return out.astype(float)
