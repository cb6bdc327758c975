"""Property-based checks (hypothesis) of the scoring rules: ranges, monotonicity, aggregation bounds."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from postloan_performance.engine import scoring as s

H = s.HIGHER_IS_BETTER
L = s.LOWER_IS_BETTER
EPS = 1e-9

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
caps = st.floats(min_value=100.0, max_value=300.0)
threshold_scores = st.floats(min_value=0.0, max_value=100.0)


@st.composite
def ordered_targets(draw: st.DrawFn) -> tuple[float | None, float, float | None]:
	"""(threshold, target, stretch) strictly increasing, threshold/stretch optionally None."""
	values = sorted(draw(st.lists(finite, min_size=3, max_size=3, unique=True)))
	assume(values[1] - values[0] > 1e-6 and values[2] - values[1] > 1e-6)
	threshold = values[0] if draw(st.booleans()) else None
	stretch = values[2] if draw(st.booleans()) else None
	return threshold, values[1], stretch


def mirrored(targets: tuple[float | None, float, float | None]) -> tuple[float | None, float, float | None]:
	threshold, target, stretch = targets
	return (None if threshold is None else -threshold, -target, None if stretch is None else -stretch)


@settings(max_examples=300)
@given(ordered_targets(), finite, finite, threshold_scores, caps)
def test_linear_within_range_and_monotone_higher(targets, x, y, threshold_score, cap):
	low, high = sorted((x, y))
	score_low = s.linear_score(low, H, *targets, threshold_score=threshold_score, cap=cap)
	score_high = s.linear_score(high, H, *targets, threshold_score=threshold_score, cap=cap)
	assert -EPS <= score_low <= cap + EPS
	assert -EPS <= score_high <= cap + EPS
	assert score_low <= score_high + EPS


@settings(max_examples=300)
@given(ordered_targets(), finite, finite, caps)
def test_linear_lower_is_the_mirror_and_non_increasing(targets, x, y, cap):
	lower_targets = mirrored(targets)  # threshold > target > stretch
	low, high = sorted((x, y))
	score_low = s.linear_score(low, L, *lower_targets, cap=cap)
	score_high = s.linear_score(high, L, *lower_targets, cap=cap)
	assert -EPS <= score_high <= score_low + EPS <= cap + 2 * EPS
	assert score_low == s.linear_score(-low, H, *targets, cap=cap)


@settings(max_examples=300)
@given(
	st.floats(min_value=0.01, max_value=1e6),
	st.floats(min_value=-1e6, max_value=1e6),
	st.floats(min_value=-1e6, max_value=1e6),
	caps,
)
def test_ratio_within_range_and_monotone(target, x, y, cap):
	low, high = sorted((x, y))
	for direction in (H, L):
		score_low = s.ratio_score(low, direction, target, cap)
		score_high = s.ratio_score(high, direction, target, cap)
		assert 0.0 <= score_low <= cap
		assert 0.0 <= score_high <= cap
		if direction == H:
			assert score_low <= score_high
		else:
			assert score_low >= score_high


@st.composite
def band_tables(draw: st.DrawFn) -> tuple[list[tuple[float | None, float | None, float]], float]:
	cap = draw(caps)
	edges = sorted(draw(st.lists(finite, min_size=1, max_size=6, unique=True)))
	scores = st.floats(min_value=0.0, max_value=cap)
	bands: list[tuple[float | None, float | None, float]] = [
		(low, high, draw(scores)) for low, high in itertools.pairwise(edges)
	]
	if draw(st.booleans()):
		bands.append((None, edges[0], draw(scores)))
	if draw(st.booleans()):
		bands.append((edges[-1], None, draw(scores)))
	assume(bands)
	return bands, cap


@given(band_tables(), finite)
def test_banded_within_range(table, actual):
	bands, cap = table
	score = s.banded_score(actual, bands)
	assert 0.0 <= score <= cap
	assert score == 0.0 or score in {band[2] for band in bands}


line_scores = st.one_of(st.none(), st.floats(min_value=0.0, max_value=120.0))


@given(st.lists(st.tuples(st.floats(min_value=0.01, max_value=100.0), line_scores), min_size=1, max_size=12))
def test_quantitative_exclude_is_bounded_by_line_scores(lines):
	weights = [weight for weight, _ in lines]
	scores = [score for _, score in lines]
	result = s.quantitative_score(weights, scores)
	with_data = [score for score in scores if score is not None]
	if not with_data:
		assert result is None
		return
	assert min(with_data) - EPS <= result <= max(with_data) + EPS
	# scoring missing lines as zero can only pull the score down
	assert s.quantitative_score(weights, scores, s.SCORE_ZERO) <= result + EPS


@given(
	st.lists(
		st.tuples(
			st.sampled_from(["Teamwork", "Integrity", "Skill"]),
			st.sampled_from(["Self", "Manager", "Peer", "Subordinate"]),
			st.floats(min_value=1.0, max_value=5.0),
		),
		max_size=20,
	)
)
def test_qualitative_maps_ratings_to_20_100(ratings):
	result = s.qualitative_score(ratings, {"Teamwork": 50, "Integrity": 30, "Skill": 20}, {})
	if not ratings:
		assert result is None
	else:
		assert 20.0 - EPS <= result <= 100.0 + EPS


@given(
	st.one_of(st.none(), st.floats(min_value=0.0, max_value=120.0)),
	st.one_of(st.none(), st.floats(min_value=0.0, max_value=100.0)),
	st.integers(min_value=1, max_value=99),
)
def test_total_lies_between_its_sides(quantitative, qualitative, weight):
	total = s.total_score(quantitative, qualitative, weight, 100 - weight)
	sides = [side for side in (quantitative, qualitative) if side is not None]
	if not sides:
		assert total is None
	else:
		assert min(sides) - EPS <= total <= max(sides) + EPS


@given(
	st.dictionaries(
		st.text(alphabet="abcdefghij", min_size=1, max_size=4),
		st.one_of(st.sampled_from([50.0, 60.0, 70.0, 85.0, 95.0]), st.floats(min_value=0, max_value=120)),
		max_size=40,
	)
)
def test_forced_distribution_grades_follow_the_ranking(scores):
	grades = s.forced_distribution(scores)
	order = {grade: rank for rank, grade in enumerate(s.DEFAULT_GRADE_ORDER)}
	assert set(grades) == set(scores)
	ranked = sorted(scores, key=lambda key: -scores[key])
	for better, worse in itertools.pairwise(ranked):
		# a lower score never gets a better grade; equal scores share a grade
		assert order[grades[better]] <= order[grades[worse]]
		if scores[better] == scores[worse]:
			assert grades[better] == grades[worse]
	# quotas: at least round_half_up(cumulative share × n) subjects at or above each grade (ties only lift),
	# exactly that many when all scores differ
	n = len(scores)
	ordered_values = sorted(scores.values())
	all_distinct = all(b - a > s.TIE_TOLERANCE for a, b in itertools.pairwise(ordered_values))
	cumulative = 0
	for rank, grade in enumerate(s.DEFAULT_GRADE_ORDER):
		cumulative += int(s.DEFAULT_FORCED_SHARES[grade])
		quota = math.floor(Fraction(cumulative * n, 100) + Fraction(1, 2))
		at_or_above = sum(1 for g in grades.values() if order[g] <= rank)
		assert at_or_above >= quota
		if all_distinct:
			assert at_or_above == quota
