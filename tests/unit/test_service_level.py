"""Hand-worked cases for engine.service_level: percentiles, ticket levels and feedback scores by group,
checked against the built-in metrics for agents."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from postloan_performance.engine import metrics as m
from postloan_performance.engine import service_level as s

D = dt.date
T = pd.Timestamp
NAT = pd.NaT
PERIOD = (D(2025, 7, 1), D(2025, 7, 31))


def test_percentile_interpolates_between_order_statistics():
	# rank (n − 1) × q: [1, 2, 3, 4] median at rank 1.5 → 2.5 ; p90 at rank 2.7 → 3 + 0.7 × (4 − 3) = 3.7
	assert s.percentile([4, 1, 3, 2], 50) == pytest.approx(2.5)
	assert s.percentile([4, 1, 3, 2], 90) == pytest.approx(3.7)
	assert s.percentile([4, 1, 3, 2], 0) == 1.0 and s.percentile([4, 1, 3, 2], 100) == 4.0
	assert s.percentile([10], 90) == 10.0
	# None, NaN and text are not values; nothing left → no data
	assert s.percentile([None, float("nan"), "x", 5], 50) == 5.0
	assert math.isnan(s.percentile([], 50)) and math.isnan(s.percentile([None], 90))
	for bad in (-1, 100.5, float("nan"), "p90"):
		with pytest.raises(s.PercentileError) as info:
			s.percentile([1, 2], bad)
		assert info.value.code == "invalid_percentile"


def tickets() -> pd.DataFrame:
	rows = [
		# agent A: 10, 30 and 120 minutes; t1 resolved in the period, t2 after it, t3 not at all
		("A", "Phone", T("2025-07-01 09:00"), T("2025-07-01 09:10"), T("2025-07-02 10:00")),
		("A", "App", T("2025-07-15 10:00"), T("2025-07-15 10:30"), T("2025-08-05 10:00")),
		("A", "Phone", T("2025-07-31 23:00"), T("2025-08-01 01:00"), NAT),
		("A", "Phone", T("2025-06-30 23:59"), T("2025-07-01 00:05"), NAT),  # opened before the period
		# agent B: t5 never answered but resolved; t6 "answered" before it was opened (bad data)
		("B", "App", T("2025-07-10 08:00"), NAT, T("2025-07-10 09:00")),
		("B", "Phone", T("2025-07-11 08:00"), T("2025-07-11 07:55"), NAT),
		(None, "Phone", T("2025-07-12 08:00"), T("2025-07-12 08:01"), NAT),  # no agent
	]
	return pd.DataFrame(rows, columns=["agent", "channel", "opened_on", "first_response_on", "resolved_on"])


def test_ticket_levels_by_agent_match_the_metrics():
	result = s.ticket_levels(tickets(), PERIOD, "agent")
	assert list(result.index) == ["A", "B"]
	a, b = result.loc["A"], result.loc["B"]
	# A: 3 tickets, 1 resolved by 07-31 → 33.33 % ; minutes 10, 30, 120: mean 53.33, median 30,
	#    p90 at rank 1.8 → 30 + 0.8 × 90 = 102
	assert (a["tickets"], a["resolved"], a["responded"]) == (3, 1, 3)
	assert a["resolution_rate"] == pytest.approx(100 / 3)
	assert (a["first_response_mean"], a["first_response_median"], a["first_response_p90"]) == pytest.approx(
		(160 / 3, 30.0, 102.0)
	)
	# B: 2 tickets, 1 resolved → 50 % ; no valid response → no response statistics
	assert (b["tickets"], b["resolved"], b["responded"], b["resolution_rate"]) == (2, 1, 0, 50.0)
	assert b[["first_response_mean", "first_response_median", "first_response_p90"]].isna().all()
	# the same numbers as the agents' KPIs
	subjects = pd.DataFrame({"subject": ["A", "B"], "employee": ["A", "B"]})
	resolution = m.ticket_resolution_rate({"tickets": tickets()}, subjects, PERIOD)
	response = m.first_response_minutes({"tickets": tickets()}, subjects, PERIOD)
	assert result["resolution_rate"].to_dict() == pytest.approx(resolution.to_dict())
	assert result.loc["A", "first_response_mean"] == pytest.approx(response["A"])
	assert math.isnan(response["B"])


def test_ticket_levels_by_channel_and_empty():
	result = s.ticket_levels(tickets(), PERIOD, "channel")
	# App: t2 (30 min, resolved after the period) and t5 (resolved) → 1/2 ; Phone: t1, t3, t6 and the one
	# without an agent → resolved t1 → 1/4, minutes 10, 120, 1 (t6 left out) → median 10
	assert result["tickets"].to_dict() == {"App": 2.0, "Phone": 4.0}
	assert result["resolution_rate"].to_dict() == {"App": 50.0, "Phone": 25.0}
	assert result.loc["Phone", "first_response_median"] == 10.0
	assert result.loc["App", "first_response_p90"] == 30.0
	empty = s.ticket_levels(None, PERIOD, "agent")
	assert empty.empty and "first_response_p90" in empty.columns


def feedback() -> pd.DataFrame:
	rows = [
		("A", D(2025, 7, 2), 5, 10),
		("A", D(2025, 7, 3), 4, 9),
		("A", D(2025, 7, 31), 3, 6),
		("B", D(2025, 7, 5), 2, None),  # no nps answer
		("B", D(2025, 8, 1), 5, 10),  # after the period
	]
	return pd.DataFrame(rows, columns=["employee", "given_on", "csat", "nps"])


def test_feedback_scores_match_the_metrics():
	result = s.feedback_scores(feedback(), PERIOD, "employee")
	# A: csat (5 + 4 + 3) / 3 = 4 → 80 % ; nps: 2 promoters, 1 detractor of 3 → 33.33
	# B: csat 2 → 40 % ; no nps answer → no data
	assert result.loc["A"].to_dict() == pytest.approx({"responses": 3.0, "csat": 80.0, "nps": 100 / 3})
	assert result.loc["B", "csat"] == 40.0 and math.isnan(result.loc["B", "nps"])
	subjects = pd.DataFrame({"subject": ["A", "B"], "employee": ["A", "B"]})
	frames = {"customer_feedback": feedback()}
	assert result["csat"].to_dict() == pytest.approx(
		m.customer_satisfaction(frames, subjects, PERIOD).to_dict()
	)
	nps = m.customer_loyalty_nps(frames, subjects, PERIOD)
	assert result.loc["A", "nps"] == pytest.approx(nps["A"]) and math.isnan(nps["B"])
	assert s.feedback_scores(pd.DataFrame(), PERIOD, "employee").empty


def test_parsed_datetime_columns_give_the_same_levels_as_python_values():
	"""The Frappe layer hands over datetime64 columns (parsed from text in one call); the levels, and the
	per-group percentiles taken with numpy on each group, equal those of Python datetimes and strings
	and `percentile` of each group's minutes."""
	columns = ("opened_on", "first_response_on", "resolved_on")
	raw = tickets().assign(  # Python datetimes (None when missing) in object columns
		**{
			c: pd.Series([None if pd.isna(v) else v.to_pydatetime() for v in tickets()[c]], dtype=object)
			for c in columns
		}
	)
	parsed = raw.assign(**{c: pd.to_datetime(raw[c]) for c in columns})
	as_text = raw.assign(
		**{c: [None if v is None else v.isoformat(sep=" ") for v in raw[c]] for c in columns}
	)
	assert raw["opened_on"].dtype == object and parsed["opened_on"].dtype.kind == "M"
	for by in ("agent", "channel"):
		expected = s.ticket_levels(raw, PERIOD, by)
		pd.testing.assert_frame_equal(s.ticket_levels(parsed, PERIOD, by), expected, check_exact=True)
		pd.testing.assert_frame_equal(s.ticket_levels(as_text, PERIOD, by), expected, check_exact=True)
	# each group's median and p90 are `percentile` of its minutes
	opened = pd.to_datetime(pd.Series(raw["opened_on"], dtype=object))
	day = opened.dt.normalize()
	minutes = (
		pd.to_datetime(pd.Series(raw["first_response_on"], dtype=object)) - opened
	).dt.total_seconds() / 60
	inside = (day >= T(PERIOD[0])) & (day <= T(PERIOD[1])) & raw["agent"].notna()
	levels = s.ticket_levels(parsed, PERIOD, "agent")
	for agent, group in minutes[inside].groupby(raw.loc[inside, "agent"]):
		kept = group[group >= 0]
		for q, column in ((50, "first_response_median"), (90, "first_response_p90")):
			value = levels.loc[agent, column]
			assert (math.isnan(value) and not len(kept)) or value == s.percentile(kept, q), (agent, q)
	given = feedback().assign(given_on=lambda f: pd.to_datetime(pd.Series(f["given_on"], dtype=object)))
	pd.testing.assert_frame_equal(
		s.feedback_scores(given, PERIOD, "employee"),
		s.feedback_scores(feedback(), PERIOD, "employee"),
		check_exact=True,
	)
