"""Hand-worked cases for engine.payout. The arithmetic is in the comments."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from postloan_performance.engine import payout as p

START, END = date(2026, 1, 1), date(2026, 3, 31)  # 90 days
HALF_START = date(2026, 2, 15)  # 2026-02-15 .. 03-31 = 14 + 31 = 45 days


def people(rows):
	return pd.DataFrame(rows, columns=["employee", "team", "layer", "grade", "total_score"])


def members(rows):
	return pd.DataFrame(rows, columns=["employee", "team", "from_date", "to_date"])


def full(people_frame):
	return members([(r.employee, r.team, date(2025, 1, 1), None) for r in people_frame.itertuples()])


# ------------------------------------------------------------------------------------ pool
def test_period_days_counts_both_ends():
	assert p.period_days(START, END) == 90
	assert p.period_days(START, START) == 1


def test_fixed_pool_ignores_headcount():
	assert p.pool_amount(p.PayoutRules(pool_amount=1000), 7) == 1000


def test_target_pool_is_target_times_employees():
	rules = p.PayoutRules(pool_basis=p.PER_EMPLOYEE, target_amount=250.5)
	assert p.pool_amount(rules, 4) == pytest.approx(1002.0)


# ------------------------------------------------------------------------------------ days
def test_membership_days_clips_to_period_and_open_end():
	frame = members(
		[
			("e1", "T", date(2025, 6, 1), None),  # whole period: 90
			("e2", "T", HALF_START, None),  # 45
			("e3", "T", date(2025, 6, 1), date(2026, 1, 31)),  # January: 31
			("e4", "T", date(2026, 4, 1), None),  # after the period: 0 (dropped)
		]
	)
	days = p.membership_days(frame, START, END).set_index("employee")["days"].to_dict()
	assert days == {"e1": 90, "e2": 45, "e3": 31}


def test_membership_days_merges_overlapping_rows_and_adds_gaps():
	frame = members(
		[
			("e1", "T", date(2026, 1, 1), date(2026, 1, 20)),
			("e1", "T", date(2026, 1, 10), date(2026, 1, 31)),  # overlaps: Jan 1..31 = 31
			("e1", "T", date(2026, 3, 1), date(2026, 3, 10)),  # 10 more
		]
	)
	assert p.membership_days(frame, START, END)["days"].tolist() == [41]


def test_membership_days_keeps_teams_apart():
	frame = members([("e1", "A", date(2026, 1, 1), date(2026, 1, 31)), ("e1", "B", date(2026, 2, 1), None)])
	days = p.membership_days(frame, START, END).set_index("team")["days"].to_dict()
	assert days == {"A": 31, "B": 59}


# ------------------------------------------------------------------------------------ coefficients
@pytest.mark.parametrize(
	("grade", "expected"), [("S", 1.5), ("A", 1.2), ("B", 1.0), ("C", 0.7), ("D", 0.0), (" A ", 1.2)]
)
def test_default_coefficients(grade, expected):
	assert p.coefficient_of(grade, p.DEFAULT_COEFFICIENTS) == expected


@pytest.mark.parametrize("grade", [None, float("nan"), "", "X"])
def test_unknown_grade_weighs_nothing(grade):
	assert p.coefficient_of(grade, p.DEFAULT_COEFFICIENTS) == 0.0


@pytest.mark.parametrize(
	("final", "calibrated", "grade", "expected"),
	[
		("A", "B", "C", "A"),
		(None, "B", "C", "B"),
		("", "", "C", "C"),
		(None, None, None, None),
		("", "", "", None),
	],
)
def test_grade_used_is_final_then_calibrated_then_bands(final, calibrated, grade, expected):
	assert p.grade_used(final, calibrated, grade) == expected


# ------------------------------------------------------------------------------------ rounding
def test_allocate_thirds_gives_the_cent_to_the_first_key():
	# 100 / 3 = 33.333..: floors 33.33 × 3 = 99.99, one cent left; equal remainders -> key "a"
	out = p.allocate(pd.Series([1.0, 1.0, 1.0], index=[0, 1, 2]), 100, 2, keys=pd.Series(["a", "b", "c"]))
	assert out.tolist() == [33.34, 33.33, 33.33]
	assert round(out.sum(), 2) == 100


def test_allocate_largest_remainder_wins():
	# quotas 10.004, 10.006, 9.99 of 30 -> floors 10.00, 10.00, 9.99 (29.99); 0.6 > 0.4 -> second
	out = p.allocate(pd.Series([10.004, 10.006, 9.99]), 30, 2)
	assert out.tolist() == [10.0, 10.01, 9.99]


def test_allocate_is_deterministic_under_reordering():
	quotas = pd.Series([1.0] * 7, index=list("gfedcba"))
	out = p.allocate(quotas, 10, 2, keys=pd.Series(list("gfedcba"), index=list("gfedcba")))
	# 10 / 7 = 1.428571..: floors 1.42 × 7 = 9.94, six cents left -> a..f, not g
	assert out.to_dict() == {"g": 1.42, **{k: 1.43 for k in "fedcba"}}


def test_allocate_zero_precision():
	# 10 over 3 in whole units: 3, 3, 3 + 1 to the first key
	assert p.allocate(pd.Series([1.0, 1.0, 1.0]), 10, 0).tolist() == [4.0, 3.0, 3.0]


def test_allocate_all_zero_quotas_pay_nothing():
	assert p.allocate(pd.Series([0.0, 0.0]), 10, 2).tolist() == [0.0, 0.0]


# ------------------------------------------------------------------------------------ bounded shares
def test_bounded_shares_without_binding_bounds_are_proportional():
	raw = pd.Series([60.0, 40.0])
	equal = pd.Series([50.0, 50.0])
	assert p.bounded_shares(raw, equal, 0.5, 2, 100).tolist() == pytest.approx([60, 40])


def test_bounded_shares_floor_lifts_the_weak_team_and_renormalises():
	# raw 90 : 10 of 100 -> 90, 10; floor 0.5 × 50 = 25 pins team 2 at 25; team 1 gets 100 - 25 = 75
	shares = p.bounded_shares(pd.Series([90.0, 10.0]), pd.Series([50.0, 50.0]), 0.5, 2, 100)
	assert shares.tolist() == pytest.approx([75, 25])


def test_bounded_shares_cap_and_second_round():
	# three teams, equal 100 each of 300, raw 8:1:1 -> 240, 30, 30; cap 1.5 × 100 = 150 pins team 1;
	# 150 left for teams 2 and 3 at 1:1 -> 75 each (above floor 0.5 × 100 = 50)
	shares = p.bounded_shares(pd.Series([8.0, 1.0, 1.0]), pd.Series([100.0] * 3), 0.5, 1.5, 300)
	assert shares.tolist() == pytest.approx([150, 75, 75])


def test_bounded_shares_zero_weights_fall_back_to_equal():
	shares = p.bounded_shares(pd.Series([0.0, 0.0]), pd.Series([30.0, 70.0]), 0.5, 2, 100)
	assert shares.tolist() == pytest.approx([30, 70])


# ------------------------------------------------------------------------------------ the whole payout
def test_equal_split_by_heads_then_grades():
	# teams A (2 heads) and B (1 head) of 3: A 2/3 of 900 = 600, B 300.
	# A: S 1.5 and B 1.0 -> 600 × 1.5/2.5 = 360, 600 × 1/2.5 = 240. B: its one member takes 300.
	frame = people(
		[
			("a1", "A", "Collection", "S", 90),
			("a2", "A", "Collection", "B", 70),
			("b1", "B", "Risk Control", "C", 60),
		]
	)
	result = p.compute_payout(frame, full(frame), START, END, p.PayoutRules(pool_amount=900))
	amounts = result.lines.set_index("employee")["amount"].to_dict()
	assert amounts == {"a1": 360.0, "a2": 240.0, "b1": 300.0}
	assert result.teams.set_index("team")["amount"].to_dict() == {"A": 600.0, "B": 300.0}
	assert result.pool == 900 and result.unallocated == 0


def test_weighted_split_with_floor():
	# mean scores A 90, B 10, one head each; equal shares 500 / 500; raw 90:10 -> 900, 100;
	# floor 0.5 × 500 = 250 lifts B to 250, A gets 750.
	frame = people([("a1", "A", "Collection", "B", 90), ("b1", "B", "Collection", "B", 10)])
	rules = p.PayoutRules(pool_amount=1000, team_split=p.WEIGHTED)
	result = p.compute_payout(frame, full(frame), START, END, rules)
	assert result.teams.set_index("team")["amount"].to_dict() == {"A": 750.0, "B": 250.0}


def test_weighted_split_with_cap():
	# four teams, one head each, equal 250; scores 100, 10, 10, 10 -> raw 100/130 × 1000 = 769.2 > cap
	# 2 × 250 = 500: A pinned at 500; B, C, D share 500 at 1:1:1 = 166.666.. each (>= floor 125).
	# Rounding: 166.66 × 3 = 499.98, two cents to the first keys B and C.
	frame = people(
		[
			("a1", "A", "Collection", "B", 100),
			("b1", "B", "Collection", "B", 10),
			("c1", "C", "Collection", "B", 10),
			("d1", "D", "Collection", "B", 10),
		]
	)
	rules = p.PayoutRules(pool_amount=1000, team_split=p.WEIGHTED)
	result = p.compute_payout(frame, full(frame), START, END, rules)
	assert result.teams.set_index("team")["amount"].to_dict() == {
		"A": 500.0,
		"B": 166.67,
		"C": 166.67,
		"D": 166.66,
	}
	assert round(result.lines["amount"].sum(), 2) == 1000


def test_pro_rating_by_days_of_membership():
	# a1 whole period (fte 1), a2 from Feb 15 (45/90 = 0.5), both grade B, one team: 300 at 1 : 0.5
	frame = people([("a1", "A", "Collection", "B", 80), ("a2", "A", "Collection", "B", 80)])
	memberships = members([("a1", "A", date(2025, 1, 1), None), ("a2", "A", HALF_START, None)])
	result = p.compute_payout(frame, memberships, START, END, p.PayoutRules(pool_amount=300))
	lines = result.lines.set_index("employee")
	assert lines["days"].to_dict() == {"a1": 90, "a2": 45}
	assert lines["amount"].to_dict() == {"a1": 200.0, "a2": 100.0}


def test_pro_rating_moves_pool_between_teams():
	# team A: one member for half the period (fte 0.5); team B one full member (fte 1): 300 -> 100 : 200
	frame = people([("a1", "A", "Collection", "B", 80), ("b1", "B", "Collection", "B", 80)])
	memberships = members([("a1", "A", HALF_START, None), ("b1", "B", date(2025, 1, 1), None)])
	result = p.compute_payout(frame, memberships, START, END, p.PayoutRules(pool_amount=300))
	assert result.teams.set_index("team")["amount"].to_dict() == {"A": 100.0, "B": 200.0}


def test_grade_d_gets_nothing_and_teammates_take_it():
	frame = people([("a1", "A", "Collection", "A", 80), ("a2", "A", "Collection", "D", 30)])
	result = p.compute_payout(frame, full(frame), START, END, p.PayoutRules(pool_amount=500))
	assert result.lines.set_index("employee")["amount"].to_dict() == {"a1": 500.0, "a2": 0.0}


def test_team_of_only_d_takes_no_share():
	frame = people([("a1", "A", "Collection", "D", 20), ("b1", "B", "Collection", "C", 60)])
	result = p.compute_payout(frame, full(frame), START, END, p.PayoutRules(pool_amount=500))
	assert result.teams.set_index("team")["amount"].to_dict() == {"A": 0.0, "B": 500.0}
	assert result.unallocated == 0


def test_nobody_weighs_anything_leaves_the_pool_unallocated():
	frame = people([("a1", "A", "Collection", "D", 20)])
	result = p.compute_payout(frame, full(frame), START, END, p.PayoutRules(pool_amount=500))
	assert result.lines["amount"].tolist() == [0.0]
	assert result.unallocated == 500 and result.messages == ["no_weight"]


def test_configured_coefficients():
	# S 3, B 1: 400 at 3 : 1 -> 300, 100
	frame = people([("a1", "A", "Collection", "S", 90), ("a2", "A", "Collection", "B", 70)])
	rules = p.PayoutRules(pool_amount=400, coefficients={"S": 3, "B": 1})
	result = p.compute_payout(frame, full(frame), START, END, rules)
	assert result.lines.set_index("employee")["amount"].to_dict() == {"a1": 300.0, "a2": 100.0}


def test_exact_cents_over_many_people():
	# 1,000.01 over 7 teams of 1..7 people with mixed grades: every total is exact to the cent
	rows, grades = [], "SABCAB"
	for t in range(1, 8):
		for i in range(t):
			rows.append((f"e{t}{i}", f"T{t}", "Collection", grades[(t + i) % 6], 50 + t * 5 + i))
	frame = people(rows)
	for split in (p.EQUAL, p.WEIGHTED):
		rules = p.PayoutRules(pool_amount=1000.01, team_split=split)
		result = p.compute_payout(frame, full(frame), START, END, rules)
		assert round(result.lines["amount"].sum(), 2) == 1000.01
		for team in result.teams.itertuples():
			team_lines = result.lines[result.lines["team"] == team.team]
			assert round(team_lines["amount"].sum(), 2) == round(team.share, 2)
		assert ((result.lines["amount"] * 100).round(6) % 1 == 0).all()


def test_target_pool_counts_people_in_scope():
	frame = people([("a1", "A", "Collection", "B", 80), ("a2", "A", "Collection", "B", 80)])
	rules = p.PayoutRules(pool_basis=p.PER_EMPLOYEE, target_amount=1234.5)
	result = p.compute_payout(frame, full(frame), START, END, rules)
	assert result.pool == 2469.0
	assert result.lines["amount"].tolist() == [1234.5, 1234.5]


def test_same_input_in_another_order_gives_the_same_amounts():
	rows = [
		("a1", "A", "Collection", "S", 90),
		("a2", "A", "Collection", "B", 70),
		("a3", "A", "Collection", "B", 70),
	]
	one = p.compute_payout(people(rows), full(people(rows)), START, END, p.PayoutRules(pool_amount=100))
	two = p.compute_payout(people(rows[::-1]), full(people(rows)), START, END, p.PayoutRules(pool_amount=100))
	# 100 at 1.5 : 1 : 1 = 42.857.., 28.571.., 28.571..; floors 42.85 + 28.57 + 28.57 = 99.99; the cent
	# goes to the largest remainder (a1: .7 > .1)
	assert one.lines.set_index("employee")["amount"].to_dict() == {"a1": 42.86, "a2": 28.57, "a3": 28.57}
	assert one.lines.equals(two.lines)


def test_empty_scope_leaves_everything_unallocated():
	result = p.compute_payout(people([]), members([]), START, END, p.PayoutRules(pool_amount=100))
	assert result.lines.empty and result.unallocated == 100


# ------------------------------------------------------------------------------------ no HRMS import
def test_the_app_never_imports_hrms():
	"""The app installs and runs without HRMS: no module imports it (HRMS tables are used by name)."""
	import ast
	from pathlib import Path

	app = Path(__file__).resolve().parents[2] / "postloan_performance"
	offenders = []
	for path in app.rglob("*.py"):
		for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
			names = []
			if isinstance(node, ast.Import):
				names = [a.name for a in node.names]
			elif isinstance(node, ast.ImportFrom):
				names = [node.module or ""]
			offenders += [f"{path.name}: {n}" for n in names if n == "hrms" or n.startswith("hrms.")]
	assert offenders == []


def test_split_teams_equals_allocate_team_by_team():
	"""The vectorised split gives, for every team, what ``allocate`` gives for that team alone."""
	import numpy as np

	rng = np.random.default_rng(7)
	lines = pd.DataFrame(
		{
			"team": [f"T{i % 13}" for i in range(400)],
			"employee": [f"e{i:04d}" for i in range(400)],
			"weight": rng.choice([0.0, 0.35, 0.7, 1.0, 1.2, 1.5], size=400)
			* rng.choice([1.0, 0.5, 0.25], size=400),
		}
	)
	shares = pd.Series({f"T{i}": round(1000 + 37.77 * i, 2) for i in range(13)})
	together = p.split_teams(lines, shares, 2)
	for team, members in lines.groupby("team"):
		alone = p.allocate(members["weight"], shares[team], 2, keys=members["employee"])
		assert together.loc[members.index].tolist() == alone.tolist(), team
		assert round(together.loc[members.index].sum(), 2) == shares[team]
