"""KPI Health maths (engine/kpi_health.py) on hand-worked numbers."""

import math

import pytest

from postloan_performance.engine.kpi_health import (
	EASIER,
	HARDER,
	KpiLine,
	kpi_health,
	modal_share,
	pearson,
	share,
)

HIGHER, LOWER = "Higher is Better", "Lower is Better"


def line(kpi, appraisal, actual, score, target, direction=HIGHER, cap=120.0):
	return KpiLine(kpi, appraisal, actual, score, target, direction, cap)


@pytest.fixture
def three_kpis():
	"""A: spread scores; B: everyone beats a lenient target at the cap; C: everyone misses at zero."""
	return [
		# A (Higher is Better, target 50): actual 40, 50, 60, 70 and one line without data
		line("A", "a1", 40, 0, 50),
		line("A", "a2", 50, 100, 50),
		line("A", "a3", 60, 110, 50),
		line("A", "a4", 70, 120, 50),
		line("A", "a5", None, 0, 50),
		# B (Lower is Better, target 20, no stretch so the cap is 100): everyone well under target
		line("B", "a1", 10, 100, 20, LOWER, 100),
		line("B", "a2", 12, 100, 20, LOWER, 100),
		line("B", "a3", 14, 100, 20, LOWER, 100),
		line("B", "a4", 16, 100, 20, LOWER, 100),
		# C (Higher is Better, target 10): nobody gets there
		line("C", "a1", 3, 0, 10),
		line("C", "a2", 1, 0, 10),
		line("C", "a3", 2, 0, 10),
	]


def by_kpi(results):
	return {r.kpi: r for r in results}


def test_spread_kpi_is_healthy(three_kpis):
	a = by_kpi(kpi_health(three_kpis))["A"]
	assert (a.lines, a.lines_with_data) == (5, 4)
	# scores 0, 100, 110, 120: mean 82.5; squared deviations 6806.25 + 306.25 + 756.25 + 1406.25 = 9275
	assert a.mean_score == pytest.approx(82.5)
	assert a.stdev_score == pytest.approx(math.sqrt(9275 / 3))
	assert a.share_at_cap == pytest.approx(25.0)  # 120 of 4
	assert a.share_at_zero == pytest.approx(25.0)  # 0 of 4 (the no-data line does not count)
	assert a.share_better_than_target == pytest.approx(50.0)  # 60, 70 > 50
	assert a.share_meeting_target == pytest.approx(75.0)  # 50, 60, 70 >= 50
	assert a.modal_score_share == pytest.approx(25.0)
	assert a.current_target == 50
	assert a.suggested_target == pytest.approx(55.0)  # median of 40, 50, 60, 70
	assert a.suggestion == HARDER  # raising a Higher-is-Better target to 55 asks more
	assert not (a.does_not_discriminate or a.target_everyone_beats or a.target_everyone_misses)


def test_target_everyone_beats_and_flat_scores(three_kpis):
	b = by_kpi(kpi_health(three_kpis))["B"]
	assert b.direction == LOWER
	assert b.stdev_score == 0
	assert b.share_at_cap == 100.0  # the cap is the line's own: 100 without stretch
	assert b.share_at_zero == 0.0
	assert b.share_better_than_target == 100.0  # all under 20
	assert b.does_not_discriminate and b.target_everyone_beats and not b.target_everyone_misses
	assert b.suggested_target == pytest.approx(13.0)  # median of 10, 12, 14, 16
	assert b.suggestion == HARDER  # lowering a Lower-is-Better target asks more


def test_target_everyone_misses(three_kpis):
	c = by_kpi(kpi_health(three_kpis))["C"]
	assert c.share_meeting_target == 0.0 and c.share_at_zero == 100.0
	assert c.target_everyone_misses and not c.target_everyone_beats
	assert c.does_not_discriminate  # everyone scored 0
	assert c.suggested_target == 2 and c.suggestion == EASIER


def test_correlations_pair_lines_by_appraisal(three_kpis):
	results = by_kpi(kpi_health(three_kpis))
	# A and B over a1..a4: (40, 50, 60, 70) vs (10, 12, 14, 16) is exactly linear
	assert results["A"].correlations["B"].r == pytest.approx(1.0)
	assert results["A"].correlations["B"].pairs == 4
	# A and C over a1..a3: deviations (-10, 0, 10) and (1, -1, 0): r = -10 / sqrt(200 × 2) = -0.5
	assert results["A"].correlations["C"].r == pytest.approx(-0.5)
	assert results["C"].correlations["B"].r == pytest.approx(-0.5)  # (-2, 0, 2)·(1, -1, 0) / sqrt(8 × 2)
	assert results["A"].strongest.kpi == "B"
	assert results["B"].strongest.kpi == "A"
	# C: |r| = 0.5 with both A and B; the tie goes to the first code
	assert (results["C"].strongest.kpi, results["C"].strongest.r) == ("A", pytest.approx(-0.5))


def test_correlation_needs_enough_pairs():
	lines = [line("A", "a1", 1, 60, 5), line("A", "a2", 2, 70, 5), line("B", "a1", 3, 60, 5)]
	lines.append(line("B", "a2", 4, 80, 5))
	results = by_kpi(kpi_health(lines))
	assert results["A"].correlations == {} and results["A"].strongest is None  # 2 pairs < 3
	assert by_kpi(kpi_health(lines, min_pairs=2))["A"].correlations["B"].r == pytest.approx(1.0)


def test_most_lines_at_one_score_does_not_discriminate():
	# scores 100, 100, 100, 100, 60: stdev sqrt(1280 / 4) ≈ 17.9 is not flat, but 80 % share one score
	scores = [100, 100, 100, 100, 60]
	lines = [line("K", f"a{i}", 50 + i, s, 50) for i, s in enumerate(scores)]
	k = kpi_health(lines)[0]
	assert k.stdev_score == pytest.approx(math.sqrt(320))
	assert k.modal_score_share == pytest.approx(80.0)
	assert k.does_not_discriminate
	# 3 of 5 at one score (60 %) with the same spread is fine
	lines = [line("K", f"a{i}", 50 + i, s, 50) for i, s in enumerate([100, 100, 100, 80, 60])]
	assert not kpi_health(lines)[0].does_not_discriminate


def test_small_spread_does_not_discriminate():
	# scores 98, 100, 102, 104: stdev sqrt(20 / 3) ≈ 2.58 < 5
	lines = [line("K", f"a{i}", 50 + i, s, 50) for i, s in enumerate([98, 100, 102, 104])]
	k = kpi_health(lines)[0]
	assert k.stdev_score == pytest.approx(math.sqrt(20 / 3))
	assert k.does_not_discriminate


def test_boundaries_of_the_target_flags():
	# 9 of 10 strictly better than target: 90 % -> everyone beats; 1 of 10 meeting: 10 % -> everyone misses
	beats = [line("K", f"a{i}", 60 if i else 50, 100, 50) for i in range(10)]
	k = kpi_health(beats)[0]
	assert k.share_better_than_target == pytest.approx(90.0) and k.target_everyone_beats
	misses = [line("K", f"a{i}", 50 if i == 0 else 40, 60, 50) for i in range(10)]
	k = kpi_health(misses)[0]
	assert k.share_meeting_target == pytest.approx(10.0) and k.target_everyone_misses
	# 8 of 10 better is not "everyone"
	k = kpi_health([line("K", f"a{i}", 60 if i > 1 else 50, 100, 50) for i in range(10)])[0]
	assert k.share_better_than_target == pytest.approx(80.0) and not k.target_everyone_beats


def test_at_cap_tolerates_float_noise_and_uses_the_line_cap():
	lines = [
		line("K", "a1", 80, 120 - 1e-12, 50),  # at the default cap despite float noise
		line("K", "a2", 80, 100, 50, cap=100),  # a line without stretch is at its cap at 100
		line("K", "a3", 80, 100, 50),  # 100 of 120 is not at the cap
		line("K", "a4", 80, 1e-12, 50),  # at zero
	]
	k = kpi_health(lines)[0]
	assert k.share_at_cap == pytest.approx(50.0)
	assert k.share_at_zero == pytest.approx(25.0)


def test_lower_is_better_at_target_meets_but_does_not_beat():
	lines = [line("K", "a1", 20, 100, 20, LOWER), line("K", "a2", 25, 80, 20, LOWER)]
	k = kpi_health(lines)[0]
	assert k.share_meeting_target == pytest.approx(50.0)
	assert k.share_better_than_target == 0.0
	assert k.suggested_target == pytest.approx(22.5) and k.suggestion == EASIER


def test_too_few_lines_raise_no_flag():
	k = kpi_health([line("K", "a1", 99, 120, 50), line("K", "a2", None, 0, 50)])[0]
	assert k.lines_with_data == 1 and k.stdev_score is None
	assert not (k.does_not_discriminate or k.target_everyone_beats or k.target_everyone_misses)
	k = kpi_health([line("K", "a1", None, 0, 50)])[0]
	assert k.mean_score is None and k.share_at_cap is None and k.suggested_target is None
	assert k.suggestion is None


def test_lines_as_mappings_and_nan_as_no_data():
	lines = [
		{"kpi": "K", "appraisal": "a1", "actual": float("nan"), "score": 0, "target": 50},
		{"kpi": "K", "appraisal": "a2", "actual": 60, "score": 110, "target": 50, "cap": None},
		{"kpi": "K", "appraisal": "a3", "actual": 70, "score": 120, "target": None},
	]
	k = kpi_health(lines)[0]
	assert (k.lines, k.lines_with_data) == (3, 2)
	assert k.share_at_cap == pytest.approx(50.0)  # cap None -> the default 120
	assert k.share_better_than_target == 100.0  # a3 has no target and is left out
	assert k.current_target == 50


def test_helpers():
	assert share(1, 4) == 25.0 and share(0, 0) is None
	assert modal_share([]) is None
	assert modal_share([1.0, 1.0000000001, 2.0]) == pytest.approx(200 / 3)
	# r of (1, 2, 3) and (2, 4, 7): deviations (-1, 0, 1), (-7/3, -1/3, 8/3); sxy = 5, sxx = 2, syy = 38/3
	assert pearson([1, 2, 3], [2, 4, 7]) == pytest.approx(5 / math.sqrt(2 * 38 / 3))
	assert pearson([1, 1, 1], [1, 2, 3]) is None
	assert pearson([1], [2]) is None
	with pytest.raises(ValueError):
		pearson([1, 2], [1])
