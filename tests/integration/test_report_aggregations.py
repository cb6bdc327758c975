"""Collector Performance, Service Level and Early Warning Effectiveness on small crafted datasets whose
every number is worked out by hand below.

The reports aggregate in SQL (Collector Performance sums per collector with GROUP BY, Service Level and
Early Warning read dates as text, the first-NPL loader groups per classification and loan). The rows here
are chosen to catch a wrong aggregation: actions and recoveries whose own collector differs from their
case's, cases the KPI loader does not read (closed before the lookback, opened after the period), the
period's first and last instants, a promise kept at exactly 95 %, a relapse into NPL and an NPL loan that
changes classification. Collector Performance is also checked against the KPI actuals of the engine
(`services.metric_frames.compute_metric`) for the same period. Names carry a "_Test PLK"/"PLK-" prefix.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import frappe

from postloan_performance.services.daily_jobs import insert_rows
from postloan_performance.services.metric_frames import FrameCache, Window, compute_metric
from postloan_performance.services.reports import (
	collector_performance,
	early_warning_effectiveness,
	service_level,
)
from tests.integration.factories import COMPANY, make_company, make_employee, make_team

START, END = "2026-04-01", "2026-06-30"
P = "PLK-"


def _d(value: str) -> dt.date:
	return dt.date.fromisoformat(value)


def _t(value: str) -> dt.datetime:
	return dt.datetime.fromisoformat(value)


def _loans(names: list[str]) -> None:
	insert_rows(
		"PL Loan",
		["name", "loan_no", "customer", "company", "disbursed_on", "principal", "status"],
		[(n, n, "_Test PLK customer", COMPANY, _d("2024-01-01"), 10000.0, "Active") for n in names],
	)


# ------------------------------------------------------------------------- Collector Performance


@pytest.fixture
def collectors():
	make_company()
	a, b, c, d = (make_employee(f"_Test PLK Collector {x}") for x in "ABCD")
	make_team("_Test PLK Team 1", "Collection", members=[(a, "2026-01-01", None), (b, "2026-01-01", None)])
	make_team("_Test PLK Team 2", "Collection", members=[(c, "2026-01-01", None), (d, "2026-01-01", None)])
	_loans([f"{P}L{i}" for i in range(1, 10)])
	cases = [
		# name, collector, status, opened_on, closed_on
		("C1", a, "Cured", "2026-01-10", "2026-04-20"),  # active, success after 100 days
		("C2", a, "Open", "2026-05-01", None),  # active
		("C3", a, "Paid Off", "2026-02-01", "2026-03-15"),  # closed before the period, still read
		("C4", b, "Paid Off", "2026-06-10", "2026-06-30"),  # active, success after 20 days
		("C5", b, "Written Off", "2026-04-05", "2026-06-01"),  # active, no success
		("C9", b, "Open", "2026-06-30", None),  # opened on the last day: active
		("C6", c, "Cured", "2025-06-01", "2025-11-30"),  # closed before the lookback: not read
		("C7", c, "Open", "2026-07-05", None),  # opened after the period: not read
		("C8", c, "Cured", "2026-04-10", "2026-04-05"),  # closed before opened: active, no success
	]
	insert_rows(
		"PL Collection Case",
		["name", "case_no", "loan", "collector", "status", "opened_on", "closed_on", "entry_overdue_amount"],
		[
			(P + n, P + n, f"{P}L{n[1:]}", who, status, _d(o), _d(c) if c else None, 1000.0)
			for n, who, status, o, c in cases
		],
	)
	recoveries = [
		# name, case, own collector, received_on, amount
		("R1", "C1", a, "2026-04-15", 1000.10),  # A
		("R2", "C3", b, "2026-05-02", 200.20),  # the case's collector: A
		("R3", "C6", d, "2026-05-10", 300.30),  # case not read: the recovery's own collector D
		("R4", "C2", a, "2026-03-31", 999.00),  # before the period
		("R5", "C4", b, "2026-07-02", 380.00),  # after the period (within a promise's grace)
		("R6", None, c, "2026-06-30", 50.00),  # no case: C
		("R7", "C5", b, "2025-12-01", 77.00),  # long before
		("R9", "C8", c, "2026-04-01", 20.00),  # C
		("R10", "C8", c, "2026-07-02", 27.50),  # after the period (within a promise's grace)
	]
	insert_rows(
		"PL Recovery",
		["name", "loan", "collection_case", "collector", "received_on", "amount"],
		[
			(P + n, f"{P}L{case[1:] if case else 9}", P + case if case else None, who, _d(on), amount)
			for n, case, who, on, amount in recoveries
		],
	)
	actions = [
		# name, case, own collector, type, action_on, contact_result, ptp_amount, ptp_date
		("A1", "C1", a, "Call", "2026-04-02 10:00:00", "Right Party", 0, None),
		("A2", "C2", b, "Visit", "2026-06-30 23:59:59", "No Contact", 0, None),  # counts for A
		("A3", "C2", a, "SMS", "2026-05-01 10:00:00", "Right Party", 0, None),  # not a contact
		("A4", "C6", d, "Call", "2026-05-05 10:00:00", "Right Party", 0, None),  # case not read: D
		("A5", "C7", b, "Call", "2026-06-15 10:00:00", "Third Party", 0, None),  # case not read: B
		("A6", "C4", b, "Call", "2026-07-01 00:00:00", "Right Party", 0, None),  # after the period
		("A7", "C4", b, "Visit", "2026-04-01 00:00:00", "Right Party", 0, None),
		("A8", "C5", b, "Call", "2026-03-31 23:59:59", "Right Party", 0, None),  # before the period
		("A9", "C8", c, "Call", "2026-04-20 10:00:00", None, 0, None),
		# promises to pay
		("P1", "C1", a, "Call", "2026-04-10 09:00:00", "Right Party", 1000, "2026-04-14"),  # kept by R1
		("P2", "C2", a, "SMS", "2026-04-20 09:00:00", None, 1000, "2026-05-01"),  # R4 is before: broken
		("P3", "C4", b, "SMS", "2026-06-25 09:00:00", None, 400, "2026-06-30"),  # R5 = 95 %: kept
		("P4", "C4", b, "SMS", "2026-06-26 09:00:00", None, 1000, "2026-06-28"),  # R5 too late: broken
		("P10", "C5", b, "SMS", "2026-05-01 09:00:00", None, 200, "2026-05-10"),  # broken
		("P5", "C6", d, "SMS", "2026-05-01 09:00:00", None, 300, "2026-05-09"),  # R3: kept, for D
		("P6", "C5", b, "SMS", "2026-05-01 09:00:00", None, 100, "2026-07-05"),  # due after the period
		("P7", "C5", b, "SMS", "2026-05-01 09:00:00", None, 0, "2026-05-01"),  # no amount
		("P9", "C8", c, "SMS", "2026-04-01 08:00:00", None, 50, "2026-06-29"),  # R9 + R10 = 95 %: kept
	]
	insert_rows(
		"PL Collection Action",
		[
			"name",
			"collection_case",
			"collector",
			"action_type",
			"action_on",
			"contact_result",
			"ptp_amount",
			"ptp_date",
		],
		[
			(P + n, P + case, who, kind, _t(on), result, amount, _d(due) if due else None)
			for n, case, who, kind, on, result, amount, due in actions
		],
	)
	return frappe._dict(a=a, b=b, c=c, d=d)


# (rank, cases_active, success_rate, recovered_amount, avg_cycle_days, ptp_kept_rate, right_party_rate)
EXPECTED = {
	"a": (1, 2, 50.0, 1200.30, 100.0, 50.0, 200 / 3),  # A1 + P1 right party of A1, A2, P1
	"d": (2, 0, None, 300.30, None, 100.0, 100.0),
	"c": (3, 1, 0.0, 70.00, None, 100.0, 0.0),
	"b": (4, 3, 100 / 3, 0.0, 20.0, 100 / 3, 50.0),
}
FIELDS = (
	"rank",
	"cases_active",
	"success_rate",
	"recovered_amount",
	"avg_cycle_days",
	"ptp_kept_rate",
	"right_party_rate",
)


def _mine(result: dict, people: frappe._dict) -> list[dict]:
	ours = {people[key]: key for key in "abcd"}
	return [dict(r, key=ours[r["collector"]]) for r in result["data"] if r["collector"] in ours]


def test_collector_performance_sums_each_collector_by_hand(collectors):
	result = collector_performance.get_data({"company": COMPANY, "from_date": START, "to_date": END})
	rows = _mine(result, collectors)
	# the ranks are over every collector of the site in the period: ours keep their order
	assert [r["key"] for r in rows] == ["a", "d", "c", "b"]
	for row in rows:
		expected = dict(zip(FIELDS, EXPECTED[row["key"]], strict=True))
		expected.pop("rank")
		for field, value in expected.items():
			if value is None:
				assert row[field] is None, (row["key"], field, row[field])
			else:
				assert row[field] == pytest.approx(value, rel=1e-12), (row["key"], field, row[field])
		assert isinstance(row["cases_active"], int)
	assert {r["key"]: r["pl_team"] for r in rows} == {
		"a": "_Test PLK Team 1",
		"b": "_Test PLK Team 1",
		"c": "_Test PLK Team 2",
		"d": "_Test PLK Team 2",
	}

	# the KPI actuals of the same period (the engine on the loaded frames) are the same numbers
	cache = FrameCache(Window(_d(START), _d(END)))
	people = [collectors[key] for key in "abcd"]
	subjects = pd.DataFrame({"subject": people, "employee": people, "from_date": pd.NaT, "to_date": pd.NaT})
	by_key = {r["key"]: r for r in rows}
	for field, code in (
		("success_rate", "collection_success_rate"),
		("recovered_amount", "recovered_amount"),
		("avg_cycle_days", "avg_collection_cycle_days"),
		("ptp_kept_rate", "ptp_kept_rate"),
		("right_party_rate", "right_party_contact_rate"),
	):
		kpi = compute_metric(code, cache, subjects)
		for key in "abcd":
			value = kpi[collectors[key]]
			got = by_key[key][field]
			if field == "recovered_amount" and key == "b":
				assert value == 0.0 and got == 0.0
			elif pd.isna(value):
				assert got is None, (key, code)
			else:
				assert got == pytest.approx(value, rel=1e-12), (key, code)


def test_collector_performance_filters_by_team_and_collector(collectors):
	base = {"company": COMPANY, "from_date": START, "to_date": END}
	team = collector_performance.get_data({**base, "pl_team": "_Test PLK Team 2"})
	assert [(r["collector"], r["rank"], r["recovered_amount"]) for r in team["data"]] == [
		(collectors.d, 1, pytest.approx(300.30)),
		(collectors.c, 2, pytest.approx(70.00)),
	]
	summary = {s["label"]: s["value"] for s in team["summary"]}
	assert summary["Collectors"] == 2
	assert summary["Total Recovered"] == pytest.approx(370.30)
	assert summary["Mean Success Rate (%)"] == 0.0  # D has no case: only C's 0 %
	one = collector_performance.get_data({**base, "collector": collectors.b})["data"]
	assert [(r["collector"], r["rank"], r["cases_active"]) for r in one] == [(collectors.b, 1, 3)]
	# September 2025: C held C6 (no success in the month), but joined his team only in 2026
	september = {**base, "from_date": "2025-09-01", "to_date": "2025-09-30"}
	alone = collector_performance.get_data({**september, "collector": collectors.c})["data"]
	assert [(r["rank"], r["cases_active"], r["success_rate"], r["recovered_amount"]) for r in alone] == [
		(1, 1, 0.0, 0.0)
	]
	assert collector_performance.get_data({**september, "pl_team": "_Test PLK Team 2"})["data"] == []


# ------------------------------------------------------------------------------------ Service Level


def test_service_level_reads_fractional_datetimes_by_hand():
	make_company()
	s1, s2 = make_employee("_Test PLK Agent 1"), make_employee("_Test PLK Agent 2")
	tickets = [
		# name, agent, channel, opened_on, first_response_on, resolved_on
		(
			"T1",
			s1,
			"Phone",
			"2026-04-01 00:00:00.250000",
			"2026-04-01 00:10:30.750000",
			"2026-04-02 10:00:00",
		),
		("T2", s1, "App", "2026-06-30 23:59:59.999999", None, "2026-07-01 00:00:00"),  # resolved too late
		("T3", s1, "Phone", "2026-05-10 09:00:00", "2026-05-10 08:59:00", "2026-05-11 09:00:00"),  # bad
		("T4", s1, "Phone", "2026-05-11 09:00:00", "2026-05-11 09:20:00", None),
		("T5", s2, "Email", "2026-04-15 12:00:00", "2026-04-15 12:03:00", "2026-06-30 23:59:59.500000"),
		("T6", s2, "Email", "2026-03-31 23:59:59.999999", "2026-04-01 00:00:01", None),  # before
		("T7", s2, "Email", "2026-07-01 00:00:00", "2026-07-01 00:01:00", None),  # after
	]
	insert_rows(
		"PL Service Ticket",
		["name", "agent", "channel", "opened_on", "first_response_on", "resolved_on"],
		[
			(P + n, who, channel, _t(o), _t(r) if r else None, _t(x) if x else None)
			for n, who, channel, o, r, x in tickets
		],
	)
	feedback = [
		# name, employee, ticket, given_on, csat, nps
		("F1", s1, "T1", "2026-04-02", 4, "9"),
		("F2", s1, "T3", "2026-06-30", 2, "5"),
		("F3", s2, "T5", "2026-07-01", 1, "0"),  # after the period
		("F4", s2, None, "2026-04-01", 5, None),
	]
	insert_rows(
		"PL Customer Feedback",
		["name", "employee", "ticket", "given_on", "csat", "nps"],
		[(P + n, who, P + t if t else None, _d(on), csat, nps) for n, who, t, on, csat, nps in feedback],
	)
	result = service_level.get_data({"company": COMPANY, "from_date": START, "to_date": END})
	rows = {r["agent"]: r for r in result["data"] if r["agent"] in (s1, s2)}
	t1 = (10 * 60 + 30.5) / 60  # 10 min 30.5 s
	assert (rows[s1]["tickets"], rows[s1]["resolved"], rows[s1]["responses"]) == (4, 2, 2)
	assert rows[s1]["resolution_rate"] == 50.0
	assert rows[s1]["first_response_mean"] == pytest.approx((t1 + 20.0) / 2, rel=1e-12)
	assert rows[s1]["first_response_median"] == pytest.approx((t1 + 20.0) / 2, rel=1e-12)
	assert rows[s1]["first_response_p90"] == pytest.approx(t1 + 0.9 * (20.0 - t1), rel=1e-12)
	assert (rows[s1]["csat"], rows[s1]["nps"]) == (60.0, 0.0)
	assert (rows[s2]["tickets"], rows[s2]["resolved"], rows[s2]["responses"]) == (1, 1, 1)
	assert rows[s2]["resolution_rate"] == 100.0
	assert rows[s2]["first_response_p90"] == pytest.approx(3.0, rel=1e-12)
	assert (rows[s2]["csat"], rows[s2]["nps"]) == (100.0, None)
	# one agent's own view through the filter: the summary is his
	mine = service_level.get_data({"company": COMPANY, "from_date": START, "to_date": END, "agent": s1})
	summary = {s["label"]: s["value"] for s in mine["summary"]}
	assert summary["Tickets"] == 4
	assert summary["Overall Resolution Rate (%)"] == 50.0
	assert summary["Median First Response (Minutes)"] == pytest.approx((t1 + 20.0) / 2, abs=0.05)
	assert summary["NPS"] == 0.0


# ------------------------------------------------------------------------- Early Warning Effectiveness


def test_first_npl_dates_follow_every_classification_by_hand():
	make_company()
	snapshots = {
		"E1": [("2026-01-31", "Normal"), ("2026-04-30", "Substandard"), ("2026-05-31", "Doubtful")],
		"E2": [("2026-02-28", "Substandard"), ("2026-03-31", "Normal"), ("2026-05-31", "Substandard")],
		"E3": [("2026-03-31", "Doubtful"), ("2026-04-30", "Loss")],  # NPL before the start
		"E4": [("2026-06-30", "Loss"), ("2026-05-31", "Doubtful")],
		"E5": [("2026-04-30", "Special Mention")],
		"E6": [("2026-08-31", "Substandard")],  # after the period: kept for lead times
	}
	_loans([P + loan for loan in snapshots])
	insert_rows(
		"PL Loan Snapshot",
		["name", "loan", "as_of_date", "outstanding", "classification"],
		[
			(f"{P}{loan}-{day}", P + loan, _d(day), 1000.0, cls)
			for loan, rows in snapshots.items()
			for day, cls in rows
		],
	)
	expected = {
		P + "E1": pd.Timestamp("2026-04-30"),
		P + "E4": pd.Timestamp("2026-05-31"),
		P + "E6": pd.Timestamp("2026-08-31"),
	}
	for filters in ({}, {"company": COMPANY}):
		first = early_warning_effectiveness.load_first_npl(filters, _d(START))
		assert first["first_npl_on"].dtype.kind == "M"
		ours = first[first["loan"].str.startswith(P)]
		assert dict(zip(ours["loan"], ours["first_npl_on"], strict=True)) == expected, filters
	other = early_warning_effectiveness.load_first_npl({"company": "_Test PLK No Such Company"}, _d(START))
	assert not other["loan"].str.startswith(P).any()


def test_leaders_see_the_people_of_their_teams_by_membership_dates():
	"""A team leader sees in the post-loan reports the people who were in his teams during the period, by
	their membership dates: not somebody who left before it, nor somebody who joins after it."""
	from postloan_performance.services.access import visible_employees
	from tests.integration.factories import make_user

	make_company()
	lead_user = make_user("_test.dates.lead@plp.test", ["PL Team Leader"])
	lead = make_employee("_Test PLK Dates Lead", user=lead_user)
	stayed, left, joins = (make_employee(f"_Test PLK Dates {n}") for n in ("Stayed", "Left", "Joins"))
	make_team(
		"_Test PLK Dates Team",
		"Collection",
		[
			(lead, "2025-01-01", None),
			(stayed, "2025-01-01", None),
			(left, "2025-01-01", "2026-03-31"),
			(joins, "2026-07-01", None),
		],
		team_lead=lead,
	)
	q2 = visible_employees(lead_user, dt.date(2026, 4, 1), dt.date(2026, 6, 30))
	assert q2 == {lead, stayed}
	q1 = visible_employees(lead_user, dt.date(2026, 1, 1), dt.date(2026, 3, 31))
	assert q1 == {lead, stayed, left}
	assert visible_employees(lead_user, dt.date(2026, 6, 1), dt.date(2026, 7, 31)) == {lead, stayed, joins}
