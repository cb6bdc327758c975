"""engine.assignment: round robin, workload balanced, performance weighted, strategy rules, queue priority."""

import numpy as np
import pytest

from postloan_performance.engine import assignment as a

C = a.Candidate


def test_round_robin_continues_after_the_last_collector():
	people = [C("E3"), C("E1"), C("E2")]
	assert a.round_robin(4, people).collectors == ["E1", "E2", "E3", "E1"]
	assert a.round_robin(4, people, last="E2").collectors == ["E3", "E1", "E2", "E3"]
	# the last collector left the team: the turn goes to the next key after him
	assert a.round_robin(2, [C("E1"), C("E3")], last="E2").collectors == ["E3", "E1"]
	assert a.round_robin(2, [C("E1"), C("E3")], last="E9").collectors == ["E1", "E3"]


def test_round_robin_needs_candidates():
	with pytest.raises(a.AssignmentError) as e:
		a.round_robin(1, [])
	assert e.value.code == "no_candidates"


def test_workload_balanced_hand_worked():
	# reference = (2000 + 0 + 500 + 1000 + 300) / (3 open + 2 new) = 760
	# loads: A = ½·2 + ½·2000/760 = 2.3158; B = 0; C = ½·1 + ½·500/760 = 0.8289
	# 1000 (largest first) -> B (0), B += ½ + ½·1000/760 = 1.1579; 300 -> C (0.8289 < 1.1579 < 2.3158)
	people = [C("A", 2, 2000.0), C("B", 0, 0.0), C("C", 1, 500.0)]
	result = a.workload_balanced([300.0, 1000.0], people)
	assert result.collectors == ["C", "B"]
	assert result.details["reference_amount"] == 760.0
	loads = {p["key"]: p["load"] for p in result.candidates}
	assert loads == pytest.approx({"A": 2.3158, "B": 0.0, "C": 0.8289}, abs=1e-4)


def test_workload_balanced_evens_out_counts_without_amounts():
	people = [C("A", 3), C("B", 0), C("C", 1)]
	result = a.workload_balanced([0.0] * 5, people)
	# everyone ends with 3 open cases: B gets 3, C 2, A none
	assert sorted(result.collectors) == ["B", "B", "B", "C", "C"]


def test_performance_shares_proportional_inside_bounds():
	shares = a.performance_shares([90, 60, 30])
	assert shares == pytest.approx([0.5, 1 / 3, 1 / 6])
	result = a.performance_weighted(6, [C("A", score=90), C("B", score=60), C("C", score=30)], seed=1)
	assert result.counts() == {"A": 3, "B": 2, "C": 1}


def test_performance_shares_cap_and_floor():
	# equal share 1/4; cap 150 % = 0.375; the rest split equally (0.2083 each, above the 0.125 floor)
	shares = a.performance_shares([100, 1, 1, 1], floor_pct=50, cap_pct=150)
	assert shares == pytest.approx([0.375, 0.625 / 3, 0.625 / 3, 0.625 / 3])
	# floor: equal share 1/3, floor 50 % = 1/6 for the zero score; the others split 5/6
	shares = a.performance_shares([100, 100, 0])
	assert shares == pytest.approx([5 / 12, 5 / 12, 1 / 6])
	# 8 cases: exact 3, 1.667 × 3 -> 3, 1, 1, 1 and two by largest remainder (ties: key order)
	result = a.performance_weighted(
		8, [C("A", score=100), C("B", score=1), C("C", score=1), C("D", score=1)], 50, 150, seed=3
	)
	assert result.counts() == {"A": 3, "B": 2, "C": 2, "D": 1}


def test_performance_weighted_missing_scores_count_as_the_mean():
	shares = a.performance_shares([80, None, 40])
	assert shares == pytest.approx([80 / 180, 60 / 180, 40 / 180])
	assert a.performance_shares([None, None]) == pytest.approx([0.5, 0.5])


def test_performance_weighted_is_deterministic_given_a_seed():
	people = [C(f"E{i}", score=s) for i, s in enumerate([95, 80, 70, 60, 40])]
	one = a.performance_weighted(50, people, seed=42)
	two = a.performance_weighted(50, people, seed=42)
	other = a.performance_weighted(50, people, seed=43)
	assert one.collectors == two.collectors
	assert one.counts() == other.counts()
	assert one.collectors != other.collectors
	counts = one.counts()
	assert counts["E0"] >= counts["E1"] >= counts["E2"] >= counts["E3"] >= counts["E4"]
	equal = 50 / 5
	assert all(0.5 * equal - 1 < c < 2 * equal + 1 for c in counts.values())


def test_floor_and_cap_must_bracket_the_equal_share():
	with pytest.raises(a.AssignmentError) as e:
		a.performance_shares([1, 2], floor_pct=120, cap_pct=200)
	assert e.value.code == "floor_cap"
	with pytest.raises(a.AssignmentError):
		a.performance_shares([1, 2], floor_pct=50, cap_pct=90)


def test_assign_dispatches_by_method_name():
	people = [C("A", 0, 0.0, 50), C("B", 5, 9000.0, 90)]
	assert a.assign("Round Robin", [1, 2, 3], people).collectors == ["A", "B", "A"]
	assert a.assign("Workload Balanced", [100.0], people).collectors == ["A"]
	assert len(a.assign("Performance Weighted", [1.0] * 7, people, seed=1).collectors) == 7
	with pytest.raises(a.AssignmentError):
		a.assign("Lottery", [1.0], people)


def R(low, high, method="Round Robin", floor=None, cap=None):
	return a.RuleRange(low, high, method, floor, cap)


def test_strategy_rules_cover_m1_to_m6_once():
	a.validate_rules([R("M1", "M2"), R("M3", "M6+", "Workload Balanced")])
	cases = [
		([], "no_rules"),
		([R("M1", "M2")], "gap"),
		([R("M1", "M3"), R("M3", "M6+")], "overlap"),
		([R("M2", "M1"), R("M3", "M6+")], "bucket_order"),
		([R("M0", "M6+")], "unknown_bucket"),
		([R("M1", "M6+", "Coin Toss")], "unknown_method"),
		([R("M1", "M6+", "Performance Weighted", 120, 200)], "floor_cap"),
	]
	for rules, code in cases:
		with pytest.raises(a.AssignmentError) as e:
			a.validate_rules(rules)
		assert e.value.code == code, rules
	rules = [R("M1", "M2"), R("M3", "M6+")]
	assert [a.rule_for_bucket(rules, b) for b in range(7)] == [-1, 0, 0, 1, 1, 1, 1]


def test_queue_priority_hand_worked():
	# overdue 999 -> 10·log10(1000) = 30; M3 -> 30; 2 broken -> 30; propensity 0.5 -> 15
	parts = a.queue_priority([999.0, 99.0], [3, 1], [2, 5], [0.5, np.nan])
	assert parts["overdue_points"].tolist() == pytest.approx([30.0, 20.0])
	assert parts["bucket_points"].tolist() == [30.0, 10.0]
	assert parts["broken_promise_points"].tolist() == [30.0, 45.0]  # at most three count
	assert parts["propensity_points"].tolist() == [15.0, 0.0]
	assert parts["priority"].tolist() == pytest.approx([105.0, 75.0])
	off = a.queue_priority([999.0], [3], [2])
	assert off["priority"].tolist() == pytest.approx([90.0])
