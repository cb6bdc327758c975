"""Hand-worked cases for engine.metrics (docs/scheme.md, "Built-in metrics").

Period: 2024-01-01 … 2024-03-31 (2024 is a leap year); baseline: 2023-10-01 … 2023-12-31.
Each family builds a few rows by hand; the expected values are worked out in the comments.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from postloan_performance.engine import metrics as m
from postloan_performance.engine.scoring import HIGHER_IS_BETTER, LOWER_IS_BETTER

PERIOD = (dt.date(2024, 1, 1), dt.date(2024, 3, 31))
BASELINE = (dt.date(2023, 10, 1), dt.date(2023, 12, 31))
NAT = pd.NaT
D = dt.date
T = pd.Timestamp


def people(*rows: tuple) -> pd.DataFrame:
	"""subjects frame, people attribution: (subject, employee, from_date, to_date)."""
	return pd.DataFrame(rows, columns=["subject", "employee", "from_date", "to_date"])


def employees(*names: str) -> pd.DataFrame:
	return people(*[(name, name, None, None) for name in names])


def values(series: pd.Series) -> dict:
	return {key: (None if math.isnan(value) else value) for key, value in series.items()}


def assert_values(series: pd.Series, expected: dict) -> None:
	"""Every subject present, floats, NaN exactly where expected (None), approx elsewhere."""
	assert list(series.index) == list(expected)
	assert series.dtype == np.float64
	got = values(series)
	for key, value in expected.items():
		if value is None:
			assert got[key] is None, f"{key}: expected no data (NaN), got {got[key]}"
		else:
			assert got[key] == pytest.approx(value), f"{key}: expected {value}, got {got[key]}"


# Portfolio: North = team T-North and its descendant T-North-Sub; South = T-South.
PORTFOLIO = pd.DataFrame(
	[
		("North", "T-North"),
		("North", "T-North-Sub"),
		("South", "T-South"),
		("Empty", "T-Nobody"),
	],
	columns=["subject", "team"],
)
LOANS = pd.DataFrame(
	{
		"name": ["L1", "L2", "L3", "L4", "L5", "L6"],
		"managing_team": ["T-North", "T-North", "T-North-Sub", "T-South", "T-North", "T-Zero"],
		"principal": [1000.0] * 6,
	}
)


# ------------------------------------------------------------------------------------- management


def snapshots_frame() -> pd.DataFrame:
	rows = [
		# period end: the last snapshot date ≤ 2024-03-31 is 2024-03-31
		("L1", D(2024, 3, 31), 100.0, "Normal"),
		("L2", D(2024, 3, 31), 50.0, "Substandard"),
		("L3", D(2024, 3, 31), 50.0, "Doubtful"),
		("L4", D(2024, 3, 31), 200.0, "Normal"),
		("L6", D(2024, 3, 31), 0.0, "Loss"),  # outstanding 0: zero denominator for T-Zero
		# an older snapshot (ignored at 03-31, used when the period ends 03-20)
		("L1", D(2024, 3, 15), 100.0, "Loss"),
		# after the period end: ignored
		("L1", D(2024, 4, 30), 100.0, "Loss"),
		("L4", D(2024, 4, 30), 200.0, "Loss"),
		# baseline end
		("L1", D(2023, 12, 31), 100.0, "Normal"),
		("L2", D(2023, 12, 31), 100.0, "Loss"),
		("L3", D(2023, 12, 31), 100.0, "Loss"),
		("L4", D(2023, 12, 31), 100.0, "Substandard"),
	]
	frame = pd.DataFrame(rows, columns=["loan", "as_of_date", "outstanding", "classification"])
	return frame.assign(overdue_amount=0.0, dpd=0, bucket="M0")


def test_npl_ratio_portfolio():
	frames = {"loans": LOANS, "snapshots": snapshots_frame()}
	subjects = pd.concat([PORTFOLIO, pd.DataFrame([("Zero", "T-Zero")], columns=["subject", "team"])])
	# North on 03-31: NPL L2 50 + L3 50 = 100 ÷ (L1 100 + 50 + 50) = 50 %
	# South: L4 Normal → 0 ÷ 200 = 0 % (a real zero) ; Empty: no loans → NaN ; Zero: Σ outstanding 0 → NaN
	result = m.npl_ratio(frames, subjects, PERIOD)
	assert_values(result, {"North": 50.0, "South": 0.0, "Empty": None, "Zero": None})


def test_npl_ratio_uses_last_snapshot_date_not_each_loans_latest():
	frames = {"loans": LOANS, "snapshots": snapshots_frame()}
	# period ending 2024-03-20: the last snapshot date ≤ end is 2024-03-15 where only L1 (Loss, 100) exists.
	# North: 100/100 = 100 % ; South has no snapshot on 03-15 → NaN (its 2023-12-31 row is not used)
	result = m.npl_ratio(frames, PORTFOLIO, (D(2024, 1, 1), D(2024, 3, 20)))
	assert_values(result, {"North": 100.0, "South": None, "Empty": None})


def test_npl_ratio_people_uses_loans_of_active_cases():
	cases = pd.DataFrame(
		{
			"name": ["C1", "C2", "C3"],
			"loan": ["L2", "L1", "L4"],
			"collector": ["emp1", "emp1", "emp2"],
			"opened_on": [D(2024, 1, 10), D(2024, 2, 1), D(2023, 1, 1)],
			"closed_on": [NAT, NAT, D(2024, 3, 30)],  # C3 closed before the snapshot date
			"entry_overdue_amount": [1.0, 1.0, 1.0],
			"status": ["Open", "Open", "Cured"],
			"pl_team": [None, None, None],
		}
	)
	frames = {"snapshots": snapshots_frame(), "cases": cases}
	# emp1 holds L2 (Substandard 50) and L1 (Normal 100) → 50/150 = 33.33 % ; emp2's only case closed → NaN
	result = m.npl_ratio(frames, employees("emp1", "emp2"), PERIOD)
	assert_values(result, {"emp1": 100 * 50 / 150, "emp2": None})


def test_npl_ratio_reduction():
	frames = {"loans": LOANS, "snapshots": snapshots_frame()}
	# North at 2023-12-31: (L2 100 + L3 100) ÷ (100+100+100) = 66.667 % ; at 2024-03-31: 50 %
	#   reduction = 66.667 − 50 = 16.667 points
	# South at 2023-12-31: 100/100 = 100 % ; at 03-31: 0 % → 100 points
	result = m.npl_ratio_reduction(frames, PORTFOLIO, PERIOD, BASELINE)
	assert_values(result, {"North": 200 / 3 - 50, "South": 100.0, "Empty": None})
	# without a baseline there is no data, never an exception
	assert_values(
		m.npl_ratio_reduction(frames, PORTFOLIO, PERIOD), {"North": None, "South": None, "Empty": None}
	)


# ------------------------------------------------------------------------------------- collection
#
# cases  loan collector opened      closed      status          entry
# C1     L1   emp1      2023-12-01  —           In Progress     1000   open at period start
# C2     L2   emp1      2024-02-01  2024-03-10  Cured            500   opened and cured in period (38 days)
# C3     L1   emp1      2023-11-01  2023-12-20  Paid Off         700   closed before the period
# C4     L1   emp1      2024-04-02  —           Open             900   opened after the period
# C5     L4   emp2      2024-01-05  —           Promise to Pay  2000
# C6     L3   emp2      2023-12-15  2024-01-01  Paid Off         400   closed on the start date (17 days)
# C7     L2   emp1      2024-03-01  2024-04-05  Cured            100   cured after the period
# C8     L4   emp4      2024-01-01  —           Open             100   workload without recoveries
#
# recoveries  loan case collector amount received
# R1          L1   C1   emp9       300   2024-01-15   (counts for emp1, the collector of C1)
# R2          L2   C2   emp1       200   2024-03-31 18:00
# R3          L1   C1   emp1       100   2024-04-01   (after the period)
# R4          L4   —    emp2        50   2024-02-20   (no case: its own collector)
# R5          L4   C5   emp2       150   2024-02-10
# R6          L1   C3   emp1       170   2023-12-10   (baseline)
# R7          L1   C1   emp1        80   2024-01-17
#
# Team T: emp1 member from 2024-01-01 (open), emp2 member from 2024-02-15: emp2's records dated before
# 02-15 (R5 on 02-10, C6 active only on 01-01, action A4 on 02-01) do not count for T.


def cases_frame() -> pd.DataFrame:
	rows = [
		("C1", "L1", "emp1", D(2023, 12, 1), NAT, "In Progress", 1000.0),
		("C2", "L2", "emp1", D(2024, 2, 1), D(2024, 3, 10), "Cured", 500.0),
		("C3", "L1", "emp1", D(2023, 11, 1), D(2023, 12, 20), "Paid Off", 700.0),
		("C4", "L1", "emp1", D(2024, 4, 2), NAT, "Open", 900.0),
		("C5", "L4", "emp2", D(2024, 1, 5), NAT, "Promise to Pay", 2000.0),
		("C6", "L3", "emp2", D(2023, 12, 15), D(2024, 1, 1), "Paid Off", 400.0),
		("C7", "L2", "emp1", D(2024, 3, 1), D(2024, 4, 5), "Cured", 100.0),
		("C8", "L4", "emp4", D(2024, 1, 1), NAT, "Open", 100.0),
	]
	columns = ["name", "loan", "collector", "opened_on", "closed_on", "status", "entry_overdue_amount"]
	return pd.DataFrame(rows, columns=columns).assign(pl_team=None)


def recoveries_frame() -> pd.DataFrame:
	rows = [
		("L1", "C1", "emp9", 300.0, T("2024-01-15")),
		("L2", "C2", "emp1", 200.0, T("2024-03-31 18:00")),
		("L1", "C1", "emp1", 100.0, T("2024-04-01")),
		("L4", None, "emp2", 50.0, T("2024-02-20")),
		("L4", "C5", "emp2", 150.0, T("2024-02-10")),
		("L1", "C3", "emp1", 170.0, T("2023-12-10")),
		("L1", "C1", "emp1", 80.0, T("2024-01-17")),
	]
	return pd.DataFrame(rows, columns=["loan", "case", "collector", "amount", "received_on"])


def actions_frame() -> pd.DataFrame:
	rows = [
		("C1", "emp1", "Call", T("2024-01-10 09:00"), "Right Party", 400.0, D(2024, 1, 14)),  # A1
		("C2", "emp1", "Visit", T("2024-02-05 10:00"), "Right Party", 300.0, D(2024, 2, 10)),  # A2
		("C5", "emp2", "Call", T("2024-02-20 11:00"), "No Contact", 100.0, D(2024, 4, 10)),  # A3
		("C5", "emp2", "SMS", T("2024-02-01 08:00"), None, 100.0, D(2024, 2, 12)),  # A4
		("C1", "emp1", "SMS", T("2024-01-20 08:00"), None, np.nan, None),  # A5
		("C5", "emp2", "Call", T("2024-03-01 15:00"), "Right Party", 100.0, D(2024, 3, 5)),  # A6
		("C1", "emp2", "Call", T("2024-03-31 23:30"), "Third Party", np.nan, None),  # A7: C1 is emp1's
		(None, "emp2", "Visit", T("2024-04-01 10:00"), "Right Party", np.nan, None),  # A8: after period
	]
	columns = ["case", "collector", "action_type", "action_on", "contact_result", "ptp_amount", "ptp_date"]
	return pd.DataFrame(rows, columns=columns)


def collection_frames() -> dict[str, pd.DataFrame]:
	return {
		"loans": LOANS,
		"cases": cases_frame(),
		"recoveries": recoveries_frame(),
		"actions": actions_frame(),
	}


COLLECTORS = pd.concat(
	[
		employees("emp1", "emp2", "emp3", "emp4"),
		people(("T", "emp1", D(2024, 1, 1), None), ("T", "emp2", D(2024, 2, 15), None)),
	],
	ignore_index=True,
)


def test_recovery_rate_people_and_team_membership():
	# emp1: active C1 1000 + C2 500 + C7 100 = 1600 ; R1 300 + R2 200 + R7 80 = 580 → 36.25 %
	# emp2: active C5 2000 + C6 400 = 2400 ; R4 50 + R5 150 = 200 → 8.333 %
	# emp3: no case → NaN ; emp4: C8 100 and nothing recovered → 0 %
	# T: cases C1, C2, C7 (emp1) + C5 (emp2 active after 02-15) = 3600 ; C6 excluded (only 01-01)
	#    recoveries R1 300 + R2 200 + R7 80 + R4 50 (02-20) = 630 ; R5 (02-10) excluded → 17.5 %
	result = m.recovery_rate(collection_frames(), COLLECTORS, PERIOD)
	assert_values(result, {"emp1": 36.25, "emp2": 200 / 24, "emp3": None, "emp4": 0.0, "T": 17.5})


def test_recovery_rate_portfolio():
	# North (L1, L2, L3): cases C1 1000 + C2 500 + C6 400 + C7 100 = 2000 ; R1 + R2 + R7 = 580 → 29 %
	# South (L4): C5 2000 + C8 100 = 2100 ; R4 50 + R5 150 = 200 → 9.5238 %
	result = m.recovery_rate(collection_frames(), PORTFOLIO, PERIOD)
	assert_values(result, {"North": 29.0, "South": 200 / 21, "Empty": None})


def test_recovery_rate_improvement():
	# baseline emp1: C1 (opened 12-01) 1000 + C3 700 = 1700 ; R6 170 → 10 % → 36.25 − 10 = 26.25
	# baseline emp2: C6 (opened 12-15) 400, nothing recovered → 0 % → 8.333 − 0
	# emp4: no case in the baseline → NaN
	result = m.recovery_rate_improvement(
		collection_frames(), employees("emp1", "emp2", "emp4"), PERIOD, BASELINE
	)
	assert_values(result, {"emp1": 26.25, "emp2": 200 / 24, "emp4": None})
	# portfolio North baseline: C1 1000 + C3 700 + C6 400 = 2100 ; R6 170 → 8.0952 % → 29 − 8.0952
	result = m.recovery_rate_improvement(collection_frames(), PORTFOLIO, PERIOD, BASELINE)
	assert_values(result, {"North": 29 - 1700 / 210, "South": None, "Empty": None})


def test_collection_success_rate():
	# emp1: active C1, C2, C7 ; cured in period: C2 (C7 cured 04-05, after) → 1/3
	# emp2: active C5, C6 ; C6 Paid Off on 01-01 (start date counts) → 1/2
	# emp3: no active case → NaN (zero denominator) ; emp4: C8 open → 0/1 = 0
	# T: active C1, C2, C7, C5 ; C2 → 1/4 = 25 %
	result = m.collection_success_rate(collection_frames(), COLLECTORS, PERIOD)
	assert_values(result, {"emp1": 100 / 3, "emp2": 50.0, "emp3": None, "emp4": 0.0, "T": 25.0})
	# North: C1, C2, C6, C7 with C2 and C6 successful → 50 % ; South: C5, C8 → 0 %
	assert_values(
		m.collection_success_rate(collection_frames(), PORTFOLIO, PERIOD),
		{"North": 50.0, "South": 0.0, "Empty": None},
	)


def test_active_case_count_is_the_success_rate_denominator():
	# emp1: C1, C2, C7 → 3 ; emp2: C5, C6 → 2 ; emp3: none → NaN ; emp4: C8 → 1 ; T: C1, C2, C7, C5 → 4
	result = m.active_case_count(collection_frames(), COLLECTORS, PERIOD)
	assert_values(result, {"emp1": 3.0, "emp2": 2.0, "emp3": None, "emp4": 1.0, "T": 4.0})
	# North: C1, C2, C6, C7 ; South: C5, C8
	assert_values(
		m.active_case_count(collection_frames(), PORTFOLIO, PERIOD),
		{"North": 4.0, "South": 2.0, "Empty": None},
	)
	assert "active_case_count" not in m.METRICS


def test_avg_collection_cycle_days():
	# C2: 2024-02-01 → 2024-03-10 = 29 (February 2024) + 9 = 38 days ; C6: 2023-12-15 → 2024-01-01 = 17 days
	# emp4 cured nothing → NaN ; T: only C2 (C6 closed before emp2 joined) → 38 ; North: (38 + 17)/2
	result = m.avg_collection_cycle_days(collection_frames(), COLLECTORS, PERIOD)
	assert_values(result, {"emp1": 38.0, "emp2": 17.0, "emp3": None, "emp4": None, "T": 38.0})
	assert_values(
		m.avg_collection_cycle_days(collection_frames(), PORTFOLIO, PERIOD),
		{"North": 27.5, "South": None, "Empty": None},
	)


def test_ptp_kept_rate():
	# A1 (C1, 400 by 01-14): recoveries on C1 from 01-10 to 01-17 = R1 300 + R7 80 = 380 ≥ 95 % × 400 = 380 → kept
	# A2 (C2, 300 by 02-10): nothing on C2 between 02-05 and 02-13 (R2 is 03-31) → not kept
	# A3: ptp_date 04-10 outside the period → not a PTP of this period
	# A4 (C5, 100 by 02-12): R5 150 on 02-10 → kept
	# A6 (C5, 100 by 03-05): nothing on C5 from 03-01 to 03-08 (R5 is before the action) → not kept
	# emp1: 1/2 ; emp2: 1/2 ; T: A1, A2, A6 (A4 made on 02-01, before emp2 joined) → 1/3 ; emp3 NaN
	result = m.ptp_kept_rate(collection_frames(), COLLECTORS, PERIOD)
	assert_values(result, {"emp1": 50.0, "emp2": 50.0, "emp3": None, "emp4": None, "T": 100 / 3})


def test_ptp_kept_rate_95_percent_edge():
	frames = collection_frames()
	recoveries = frames["recoveries"]
	frames["recoveries"] = recoveries.assign(
		amount=recoveries["amount"].where(recoveries["amount"] != 80.0, 79.99)
	)
	# A1 now gets 300 + 79.99 = 379.99 < 380 → not kept: emp1 0/2
	assert_values(m.ptp_kept_rate(frames, employees("emp1"), PERIOD), {"emp1": 0.0})


def test_right_party_contact_rate():
	# Call/Visit actions in period: A1 RP, A2 RP, A7 Third Party (row says emp2, but C1 is emp1's) → emp1 2/3
	# emp2: A3 No Contact, A6 RP → 1/2 ; A4/A5 are SMS ; A8 is after the period
	# T: A1, A2, A7, A3 (02-20), A6 → 3 RP of 5 = 60 %
	result = m.right_party_contact_rate(collection_frames(), COLLECTORS, PERIOD)
	assert_values(result, {"emp1": 200 / 3, "emp2": 50.0, "emp3": None, "emp4": None, "T": 60.0})


def test_recovered_amount():
	# emp1 580 ; emp2 200 ; emp4 has workload but recovered nothing → 0 (a result, not "no data")
	# emp3 has neither cases nor recoveries → NaN ; T 630 (R5 excluded by membership)
	result = m.recovered_amount(collection_frames(), COLLECTORS, PERIOD)
	assert_values(result, {"emp1": 580.0, "emp2": 200.0, "emp3": None, "emp4": 0.0, "T": 630.0})
	assert_values(
		m.recovered_amount(collection_frames(), PORTFOLIO, PERIOD),
		{"North": 580.0, "South": 200.0, "Empty": None},
	)


# ------------------------------------------------------------------------------------ risk control


def alerts_frame() -> pd.DataFrame:
	rows = [
		("AL1", "L1", D(2024, 1, 5), "off1", "Confirmed"),
		("AL2", "L2", D(2024, 2, 1), "off1", "False Alarm"),
		("AL3", "L3", D(2024, 2, 10), "off1", "Pending"),
		("AL4", "L4", D(2024, 3, 31), "off2", "Confirmed"),
		("AL5", "L4", D(2024, 4, 1), "off2", "False Alarm"),  # after the period
		("AL6", "L2", D(2023, 12, 20), "off2", "Confirmed"),  # before the period
		("AL7", "L1", D(2024, 3, 1), "off4", "Pending"),  # off4 has only a pending alert
		("AL8", "L5", D(2024, 3, 20), "off2", "Pending"),  # late: L5 turned NPL on 03-15
	]
	return pd.DataFrame(rows, columns=["name", "loan", "raised_on", "officer", "outcome"]).assign(rule="R")


def test_warning_precision():
	# off1: AL1 Confirmed, AL2 False Alarm (AL3 pending is not judged) → 1/2
	# off2: AL4 Confirmed (AL5 after, AL6 before the period) → 100 % ; off3: nothing ; off4: pending only → NaN
	frames = {"alerts": alerts_frame(), "loans": LOANS}
	result = m.warning_precision(frames, employees("off1", "off2", "off3", "off4"), PERIOD)
	assert_values(result, {"off1": 50.0, "off2": 100.0, "off3": None, "off4": None})
	# portfolio: North AL1 C, AL2 FA, AL7 pending → 50 % ; South AL4 → 100 %
	assert_values(
		m.warning_precision(frames, PORTFOLIO, PERIOD), {"North": 50.0, "South": 100.0, "Empty": None}
	)


def recall_snapshots() -> pd.DataFrame:
	rows = [
		("L1", D(2024, 1, 31), "Normal"),
		("L1", D(2024, 2, 29), "Substandard"),  # first NPL 02-29; window 2023-12-01 … 02-29
		("L2", D(2024, 3, 31), "Doubtful"),  # first NPL 03-31; window 2024-01-01 … 03-31
		("L3", D(2023, 12, 31), "Loss"),  # first NPL in 2023: a relapse in March is not "first"
		("L3", D(2024, 1, 31), "Normal"),
		("L3", D(2024, 3, 31), "Loss"),
		("L4", D(2024, 3, 31), "Substandard"),  # first NPL 03-31
		("L5", D(2024, 3, 15), "Substandard"),  # first NPL 03-15, no alert before
	]
	return pd.DataFrame(rows, columns=["loan", "as_of_date", "classification"]).assign(outstanding=1.0)


def test_warning_recall_portfolio():
	# North loans first NPL in period: L1 (AL1 01-05 in window), L2 (AL2 02-01 in window; AL6 2023-12-20 is
	#   more than 90 days before), L5 (only AL8 after the NPL date) → 2/3
	# South: L4 (AL4 raised on the NPL date itself, inclusive) → 1/1
	frames = {"snapshots": recall_snapshots(), "alerts": alerts_frame(), "loans": LOANS}
	result = m.warning_recall(frames, PORTFOLIO, PERIOD)
	assert_values(result, {"North": 200 / 3, "South": 100.0, "Empty": None})


def test_warning_recall_people():
	# off1 was involved with L1 and L2, both flagged in the window → 100 %
	# off2: L4 flagged in window ; L5 flagged late (AL8 after the NPL date) = a miss ; AL6 on L2 is older
	#   than the 90-day window so L2 is not his → 1/2 ; off3 raised nothing → NaN
	frames = {"snapshots": recall_snapshots(), "alerts": alerts_frame()}
	result = m.warning_recall(frames, employees("off1", "off2", "off3"), PERIOD)
	assert_values(result, {"off1": 100.0, "off2": 50.0, "off3": None})


def test_risk_report_quality():
	rows = [
		("off1", D(2024, 1, 10), 4),
		("off1", D(2024, 3, 31), 5),
		("off1", D(2024, 4, 1), 1),  # after the period
		("off2", D(2024, 2, 1), None),  # not rated yet
		("off2", D(2023, 12, 31), 3),  # before the period
	]
	frames = {"assessments": pd.DataFrame(rows, columns=["author", "report_date", "quality_rating"])}
	# off1: mean(4, 5) = 4.5 → 4.5/5×100 = 90 ; off2: nothing rated in period → NaN
	assert_values(
		m.risk_report_quality(frames, employees("off1", "off2"), PERIOD), {"off1": 90.0, "off2": None}
	)


def test_risk_event_handling_hours_and_membership():
	rows = [
		("EV1", "L1", T("2024-01-01 08:00"), T("2024-01-02 20:00"), "off1"),  # 36 h, resolved 01-02
		("EV2", "L2", T("2023-12-31 22:00"), T("2024-01-01 04:00"), "off1"),  # 6 h, resolved 01-01
		("EV3", "L4", T("2024-03-30 08:00"), T("2024-04-01 08:00"), "off1"),  # resolved after the period
		("EV4", "L4", T("2024-02-01 08:00"), NAT, "off2"),  # still open
	]
	frames = {"events": pd.DataFrame(rows, columns=["name", "loan", "reported_on", "resolved_on", "handler"])}
	subjects = pd.concat(
		[employees("off1", "off2"), people(("R", "off1", D(2024, 1, 2), None))], ignore_index=True
	)
	# off1: (36 + 6)/2 = 21 h ; off2: nothing resolved → NaN ; team R (off1 from 01-02): EV1 only → 36 h
	result = m.risk_event_handling_hours(frames, subjects, PERIOD)
	assert_values(result, {"off1": 21.0, "off2": None, "R": 36.0})


# -------------------------------------------------------------------------------- customer service


def tickets_frame() -> pd.DataFrame:
	rows = [
		(
			"TK1",
			"ag1",
			T("2024-01-10 09:00"),
			T("2024-01-10 09:15"),
			T("2024-01-11 10:00"),
		),  # 15 min, resolved
		("TK2", "ag1", T("2024-03-31 22:00"), T("2024-04-01 00:30"), T("2024-04-02 10:00")),  # 150 min, late
		("TK3", "ag1", T("2024-02-01 10:00"), NAT, NAT),  # unanswered, unresolved
		("TK4", "ag1", T("2023-12-31 23:00"), T("2023-12-31 23:05"), T("2024-01-01 01:00")),  # opened before
		("TK5", "ag2", T("2024-02-02 08:00"), T("2024-02-02 09:00"), T("2024-02-02 10:00")),  # 60 min
	]
	frame = pd.DataFrame(rows, columns=["name", "agent", "opened_on", "first_response_on", "resolved_on"])
	return frame.assign(channel="Phone")


def test_ticket_resolution_rate():
	# ag1: TK1 resolved, TK2 resolved after the period end, TK3 open → 1/3 ; ag2: 1/1 ; ag3 → NaN
	result = m.ticket_resolution_rate({"tickets": tickets_frame()}, employees("ag1", "ag2", "ag3"), PERIOD)
	assert_values(result, {"ag1": 100 / 3, "ag2": 100.0, "ag3": None})


def test_first_response_minutes():
	# ag1: (15 + 150)/2 = 82.5 (TK3 has no response, TK4 opened before) ; ag2: 60 ; ag3 → NaN
	result = m.first_response_minutes({"tickets": tickets_frame()}, employees("ag1", "ag2", "ag3"), PERIOD)
	assert_values(result, {"ag1": 82.5, "ag2": 60.0, "ag3": None})


def feedback_frames() -> dict[str, pd.DataFrame]:
	rows = [
		("emp1", None, 5, 10, D(2024, 1, 15)),
		("emp1", None, 3, 6, D(2024, 2, 15)),
		("emp9", "C5", 4, 8, D(2024, 3, 1)),  # on case C5 → counts for emp2, its collector
		("emp1", None, 1, 0, D(2024, 4, 1)),  # after the period
		("ag1", None, 4, 9, D(2024, 3, 31)),
		("ag1", None, None, 7, D(2024, 3, 1)),  # nps only
		("ag1", None, 2, None, D(2024, 1, 20)),  # csat only
	]
	feedback = pd.DataFrame(rows, columns=["employee", "case", "csat", "nps", "given_on"])
	return {"customer_feedback": feedback, "cases": cases_frame(), "loans": LOANS}


def test_customer_satisfaction():
	# emp1: mean(5, 3) = 4 → 80 ; emp2 (via C5): 4 → 80 ; ag1: mean(4, 2) = 3 → 60 ; ag2 → NaN
	result = m.customer_satisfaction(feedback_frames(), employees("emp1", "emp2", "ag1", "ag2"), PERIOD)
	assert_values(result, {"emp1": 80.0, "emp2": 80.0, "ag1": 60.0, "ag2": None})


def test_customer_loyalty_nps():
	# emp1: 10 promoter, 6 detractor → 50 − 50 = 0 (a real zero) ; emp2: 8 passive → 0
	# ag1: 9 promoter, 7 passive → 50 − 0 = 50 ; ag2 → NaN
	result = m.customer_loyalty_nps(feedback_frames(), employees("emp1", "emp2", "ag1", "ag2"), PERIOD)
	assert_values(result, {"emp1": 0.0, "emp2": 0.0, "ag1": 50.0, "ag2": None})
	# portfolio via the case's loan: C5 → L4 → South: 8 passive → 0 ; North has no feedback → NaN
	assert_values(
		m.customer_loyalty_nps(feedback_frames(), PORTFOLIO, PERIOD),
		{"North": None, "South": 0.0, "Empty": None},
	)


def survey_frame() -> pd.DataFrame:
	rows = [
		("emp1", "T-North", 4, 5, 3, 4),  # 16 over 4 items
		("emp2", "T-North-Sub", 5, 5, 5, None),  # 15 over 3 items
		("emp3", "T-South", 2, 2, 2, 2),
		("emp4", "T-North", 3, 3, 3, 3),  # 12 over 4 items
	]
	return pd.DataFrame(rows, columns=["respondent", "team", "fairness", "clarity", "motivation", "workload"])


def test_team_satisfaction():
	# North (T-North + descendant T-North-Sub): (16 + 15 + 12)/11 → /5×100 ; South: one answer only, and
	# fewer than MIN_SURVEY_RESPONSES answers give no value (a single answer must not move a KPI alone)
	frames = {"survey": survey_frame()}
	assert m.MIN_SURVEY_RESPONSES == 3
	assert_values(
		m.team_satisfaction(frames, PORTFOLIO, PERIOD),
		{"North": 43 / 11 / 5 * 100, "South": None, "Empty": None},
	)
	# people: T's members emp1 and emp2 answered (two answers: below the minimum) → NaN ; "Old" had emp3
	# only until 2023-12-31 → NaN
	subjects = pd.concat(
		[COLLECTORS[COLLECTORS["subject"] == "T"], people(("Old", "emp3", D(2023, 1, 1), D(2023, 12, 31)))]
	)
	assert_values(m.team_satisfaction(frames, subjects, PERIOD), {"T": None, "Old": None})
	# with a third member's answer the people subject has a value again
	three = pd.concat([subjects, people(("T", "emp4", D(2020, 1, 1), None))])
	assert_values(m.team_satisfaction(frames, three, PERIOD), {"T": 43 / 11 / 5 * 100, "Old": None})


# ----------------------------------------------------------------------------- registry and plumbing


def test_registry_lists_the_eighteen_metrics():
	expected = {
		"npl_ratio": LOWER_IS_BETTER,
		"npl_ratio_reduction": HIGHER_IS_BETTER,
		"recovery_rate": HIGHER_IS_BETTER,
		"recovery_rate_improvement": HIGHER_IS_BETTER,
		"collection_success_rate": HIGHER_IS_BETTER,
		"avg_collection_cycle_days": LOWER_IS_BETTER,
		"ptp_kept_rate": HIGHER_IS_BETTER,
		"right_party_contact_rate": HIGHER_IS_BETTER,
		"recovered_amount": HIGHER_IS_BETTER,
		"warning_precision": HIGHER_IS_BETTER,
		"warning_recall": HIGHER_IS_BETTER,
		"risk_report_quality": HIGHER_IS_BETTER,
		"risk_event_handling_hours": LOWER_IS_BETTER,
		"ticket_resolution_rate": HIGHER_IS_BETTER,
		"first_response_minutes": LOWER_IS_BETTER,
		"customer_satisfaction": HIGHER_IS_BETTER,
		"customer_loyalty_nps": HIGHER_IS_BETTER,
		"team_satisfaction": HIGHER_IS_BETTER,
	}
	assert {code: spec.direction for code, spec in m.METRICS.items()} == expected
	for code, spec in m.METRICS.items():
		assert spec.code == code
		assert spec.function is getattr(m, code)
		assert set(spec.frames) <= set(m.REQUIRED_COLUMNS)
	assert {code for code, spec in m.METRICS.items() if spec.needs_baseline} == {
		"npl_ratio_reduction",
		"recovery_rate_improvement",
	}


def test_compute_dispatches_and_every_metric_survives_no_data():
	result = m.compute("recovery_rate", collection_frames(), employees("emp1"), PERIOD)
	assert result.name == "recovery_rate"
	assert result["emp1"] == pytest.approx(36.25)
	with pytest.raises(m.UnknownMetricError) as info:
		m.compute("bogus", {}, employees("emp1"), PERIOD)
	assert info.value.code == "unknown_metric"
	assert info.value.details == {"metric": "bogus"}
	empty_frames = {name: pd.DataFrame() for name in m.REQUIRED_COLUMNS}  # what get_all([]) gives
	for code in m.METRICS:
		for subjects in (employees("e1", "e2"), PORTFOLIO):
			result = m.compute(code, empty_frames, subjects, PERIOD, BASELINE)
			assert list(result.index) == list(dict.fromkeys(subjects["subject"])), code
			assert result.isna().all(), code


def test_bad_inputs_raise_coded_errors():
	broken = {"recoveries": pd.DataFrame({"amount": [1.0]})}
	with pytest.raises(m.FrameColumnsError) as info:
		m.recovered_amount(broken, employees("emp1"), PERIOD)
	assert info.value.details["frame"] == "recoveries"
	assert "received_on" in info.value.details["columns"]
	with pytest.raises(m.PeriodError):
		m.recovered_amount({}, employees("emp1"), (D(2024, 3, 31), D(2024, 1, 1)))


def test_inputs_are_not_mutated_and_datetime64_columns_work():
	frames = collection_frames()
	before = {name: frame.copy() for name, frame in frames.items()}
	cases = frames["cases"]
	frames["cases"] = cases.assign(
		opened_on=pd.to_datetime(cases["opened_on"]), closed_on=pd.to_datetime(cases["closed_on"])
	)
	result = m.collection_success_rate(frames, COLLECTORS, PERIOD)
	assert_values(result, {"emp1": 100 / 3, "emp2": 50.0, "emp3": None, "emp4": 0.0, "T": 25.0})
	for name in ("recoveries", "actions", "loans"):
		pd.testing.assert_frame_equal(frames[name], before[name])


def test_registry_agrees_with_the_metric_catalog():
	# metric_catalog is what DocType validation reads: labels, units and directions must not drift apart
	from postloan_performance.engine.metric_catalog import BUILTIN_METRICS

	assert set(BUILTIN_METRICS) == set(m.METRICS)
	for code, entry in BUILTIN_METRICS.items():
		spec = m.METRICS[code]
		assert (spec.label, spec.unit, spec.direction) == (
			entry["label"],
			entry["unit"],
			entry["direction"],
		), code


# ---------------------------------------------------------------------------------------- stats
# (engine.stats feeds the Scheme Effect Evaluation report: baseline sample a vs scheme sample b)


def test_welch_t_test_hand_worked():
	from postloan_performance.engine import stats

	result = stats.welch_t_test([1, 2, 3, 4], [2, 4, 6, 8, 10, None, float("nan")])
	# a: mean 2.5, s² = 5/3 ; b: mean 6, s² = 10 ; delta = 3.5
	# se² = (5/3)/4 + 10/5 = 0.41667 + 2 = 2.41667 ; t = 3.5/√2.41667 = 2.25144
	# df = 2.41667² / (0.41667²/3 + 2²/4) = 5.84028 / 1.05787 = 5.52079
	assert result["n_a"] == 4 and result["n_b"] == 5
	assert result["mean_a"] == pytest.approx(2.5) and result["mean_b"] == pytest.approx(6.0)
	assert result["delta"] == pytest.approx(3.5)
	se2 = (5 / 3) / 4 + 10 / 5
	assert result["t"] == pytest.approx(3.5 / math.sqrt(se2))
	assert result["df"] == pytest.approx(se2**2 / (((5 / 3) / 4) ** 2 / 3 + 2**2 / 4))
	try:
		import scipy  # noqa: F401
	except ImportError:  # optional dependency: normal approximation instead
		assert result["p_value"] == pytest.approx(math.erfc(result["t"] / math.sqrt(2)))
	else:
		assert result["p_value"] == pytest.approx(0.0691336, abs=1e-6)  # two-sided t(5.52)


def test_welch_t_test_without_scipy_uses_normal_approximation(monkeypatch):
	import sys

	from postloan_performance.engine import stats

	monkeypatch.setitem(sys.modules, "scipy", None)
	monkeypatch.setitem(sys.modules, "scipy.stats", None)
	result = stats.welch_t_test([1, 2, 3, 4], [2, 4, 6, 8, 10])
	# p = erfc(|t|/√2) = 2 × (1 − Φ(2.25144)) ≈ 0.02436
	assert result["p_value"] == pytest.approx(math.erfc(result["t"] / math.sqrt(2)))
	assert result["p_value"] == pytest.approx(0.02436, abs=1e-4)


def test_welch_t_test_degenerate_samples():
	from postloan_performance.engine import stats

	tiny = stats.welch_t_test([5], [1, 2, 3])
	assert tiny["mean_a"] == 5.0 and tiny["delta"] == pytest.approx(-3.0)
	assert tiny["t"] is None and tiny["df"] is None and tiny["p_value"] is None
	flat = stats.welch_t_test([2, 2, 2], [3, 3])  # no variance at all: no test possible
	assert flat["delta"] == pytest.approx(1.0) and flat["p_value"] is None
	empty = stats.welch_t_test([], [1, 2])
	assert empty["mean_a"] is None and empty["delta"] is None and empty["p_value"] is None


def test_permutation_test():
	from postloan_performance.engine import stats

	# [1,2,3] vs [4,5,6]: of the 20 equally likely splits, 2 have |Δ| ≥ 3 → exact p = 0.1
	p = stats.permutation_test([1, 2, 3], [4, 5, 6], n_resamples=20000, seed=1)
	assert p == pytest.approx(0.1, abs=0.01)
	assert stats.permutation_test([1, 2, 3], [4, 5, 6], seed=7) == stats.permutation_test(
		[1, 2, 3], [4, 5, 6], seed=7
	)
	# identical samples: every shuffle is at least as extreme → p = 1
	assert stats.permutation_test([1, 2], [1, 2], n_resamples=99) == 1.0
	assert stats.permutation_test([], [1, 2]) is None


def test_engine_never_imports_frappe_and_scipy_is_lazy():
	import subprocess
	import sys

	code = (
		"import sys; import postloan_performance.engine.scoring, postloan_performance.engine.metrics, "
		"postloan_performance.engine.stats; "
		"assert 'frappe' not in sys.modules; assert 'scipy' not in sys.modules"
	)
	root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
	subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_the_catalog_is_the_one_list_of_metrics():
	"""Labels, units and directions live in metric_catalog; the KPI form offers exactly those codes."""
	import json
	from pathlib import Path

	from postloan_performance.engine.metric_catalog import BUILTIN_METRICS

	assert {code: (s.label, s.unit, s.direction) for code, s in m.METRICS.items()} == {
		code: (c["label"], c["unit"], c["direction"]) for code, c in BUILTIN_METRICS.items()
	}
	kpi = Path(m.__file__).parents[2] / "postloan_performance" / "doctype" / "pl_kpi" / "pl_kpi.json"
	field = next(f for f in json.loads(kpi.read_text())["fields"] if f["fieldname"] == "builtin_metric")
	assert [o for o in field["options"].split("\n") if o] == list(BUILTIN_METRICS)
