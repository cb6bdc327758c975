"""Hand-worked cases for engine.scoring (docs/scheme.md, "Line scores"). The arithmetic is in the comments."""

from __future__ import annotations

import math
import pickle

import pandas as pd
import pytest

from postloan_performance.engine import EngineError
from postloan_performance.engine import scoring as s

H = s.HIGHER_IS_BETTER
L = s.LOWER_IS_BETTER


# ------------------------------------------------------------------------------------ validate_targets


@pytest.mark.parametrize(
	("direction", "threshold", "target", "stretch"),
	[
		(H, 80, 100, 120),
		(H, None, 100, None),
		(H, 80, 100, None),
		(H, None, 100, 120),
		(L, 20, 10, 5),
		(L, None, 10, 5),
	],
)
def test_validate_targets_accepts_ordered(direction, threshold, target, stretch):
	assert s.validate_targets(direction, threshold, target, stretch) is None


@pytest.mark.parametrize(
	("direction", "threshold", "target", "stretch"),
	[
		(H, 100, 100, None),  # threshold == target: interpolation would divide by zero
		(H, 80, 100, 100),  # target == stretch
		(H, 110, 100, 120),  # threshold above target
		(H, 80, 100, 90),  # stretch below target
		(L, 5, 10, 20),  # lower is better mirrored the wrong way round
		(L, 20, 10, 10),
		(L, 20, 10, 15),
	],
)
def test_validate_targets_refuses_bad_order(direction, threshold, target, stretch):
	with pytest.raises(s.TargetOrderError) as info:
		s.validate_targets(direction, threshold, target, stretch)
	assert isinstance(info.value, ValueError)
	assert info.value.code == "target_order"
	assert info.value.details["target"] == target


def test_validate_targets_target_presence_and_method():
	with pytest.raises(s.MissingTargetError):
		s.validate_targets(H, 80, None, 120)  # default method Linear needs a target
	with pytest.raises(s.MissingTargetError):
		s.validate_targets(H, None, None, None, method=s.BINARY)
	s.validate_targets(H, None, None, None, method=s.BANDED)  # bands carry their own limits
	s.validate_targets(H, 80, None, 120, method=None)  # order only: 80 < 120 fine
	with pytest.raises(s.TargetOrderError):
		s.validate_targets(H, 120, None, 80, method=None)
	with pytest.raises(s.ConfigError) as info:
		s.validate_targets(H, None, 0, None, method=s.RATIO)
	assert info.value.code == "ratio_target_not_positive"
	with pytest.raises(s.ConfigError) as info:
		s.validate_targets("Bigger", 1, 2, 3)
	assert info.value.code == "invalid_direction"


def test_engine_errors_carry_codes_and_pickle():
	error = s.NoDataError([1, 3])
	clone = pickle.loads(pickle.dumps(error))
	assert isinstance(clone, s.NoDataError) and isinstance(clone, EngineError)
	assert clone.code == "no_data" and clone.lines == [1, 3]
	order = pickle.loads(pickle.dumps(s.TargetOrderError(direction=H, threshold=1, target=1, stretch=None)))
	assert order.code == "target_order" and order.details["threshold"] == 1


# ------------------------------------------------------------------------------------------- linear


# Higher is Better: threshold 80 → 60 points, target 100 → 100, stretch 120 → cap 120.
@pytest.mark.parametrize(
	("actual", "expected"),
	[
		(80, 60.0),  # at threshold → threshold_score
		(100, 100.0),  # at target
		(120, 120.0),  # at stretch → cap
		(90, 80.0),  # 60 + (90-80)/(100-80) × (100-60) = 60 + 0.5 × 40
		(95, 90.0),  # 60 + 15/20 × 40 = 90
		(110, 110.0),  # 100 + (110-100)/(120-100) × (120-100) = 100 + 10
		(130, 120.0),  # beyond stretch → cap
		(79.99, 0.0),  # worse than threshold
		(-5, 0.0),
	],
)
def test_linear_higher(actual, expected):
	assert s.linear_score(actual, H, 80, 100, 120) == pytest.approx(expected)


# Lower is Better mirror: threshold 20 days → 60, target 10 → 100, stretch 5 → 120.
@pytest.mark.parametrize(
	("actual", "expected"),
	[
		(20, 60.0),  # at threshold
		(10, 100.0),  # at target
		(5, 120.0),  # at stretch
		(15, 80.0),  # 60 + (20-15)/(20-10) × 40 = 80
		(7.5, 110.0),  # 100 + (10-7.5)/(10-5) × 20 = 110
		(3, 120.0),  # better than stretch → cap
		(20.01, 0.0),  # worse than threshold
	],
)
def test_linear_lower_mirror(actual, expected):
	assert s.linear_score(actual, L, 20, 10, 5) == pytest.approx(expected)


def test_linear_without_stretch_stops_at_100():
	assert s.linear_score(150, H, 80, 100) == 100.0
	assert s.linear_score(100, H, 80, 100) == 100.0
	assert s.linear_score(1, L, 20, 10) == 100.0  # far better than target, still 100
	assert s.linear_score(90, H, 80, 100) == pytest.approx(80.0)


def test_linear_without_threshold_means_no_partial_credit():
	# threshold None collapses onto the target: worse than target → 0, target → 100
	assert s.linear_score(99.99, H, None, 100, 120) == 0.0
	assert s.linear_score(100, H, None, 100, 120) == 100.0
	assert s.linear_score(110, H, None, 100, 120) == pytest.approx(110.0)
	assert s.linear_score(10.01, L, None, 10) == 0.0


def test_linear_custom_threshold_score_and_cap():
	# 50 + (90-80)/20 × (100-50) = 75 ; 100 + (110-100)/20 × (150-100) = 125
	assert s.linear_score(90, H, 80, 100, 120, threshold_score=50, cap=150) == pytest.approx(75.0)
	assert s.linear_score(110, H, 80, 100, 120, threshold_score=50, cap=150) == pytest.approx(125.0)
	with pytest.raises(s.ConfigError):
		s.linear_score(90, H, 80, 100, 120, cap=90)
	with pytest.raises(s.ConfigError):
		s.linear_score(90, H, 80, 100, 120, threshold_score=101)
	with pytest.raises(s.TargetOrderError):
		s.linear_score(90, H, 100, 80)
	with pytest.raises(s.InvalidValueError):
		s.linear_score(float("nan"), H, 80, 100)


# ------------------------------------------------------------------------------------------- banded

BANDS = [(None, 50, 0.0), (50, 80, 60.0), (80, 100, 90.0), (100, None, 110.0)]


@pytest.mark.parametrize(
	("actual", "expected"),
	[
		(-1000, 0.0),  # open lower band
		(49.999, 0.0),
		(50, 60.0),  # from is inclusive
		(79.999, 60.0),  # to is exclusive
		(80, 90.0),
		(99.99, 90.0),
		(100, 110.0),
		(1e9, 110.0),  # open upper band
	],
)
def test_banded_edges(actual, expected):
	assert s.banded_score(actual, BANDS) == expected


def test_banded_gaps_mappings_and_bad_tables():
	gappy = [(0, 10, 50.0), (20, 30, 80.0)]
	assert s.banded_score(15, gappy) == 0.0  # in no band
	assert s.banded_score(30, gappy) == 0.0  # 30 is outside [20, 30)
	assert s.banded_score(-1, gappy) == 0.0
	assert s.banded_score(25, [{"from": 20, "to": 30, "score": 80}]) == 80.0
	with pytest.raises(s.ConfigError) as info:
		s.banded_score(5, [(0, 10, 50), (9, 20, 60)])
	assert info.value.code == "band_overlap"
	with pytest.raises(s.ConfigError) as info:
		s.banded_score(5, [(10, 10, 50)])
	assert info.value.code == "band_order"
	with pytest.raises(s.ConfigError):
		s.banded_score(5, [(0, 10, -1)])
	with pytest.raises(s.MissingTargetError):
		s.banded_score(5, [])


# --------------------------------------------------------------------------------- binary and ratio


def test_binary_both_directions():
	assert s.binary_score(95, H, 95) == 100.0  # meets exactly
	assert s.binary_score(94.9, H, 95) == 0.0
	assert s.binary_score(3, L, 3) == 100.0
	assert s.binary_score(2, L, 3) == 100.0
	assert s.binary_score(3.1, L, 3) == 0.0


def test_ratio_both_directions():
	assert s.ratio_score(60, H, 80) == pytest.approx(75.0)  # 60/80 × 100
	assert s.ratio_score(100, H, 80) == 120.0  # 125 capped at 120
	assert s.ratio_score(100, H, 80, cap=150) == pytest.approx(125.0)
	assert s.ratio_score(-10, H, 80) == 0.0  # floored at 0
	assert s.ratio_score(20, L, 10) == pytest.approx(50.0)  # 10/20 × 100
	assert s.ratio_score(8, L, 10) == 120.0  # 125 capped
	assert s.ratio_score(0, L, 10) == 120.0  # nothing at all: best possible → cap
	with pytest.raises(ValueError):
		s.ratio_score(5, H, 0)
	with pytest.raises(ValueError):
		s.ratio_score(5, L, 0)


def test_achievement():
	assert s.achievement(90, 120, H) == pytest.approx(75.0)  # 90/120 × 100
	assert s.achievement(8, 10, L) == pytest.approx(125.0)  # 10/8 × 100
	assert s.achievement(5, 0, H) is None  # division by zero
	assert s.achievement(0, 10, L) is None
	assert s.achievement(None, 10, H) is None
	assert s.achievement(float("nan"), 10, H) is None
	assert s.achievement(5, None, H) is None


# --------------------------------------------------------------------------------------- score_line


def test_score_line_dispatch_and_no_data():
	assert s.score_line(None, direction=H, target=100) is None
	assert s.score_line(float("nan"), direction=H, target=100) is None
	assert s.score_line(pd.NA, direction=L, method=s.RATIO, target=10) is None
	assert s.score_line(90, direction=H, threshold=80, target=100, stretch=120) == pytest.approx(80.0)
	assert s.score_line(90, direction=H, method="", threshold=80, target=100) == pytest.approx(80.0)
	assert s.score_line(85, direction=H, method=s.BANDED, bands=BANDS) == 90.0
	assert s.score_line(2, direction=L, method=s.BINARY, target=3) == 100.0
	assert s.score_line(20, direction=L, method=s.RATIO, target=10) == pytest.approx(50.0)
	assert s.score_line(200, direction=H, method=s.RATIO, target=100, cap=150) == 150.0
	with pytest.raises(s.MissingTargetError):
		s.score_line(90, direction=H, method=s.LINEAR)
	with pytest.raises(s.MissingTargetError):
		s.score_line(90, direction=H, method=s.BANDED)
	with pytest.raises(s.ConfigError):
		s.score_line(90, direction=H, method="Sigmoid", target=100)


# -------------------------------------------------------------------------------------- quantitative

WEIGHTS = [50, 30, 20]
SCORES = [80.0, None, 110.0]


def test_quantitative_exclude_and_renormalise():
	# (50×80 + 20×110) / (50 + 20) = 6200 / 70
	assert s.quantitative_score(WEIGHTS, SCORES) == pytest.approx(6200 / 70)
	assert s.quantitative_score(WEIGHTS, SCORES, s.EXCLUDE_AND_RENORMALISE) == pytest.approx(88.5714285714)


def test_quantitative_score_zero():
	# (50×80 + 30×0 + 20×110) / 100 = 62
	assert s.quantitative_score(WEIGHTS, SCORES, s.SCORE_ZERO) == pytest.approx(62.0)


def test_quantitative_require_manual_value():
	with pytest.raises(s.NoDataError) as info:
		s.quantitative_score(WEIGHTS, SCORES, s.REQUIRE_MANUAL_VALUE)
	assert info.value.lines == [1]
	assert info.value.code == "no_data"
	# all lines with data: same as exclude, (50×80 + 30×70 + 20×110)/100 = 83
	assert s.quantitative_score(WEIGHTS, [80, 70, 110], s.REQUIRE_MANUAL_VALUE) == pytest.approx(83.0)


def test_quantitative_all_lines_without_data():
	nothing = [None, float("nan"), None]
	assert s.quantitative_score(WEIGHTS, nothing) is None
	assert s.quantitative_score(WEIGHTS, nothing, s.SCORE_ZERO) == 0.0
	with pytest.raises(s.NoDataError) as info:
		s.quantitative_score(WEIGHTS, nothing, s.REQUIRE_MANUAL_VALUE)
	assert info.value.lines == [0, 1, 2]
	assert s.quantitative_score([], []) is None


def test_quantitative_bad_input():
	with pytest.raises(s.ConfigError) as info:
		s.quantitative_score([50, 50], [80])
	assert info.value.code == "length_mismatch"
	with pytest.raises(s.ConfigError):
		s.quantitative_score([-10, 110], [80, 90])
	with pytest.raises(s.ConfigError):
		s.quantitative_score([50, 50], [80, 90], "Guess")


# --------------------------------------------------------------------------------------- qualitative

CRITERIA = {"Teamwork": 60, "Integrity": 40}
GROUPS = {"Self": 10, "Manager": 50, "Peer": 30, "Subordinate": 10}


def test_qualitative_single_rater_group():
	ratings = [("Teamwork", "Manager", 4), ("Teamwork", "Manager", 5), ("Integrity", "Manager", 3)]
	# Teamwork = mean(4, 5) = 4.5 ; Integrity = 3 ; (60×4.5 + 40×3)/100 = 3.9 ; 3.9/5×100 = 78
	assert s.qualitative_score(ratings, CRITERIA, GROUPS) == pytest.approx(78.0)


def test_qualitative_missing_group_is_renormalised():
	ratings = [
		("Teamwork", "Self", 5),
		("Teamwork", "Manager", 4),
		("Teamwork", "Peer", 3),
		("Teamwork", "Peer", 4),
		("Integrity", "Peer", 2),
	]
	# Teamwork: Peer mean 3.5; no Subordinate → weights 10+50+30 = 90:
	#   (10×5 + 50×4 + 30×3.5)/90 = 355/90 = 3.9444…
	# Integrity: only Peer → 2
	# criteria: (60 × 355/90 + 40 × 2)/100 = (236.666… + 80)/100 = 3.1666… → /5×100 = 63.333…
	assert s.qualitative_score(ratings, CRITERIA, GROUPS) == pytest.approx(
		(60 * 355 / 90 + 80) / 100 / 5 * 100
	)
	assert s.qualitative_score(ratings, CRITERIA, GROUPS) == pytest.approx(63.3333333333)


def test_qualitative_criteria_weights_and_unrated_criterion():
	# criteria 70/30: Teamwork 5, Integrity 1 → (70×5 + 30×1)/100 = 3.8 → 76
	ratings = [("Teamwork", "Manager", 5), ("Integrity", "Manager", 1)]
	assert s.qualitative_score(ratings, {"Teamwork": 70, "Integrity": 30}, GROUPS) == pytest.approx(76.0)
	# Integrity unrated → renormalised to Teamwork alone: 5 → 100
	assert s.qualitative_score([("Teamwork", "Peer", 5)], CRITERIA, GROUPS) == pytest.approx(100.0)
	# empty weight mappings mean equal weights: (5 + 1)/2 = 3 → 60
	assert s.qualitative_score(ratings, {}, {}) == pytest.approx(60.0)
	# a group the template does not weigh is ignored: Customer's 1 does not pull Teamwork down
	with_customer = [("Teamwork", "Manager", 5), ("Teamwork", "Customer", 1)]
	assert s.qualitative_score(with_customer, CRITERIA, GROUPS) == pytest.approx(100.0)


def test_qualitative_dataframe_none_and_range():
	frame = pd.DataFrame(
		{
			"criterion": ["Teamwork", "Teamwork", "Integrity", "Integrity"],
			"rater_group": ["Manager", "Manager", "Manager", "Peer"],
			"rating": [4, 5, 3, None],
		}
	)
	assert s.qualitative_score(frame, CRITERIA, GROUPS) == pytest.approx(78.0)  # the None is skipped
	assert s.qualitative_score([], CRITERIA, GROUPS) is None
	assert s.qualitative_score(pd.DataFrame(), CRITERIA, GROUPS) is None
	with pytest.raises(s.RatingRangeError):
		s.qualitative_score([("Teamwork", "Peer", 6)], CRITERIA, GROUPS)
	with pytest.raises(ValueError):
		s.qualitative_score([("Teamwork", "Peer", 0)], CRITERIA, GROUPS)


# ------------------------------------------------------------------------------------------- total


def test_total_score():
	# (70×80 + 30×90)/100 = (5600 + 2700)/100 = 83
	assert s.total_score(80, 90, 70, 30) == pytest.approx(83.0)
	# never rounded: (70×80.123456 + 30×90)/100 = 56.0864192 + 27
	assert s.total_score(80.123456, 90, 70, 30) == pytest.approx(83.0864192, abs=1e-12)
	assert s.total_score(80.123456, 90, 70, 30) != round(s.total_score(80.123456, 90, 70, 30), 2)


def test_total_score_with_a_missing_side():
	assert s.total_score(None, 90, 70, 30) == pytest.approx(90.0)  # renormalised onto L
	assert s.total_score(80, None, 70, 30) == pytest.approx(80.0)  # renormalised onto Q
	assert s.total_score(None, None, 70, 30) is None
	assert s.total_score(80, None, 0, 100) is None  # the only side with a score weighs nothing
	assert s.total_score(80, 90, 100, 0) == pytest.approx(80.0)


# ------------------------------------------------------------------------------------------ grades


@pytest.mark.parametrize(
	("score", "grade"),
	[
		(100, "S"),
		(95, "S"),
		(95 - 1e-12, "S"),  # float noise: displays as 95.00
		(94.999, "A"),
		(85, "A"),
		(84.99, "B"),
		(70, "B"),
		(60, "C"),
		(59.99, "D"),
		(0, "D"),
		(None, None),
	],
)
def test_grade_for_default_bands(score, grade):
	assert s.grade_for(score) == grade


def test_grade_for_custom_bands_any_order():
	bands = [("Fair", 50), ("Excellent", 90), ("Good", 75)]
	assert s.grade_for(90, bands) == "Excellent"
	assert s.grade_for(89.9, bands) == "Good"
	assert s.grade_for(50, bands) == "Fair"
	assert s.grade_for(10, bands) == "Fair"  # below every band → lowest grade
	assert s.grade_for(80, [{"grade": "P", "min_score": 60}, {"grade": "F", "min_score": 0}]) == "P"
	with pytest.raises(s.ConfigError):
		s.grade_for(80, [])


# ------------------------------------------------------------------------------- forced distribution


def test_forced_distribution_ten_subjects():
	scores = {f"e{i:02d}": 100.0 - i for i in range(10)}  # e00 = 100 … e09 = 91
	# cumulative shares × 10: S 1, A 3, B 8, C 9.5 → 10 (half up), D 10
	# → S: position 0; A: 1–2; B: 3–7; C: 8–9; D: nobody
	grades = s.forced_distribution(scores)
	assert grades == {
		"e00": "S",
		"e01": "A",
		"e02": "A",
		"e03": "B",
		"e04": "B",
		"e05": "B",
		"e06": "B",
		"e07": "B",
		"e08": "C",
		"e09": "C",
	}


def test_forced_distribution_twenty_subjects_series():
	scores = pd.Series({f"e{i:02d}": float(i) for i in range(20)})  # e19 is best
	# × 20: S 2, A 6, B 16, C 19, D 20 → counts S 2, A 4, B 10, C 3, D 1
	grades = s.forced_distribution(scores)
	counts = {g: list(grades.values()).count(g) for g in "SABCD"}
	assert counts == {"S": 2, "A": 4, "B": 10, "C": 3, "D": 1}
	assert grades["e19"] == "S" and grades["e18"] == "S" and grades["e17"] == "A"
	assert grades["e13"] == "B" and grades["e04"] == "B" and grades["e03"] == "C" and grades["e00"] == "D"


def test_forced_distribution_ties_share_the_best_grade():
	scores = {
		"e01": 98.0,
		"e02": 98.0,  # tie across the S/A boundary (positions 0 and 1): both S
		"e03": 90.0,
		"e04": 90.0,  # tie across the A/B boundary (positions 2 and 3): both A
		"e05": 80.0,
		"e06": 79.0,
		"e07": 78.0,
		"e08": 77.0,
		"e09": 60.0,
		"e10": 50.0,
		"e11": None,  # no score: left out, and not counted in n
		"e12": float("nan"),
	}
	grades = s.forced_distribution(scores)
	assert grades == {
		"e01": "S",
		"e02": "S",
		"e03": "A",
		"e04": "A",
		"e05": "B",
		"e06": "B",
		"e07": "B",
		"e08": "B",
		"e09": "C",
		"e10": "C",
	}


def test_forced_distribution_custom_shares_and_errors():
	# shares 1:1 are renormalised to 50/50: 4 × 0.5 = 2 → two "Top", two "Rest"
	grades = s.forced_distribution({"a": 4, "b": 3, "c": 2, "d": 1}, {"Top": 1, "Rest": 1}, ("Top", "Rest"))
	assert grades == {"a": "Top", "b": "Top", "c": "Rest", "d": "Rest"}
	# a lone subject: boundaries 0.1 → 0, 0.3 → 0, 0.8 → 1 → the middle grade, not an automatic S
	assert s.forced_distribution({"solo": 99.0}) == {"solo": "B"}
	assert s.forced_distribution({}) == {}
	assert s.forced_distribution({"a": None}) == {}
	with pytest.raises(s.ConfigError) as info:
		s.forced_distribution({"a": 1}, {"S": 50, "X": 50})
	assert info.value.code == "unknown_grade"
	with pytest.raises(s.ConfigError):
		s.forced_distribution({"a": 1}, {"S": -10, "A": 110})


def test_distribution_deviation_rows():
	grades = s.forced_distribution({f"e{i:02d}": 100.0 - i for i in range(10)})  # S1 A2 B5 C2 D0
	rows = s.distribution_deviation(grades, s.DEFAULT_FORCED_SHARES)
	by_grade = {row["grade"]: row for row in rows}
	assert [row["grade"] for row in rows] == ["S", "A", "B", "C", "D"]
	assert by_grade["S"] == {
		"grade": "S",
		"target_share": 10.0,
		"actual_count": 1,
		"actual_share": 10.0,
		"deviation": 0.0,
	}
	assert by_grade["C"]["actual_count"] == 2
	assert by_grade["C"]["actual_share"] == pytest.approx(20.0)  # 2/10
	assert by_grade["C"]["deviation"] == pytest.approx(5.0)  # 20 − 15
	assert by_grade["D"]["actual_count"] == 0
	assert by_grade["D"]["deviation"] == pytest.approx(-5.0)  # 0 − 5
	empty = s.distribution_deviation({}, s.DEFAULT_FORCED_SHARES)
	assert all(row["actual_share"] is None and row["deviation"] is None for row in empty)
	assert math.isclose(sum(row["target_share"] for row in empty), 100.0)
