"""Hand-worked cases for engine.portfolio: portfolio ratios, roll and cure rates, vintage M2+ curves, the
monthly recovery rate, and alert precision / recall / lead time by group. Expected values are worked out
in the comments."""

from __future__ import annotations

import datetime as dt
import math
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from postloan_performance.engine import metrics as m
from postloan_performance.engine import portfolio as p

D = dt.date
T = pd.Timestamp


def approx_or_nan(got, expected):
	if expected is None:
		return got is None or math.isnan(got)
	return got == pytest.approx(expected)


# ------------------------------------------------------------------------------------------ ratios


def test_portfolio_ratios_by_date():
	aggregates = pd.DataFrame(
		[
			# 2025-01-31: 1000 outstanding; NPL = Substandard 200 + Loss 100 = 300 → 30 %
			# M1+ = M1 100 + M3 200 + M6+ 100 = 400 → 40 % ; M3+ = 300 → 30 % ; 3 + 1 + 1 + 1 = 6 loans
			(D(2025, 1, 31), "M0", "Normal", 3, 600.0),
			(D(2025, 1, 31), "M1", "Special Mention", 1, 100.0),
			(D(2025, 1, 31), "M3", "Substandard", 1, 200.0),
			(D(2025, 1, 31), "M6+", "Loss", 1, 100.0),
			# 2025-02-28: M2 Special Mention 50 of 250 → NPL 0 %, M1+ 20 %, M3+ 0 %
			(D(2025, 2, 28), "M0", "Normal", 2, 200.0),
			(D(2025, 2, 28), "M2", "Special Mention", 1, 50.0),
			# 2025-03-31: nothing outstanding → ratios have no data
			(D(2025, 3, 31), "M0", "Normal", 0, 0.0),
		],
		columns=["as_of_date", "bucket", "classification", "loans", "outstanding"],
	)
	result = p.portfolio_ratios(aggregates.iloc[::-1])  # order of the rows does not matter
	assert list(result.index) == [T("2025-01-31"), T("2025-02-28"), T("2025-03-31")]
	jan, feb, mar = (result.loc[T(d)] for d in ("2025-01-31", "2025-02-28", "2025-03-31"))
	assert (jan["loans"], jan["outstanding"], jan["npl_outstanding"]) == (6, 1000.0, 300.0)
	assert (jan["npl_ratio"], jan["m1_plus_rate"], jan["m3_plus_rate"]) == pytest.approx((30.0, 40.0, 30.0))
	assert (feb["npl_ratio"], feb["m1_plus_rate"], feb["m3_plus_rate"]) == pytest.approx((0.0, 20.0, 0.0))
	assert mar[["npl_ratio", "m1_plus_rate", "m3_plus_rate"]].isna().all()
	assert p.portfolio_ratios(pd.DataFrame()).empty


# -------------------------------------------------------------------------------------- roll rates


def frame(rows, columns=("loan", "bucket")):
	return pd.DataFrame(rows, columns=list(columns))


PREV = frame(
	[("L1", "M0"), ("L2", "M0"), ("L3", "M1"), ("L4", "M1"), ("L5", "M2"), ("L6", "M3"), ("L7", "M0")]
)
NEXT = frame(
	[("L1", "M0"), ("L2", "M1"), ("L3", "M0"), ("L4", "M2"), ("L5", "M3"), ("L6", "M5"), ("L8", "M1")]
)


def test_roll_rate_matrix_counts_loans_present_at_both_dates():
	# L7 left the book (no later snapshot) and L8 is new: neither counts
	matrix = p.roll_rate_matrix(PREV, NEXT)
	assert list(matrix.index) == list(p.BUCKETS) and list(matrix.columns) == list(p.BUCKETS)
	assert matrix.to_numpy().sum() == 6
	expected = {
		("M0", "M0"): 1,
		("M0", "M1"): 1,
		("M1", "M0"): 1,
		("M1", "M2"): 1,
		("M2", "M3"): 1,
		("M3", "M5"): 1,
	}
	for (a, b), count in expected.items():
		assert matrix.loc[a, b] == count
	assert p.roll_rate_matrix(None, NEXT).to_numpy().sum() == 0


def test_roll_and_cure_rates():
	matrix = p.roll_rate_matrix(PREV, NEXT)
	# M0: L1 stays, L2 rolls → 1/2 ; M1: L3 cures, L4 rolls → 1/2 ; M2: L5 → M3 → 1/1 ; M3: L6 → M5 (M4+) → 1/1
	assert p.roll_rate(matrix, "M0", ["M1"]) == pytest.approx(50.0)
	assert p.roll_rate(matrix, "M1", ["M2"]) == pytest.approx(50.0)
	assert p.roll_rate(matrix, "M2", ["M3"]) == pytest.approx(100.0)
	assert p.roll_rate(matrix, "M3", ["M4", "M5", "M6+"]) == pytest.approx(100.0)
	# "the next bucket": M3 → M5 is not M3 → M4
	assert p.roll_rate(matrix, "M3", ["M4"]) == 0.0
	# nobody in M4 → no data
	assert math.isnan(p.roll_rate(matrix, "M4", ["M5"]))
	# cure: delinquent L3, L4, L5, L6 ; L3 is M0 next → 1/4
	assert p.cure_rate(matrix) == pytest.approx(25.0)
	assert math.isnan(p.cure_rate(p.roll_rate_matrix(frame([("L1", "M0")]), frame([("L1", "M1")]))))


def test_roll_rates_by_date_takes_consecutive_month_ends():
	pairs = pd.concat(
		[
			PREV.assign(as_of_date=D(2025, 1, 31)),
			NEXT.assign(as_of_date=D(2025, 2, 28)),
			# March: L2 (M1) cures, L4 (M2) rolls to M3, L3 (M0) rolls to M1
			frame([("L2", "M0"), ("L4", "M3"), ("L3", "M1")]).assign(as_of_date=T("2025-03-31")),
		]
	)
	result = p.roll_rates_by_date(pairs, [D(2025, 3, 31), D(2025, 1, 31), D(2025, 2, 28)])
	assert list(result.index) == [T("2025-01-31"), T("2025-02-28"), T("2025-03-31")]
	assert result.loc[T("2025-01-31")].isna().all()  # no earlier month-end
	feb = result.loc[T("2025-02-28")]
	assert (feb["roll_m0_m1"], feb["roll_m1_m2"], feb["roll_m2_m3"], feb["roll_m3_m4"], feb["cure_rate"]) == (
		pytest.approx((50.0, 50.0, 100.0, 100.0, 25.0))
	)
	# Feb → Mar over L2, L3, L4 (present both times): M0 {L3} → M1: 100 % ; M1 {L2} → M0: roll 0 %, cure
	# 1 of the delinquent {L2 (M1), L4 (M2)} = 50 % ; M2 {L4} → M3: 100 % ; M3: nobody → NaN
	mar = result.loc[T("2025-03-31")]
	assert (mar["roll_m0_m1"], mar["roll_m1_m2"], mar["roll_m2_m3"], mar["cure_rate"]) == pytest.approx(
		(100.0, 0.0, 100.0, 50.0)
	)
	assert math.isnan(mar["roll_m3_m4"])


def test_roll_rates_by_date_agree_with_the_pairwise_matrix():
	# random books over four month-ends (loans leave and join): every rate equals roll_rate_matrix's
	rng = np.random.default_rng(3)
	dates = [T("2025-01-31"), T("2025-02-28"), T("2025-03-31"), T("2025-04-30")]
	rows = [
		(f"L{loan}", day, p.BUCKETS[rng.integers(0, 7)])
		for loan in range(300)
		for day in dates
		if rng.random() < 0.9
	]
	pairs = pd.DataFrame(rows, columns=["loan", "as_of_date", "bucket"])
	result = p.roll_rates_by_date(pairs, dates)
	for earlier, later in pairwise(dates):
		matrix = p.roll_rate_matrix(
			pairs[pairs["as_of_date"] == earlier], pairs[pairs["as_of_date"] == later]
		)
		expected = [p.roll_rate(matrix, a, b) for _c, a, b in p.ROLLS] + [p.cure_rate(matrix)]
		assert list(result.loc[later]) == pytest.approx(expected)
	empty = p.roll_rates_by_date(None, dates)
	assert list(empty.index) == dates and empty.isna().all().all()


# ------------------------------------------------------------------------------------------ vintage


def test_vintage_m2_plus_by_months_on_book():
	loans = pd.DataFrame(
		[("A", D(2025, 1, 10)), ("B", D(2025, 1, 20)), ("C", D(2025, 2, 5)), ("X", None)],
		columns=["loan", "disbursed_on"],
	)
	snapshots = pd.DataFrame(
		[
			# A (vintage 2025-01): MOB 0 M0, 1 M1, 2 M2 (first M2+), 3 back to M0 (still counted: cumulative)
			("A", D(2025, 1, 31), "M0"),
			("A", D(2025, 2, 28), "M1"),
			("A", D(2025, 3, 31), "M2"),
			("A", D(2025, 4, 30), "M0"),
			# B (2025-01): first M2+ at MOB 3 (M3)
			("B", D(2025, 1, 31), "M0"),
			("B", D(2025, 2, 28), "M0"),
			("B", D(2025, 3, 31), "M0"),
			("B", D(2025, 4, 30), "M3"),
			# C (2025-02): first M2+ at MOB 1 ; observed up to MOB 2
			("C", D(2025, 2, 28), "M0"),
			("C", D(2025, 3, 31), "M2"),
			("C", D(2025, 4, 30), "M2"),
			("X", D(2025, 4, 30), "M6+"),  # no disbursement date: ignored
		],
		columns=["loan", "as_of_date", "bucket"],
	)
	curve = p.vintage_m2_plus(snapshots, loans)
	assert list(curve.index) == ["2025-01", "2025-02"]
	assert list(curve.columns) == [0, 1, 2, 3]
	# 2025-01 (2 loans): MOB 0 0 %, 1 0 %, 2 A → 50 %, 3 A + B → 100 %
	assert list(curve.loc["2025-01"]) == pytest.approx([0.0, 0.0, 50.0, 100.0])
	# 2025-02 (1 loan): 0 %, 100 %, 100 %, MOB 3 not observed yet → NaN
	feb = curve.loc["2025-02"]
	assert list(feb[:3]) == pytest.approx([0.0, 100.0, 100.0]) and math.isnan(feb[3])
	assert p.vintage_m2_plus(snapshots, pd.DataFrame()).empty


# ----------------------------------------------------------------------------------------- recovery


def test_monthly_recovery_rate():
	cases = pd.DataFrame(
		[
			(D(2025, 1, 10), D(2025, 2, 15), 1000.0),  # c1
			(D(2025, 2, 1), None, 500.0),  # c2
			(D(2024, 12, 1), D(2025, 1, 31), 300.0),  # c3: closed on January's last day
			(D(2025, 3, 5), None, 200.0),  # c4
		],
		columns=["opened_on", "closed_on", "entry_overdue_amount"],
	)
	recoveries = pd.DataFrame(
		[
			(D(2025, 1, 20), 100.0),
			(D(2025, 2, 10), 300.0),
			(T("2025-02-28 18:00"), 150.0),
			(D(2025, 3, 1), 50.0),
		],
		columns=["received_on", "amount"],
	)
	months = [
		(D(2025, 1, 1), D(2025, 1, 31)),
		(D(2025, 2, 1), D(2025, 2, 28)),
		(D(2025, 3, 1), D(2025, 3, 31)),
		(D(2025, 4, 1), D(2025, 4, 30)),
		(D(2024, 6, 1), D(2024, 6, 30)),
	]
	result = p.monthly_recovery_rate(cases, recoveries, months)
	# Jan: c1 1000 + c3 300 = 1300, recovered 100 → 7.6923 %
	# Feb: c1 (closed 02-15) 1000 + c2 500 = 1500 (c3 closed before Feb), recovered 450 → 30 %
	# Mar: c2 500 + c4 200 = 700, recovered 50 → 7.1429 % ; Apr: 700, nothing → 0 % ; Jun 2024: no case
	assert list(result["entry_overdue"]) == [1300.0, 1500.0, 700.0, 700.0, 0.0]
	assert list(result["recovered"]) == [100.0, 450.0, 50.0, 0.0, 0.0]
	expected = [100 / 13, 30.0, 50 / 7, 0.0, None]
	assert all(approx_or_nan(g, e) for g, e in zip(result["recovery_rate"], expected, strict=True))
	assert list(result.index) == [
		T("2025-01-31"),
		T("2025-02-28"),
		T("2025-03-31"),
		T("2025-04-30"),
		T("2024-06-30"),
	]


def test_monthly_recovery_rate_matches_the_recovery_rate_metric():
	# the same cases and recoveries through engine.metrics.recovery_rate (portfolio of one team) for February
	cases = pd.DataFrame(
		[
			("C1", "L1", D(2025, 1, 10), D(2025, 2, 15), 1000.0),
			("C2", "L1", D(2025, 2, 1), None, 500.0),
			("C3", "L1", D(2024, 12, 1), D(2025, 1, 31), 300.0),
		],
		columns=["name", "loan", "opened_on", "closed_on", "entry_overdue_amount"],
	).assign(collector="e1", status="Open")
	recoveries = pd.DataFrame(
		[("L1", "C1", "e1", 300.0, D(2025, 2, 10)), ("L1", "C2", "e1", 150.0, D(2025, 2, 28))],
		columns=["loan", "case", "collector", "amount", "received_on"],
	)
	frames = {
		"cases": cases,
		"recoveries": recoveries,
		"loans": pd.DataFrame({"name": ["L1"], "managing_team": ["T"]}),
	}
	feb = (D(2025, 2, 1), D(2025, 2, 28))
	metric = m.recovery_rate(frames, pd.DataFrame({"subject": ["all"], "team": ["T"]}), feb)["all"]
	assert p.monthly_recovery_rate(cases, recoveries, [feb])["recovery_rate"].iloc[0] == pytest.approx(metric)
	assert metric == pytest.approx(30.0)


# ------------------------------------------------------------------------------------ early warning

PERIOD = (D(2025, 4, 1), D(2025, 6, 30))
FIRST_NPL = pd.DataFrame(
	[
		("L1", D(2025, 4, 30)),
		("L2", D(2025, 5, 31)),
		("L3", D(2025, 6, 30)),
		("L4", D(2025, 3, 31)),  # before the period
		("L5", D(2025, 7, 31)),  # after the period
	],
	columns=["loan", "first_npl_on"],
)


def alerts(rows):
	return pd.DataFrame(rows, columns=["loan", "rule", "officer", "raised_on", "outcome"])


RECALL_ALERTS = alerts(
	[
		("L1", "R1", "O1", D(2025, 4, 10), "Confirmed"),  # in L1's window [01-30, 04-30]: caught
		("L1", "R2", "O2", D(2025, 1, 15), "Confirmed"),  # before L1's window (01-30): not caught
		("L2", "R2", "O2", D(2025, 3, 2), "Confirmed"),  # 05-31 − 90 days = 03-02: caught (inclusive)
		("L2", "R1", "O1", D(2025, 6, 10), "Confirmed"),  # after L2 turned NPL, in the period: late
		("L4", "R1", "O1", D(2025, 3, 1), "Confirmed"),  # L4 was NPL before the period
		("L3", "R3", "O2", D(2025, 7, 5), "Pending"),  # after the period end
	]
)


def test_alert_outcomes_and_precision():
	rows = alerts(
		[
			("L1", "R1", "O1", D(2025, 4, 1), "Confirmed"),
			("L2", "R1", "O1", T("2025-06-30 23:00"), "Confirmed"),
			("L3", "R1", "O2", D(2025, 5, 1), "False Alarm"),
			("L4", "R1", "O2", D(2025, 5, 2), "Pending"),
			("L5", "R2", "O1", D(2025, 5, 3), "False Alarm"),
			("L6", "R3", "O1", D(2025, 5, 4), "Pending"),
			("L7", "R1", "O1", D(2025, 3, 31), "Confirmed"),  # before the period
		]
	)
	by_rule = p.alert_outcomes(rows, PERIOD, "rule")
	# R1: 4 alerts, 2 confirmed, 1 false alarm, 1 pending → 2/3 ; R2: 0/1 ; R3: only pending → NaN
	assert by_rule.loc["R1", ["alerts", "confirmed", "false_alarms", "pending"]].tolist() == [4, 2, 1, 1]
	assert by_rule.loc["R1", "precision"] == pytest.approx(200 / 3)
	assert by_rule.loc["R2", "precision"] == 0.0
	assert math.isnan(by_rule.loc["R3", "precision"])
	# by officer, it is engine.metrics.warning_precision
	by_officer = p.alert_outcomes(rows, PERIOD, "officer")["precision"]
	subjects = pd.DataFrame({"subject": ["O1", "O2"], "employee": ["O1", "O2"]})
	metric = m.warning_precision({"alerts": rows}, subjects, PERIOD)
	assert by_officer["O1"] == pytest.approx(metric["O1"]) == pytest.approx(200 / 3)
	assert by_officer["O2"] == pytest.approx(metric["O2"]) == 0.0


def test_warning_recall_by_rule_over_the_portfolio():
	# NPL loans first in the period: L1, L2, L3 (3 for every rule)
	# R1 caught L1 → 1/3 ; R2 caught L2 → 1/3 ; R3 (asked for, no alert in the window) → 0/3
	result = p.warning_recall_by(FIRST_NPL, RECALL_ALERTS, PERIOD, "rule", groups=["R3"])
	assert result["npl_loans"].tolist() == [3.0, 3.0, 3.0]
	assert result["caught"].tolist() == [1.0, 1.0, 0.0]
	assert result["recall"].tolist() == pytest.approx([100 / 3, 100 / 3, 0.0])
	overall = p.warning_recall(FIRST_NPL, RECALL_ALERTS, PERIOD)
	assert overall == {"npl_loans": 3.0, "caught": 2.0, "recall": pytest.approx(200 / 3)}


def test_warning_recall_involved_only_is_the_people_metric():
	# R1 raised on L1 (in time) and L2 (late) → 1/2 ; R2 on L2 in time → 1/1 ; R3 nothing → NaN
	result = p.warning_recall_by(FIRST_NPL, RECALL_ALERTS, PERIOD, "rule", involved_only=True, groups=["R3"])
	assert result["npl_loans"].tolist() == [2.0, 1.0, 0.0]
	assert result.loc["R1", "recall"] == pytest.approx(50.0)
	assert result.loc["R2", "recall"] == pytest.approx(100.0)
	assert math.isnan(result.loc["R3", "recall"])
	overall = p.warning_recall(FIRST_NPL, RECALL_ALERTS, PERIOD, involved_only=True)
	assert overall == {"npl_loans": 2.0, "caught": 2.0, "recall": 100.0}
	# by officer it equals engine.metrics.warning_recall for Employee subjects: O1 1/2, O2 1/1
	by_officer = p.warning_recall_by(FIRST_NPL, RECALL_ALERTS, PERIOD, "officer", involved_only=True)[
		"recall"
	]
	snapshots = FIRST_NPL.rename(columns={"first_npl_on": "as_of_date"}).assign(
		outstanding=1.0, classification="Substandard"
	)
	subjects = pd.DataFrame({"subject": ["O1", "O2"], "employee": ["O1", "O2"]})
	metric = m.warning_recall({"snapshots": snapshots, "alerts": RECALL_ALERTS}, subjects, PERIOD)
	assert by_officer.to_dict() == pytest.approx(metric.to_dict()) == {"O1": 50.0, "O2": 100.0}
	# and the portfolio's overall recall equals the metric for a portfolio subject
	loans = pd.DataFrame({"name": [f"L{i}" for i in range(1, 6)], "managing_team": "T"})
	portfolio_metric = m.warning_recall(
		{"snapshots": snapshots, "alerts": RECALL_ALERTS, "loans": loans},
		pd.DataFrame({"subject": ["all"], "team": ["T"]}),
		PERIOD,
	)["all"]
	assert p.warning_recall(FIRST_NPL, RECALL_ALERTS, PERIOD)["recall"] == pytest.approx(portfolio_metric)


def test_warning_recall_without_npl_loans_has_no_data():
	result = p.warning_recall_by(FIRST_NPL.iloc[3:], RECALL_ALERTS, PERIOD, "rule", groups=["R1"])
	assert result["npl_loans"].tolist() == [0.0] and math.isnan(result.loc["R1", "recall"])
	assert math.isnan(p.warning_recall(None, None, PERIOD)["recall"])


def test_lead_time_days():
	rows = alerts(
		[
			("L1", "R1", "O1", D(2025, 4, 10), "Confirmed"),  # 04-10 → 04-30: 20 days
			("L3", "R1", "O2", D(2025, 6, 1), "Confirmed"),  # 06-01 → 06-30: 29 days
			("L2", "R1", "O1", D(2025, 6, 10), "Confirmed"),  # after L2's first NPL (05-31): left out
			("L2", "R2", "O2", D(2025, 5, 31), "Confirmed"),  # on the NPL date: 0 days
			("L5", "R2", "O2", D(2025, 6, 20), "Confirmed"),  # NPL after the period (07-31): 41 days
			("L3", "R2", "O2", D(2025, 6, 2), "False Alarm"),  # not confirmed
			("L9", "R3", "O1", D(2025, 6, 2), "Confirmed"),  # never NPL: left out
			("L1", "R1", "O1", D(2025, 3, 20), "Confirmed"),  # raised before the period
		]
	)
	by_rule = p.lead_time_days(rows, FIRST_NPL, PERIOD, "rule")
	assert by_rule.to_dict() == pytest.approx({"R1": 24.5, "R2": 20.5})
	by_officer = p.lead_time_days(rows, FIRST_NPL, PERIOD, "officer")
	assert by_officer.to_dict() == pytest.approx({"O1": 20.0, "O2": (29 + 0 + 41) / 3})


def test_bad_inputs_raise_coded_errors():
	with pytest.raises(m.FrameColumnsError) as info:
		p.roll_rate_matrix(pd.DataFrame({"loan": ["L1"]}), NEXT)
	assert info.value.details == {"frame": "prev", "columns": ["bucket"]}
	with pytest.raises(m.PeriodError):
		p.alert_outcomes(RECALL_ALERTS, (D(2025, 6, 30), D(2025, 4, 1)), "rule")
	assert p.bucket_rank(["M0", "M6+", "", None, "M9"]).tolist()[:2] == [0.0, 6.0]
	assert np.isnan(p.bucket_rank(["", None, "M9"])).all()


def test_lead_time_days_when_no_loan_ever_became_npl():
	# the report reads an empty first-NPL frame (dates as datetime64): mapping alerts onto an empty
	# datetime Series fails on pandas 3 ("Cannot cast DatetimeArray to dtype float64")
	rows = alerts([("L1", "R1", "O1", D(2025, 4, 10), "Confirmed")])
	no_npl = pd.DataFrame(
		{"loan": pd.Series(dtype=object), "first_npl_on": pd.Series(dtype="datetime64[ns]")}
	)
	result = p.lead_time_days(rows, no_npl, PERIOD, "rule")
	assert result.empty and result.name == "lead_time_days"
