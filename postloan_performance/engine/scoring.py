"""Scoring rules of the post-loan performance scheme (docs/scheme.md).

Line scores (Linear, Banded, Binary, Ratio), the quantitative / qualitative / total aggregation, grade
bands and the forced distribution used for calibration. Pure Python (pandas only to accept Series and
DataFrame inputs); no frappe. Errors are :class:`~postloan_performance.engine.EngineError` subclasses with a
machine-readable ``code``; nothing here rounds: rounding to 2 decimals is for display only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from postloan_performance.engine import EngineError

__all__ = [
	"BANDED",
	"BINARY",
	"DEFAULT_CAP",
	"DEFAULT_FORCED_SHARES",
	"DEFAULT_GRADE_BANDS",
	"DEFAULT_THRESHOLD_SCORE",
	"DIRECTIONS",
	"EXCLUDE_AND_RENORMALISE",
	"HIGHER_IS_BETTER",
	"LINEAR",
	"LOWER_IS_BETTER",
	"METHODS",
	"NO_DATA_POLICIES",
	"RATIO",
	"REQUIRE_MANUAL_VALUE",
	"SCORE_ZERO",
	"ConfigError",
	"InvalidValueError",
	"MissingTargetError",
	"NoDataError",
	"RatingRangeError",
	"TargetOrderError",
	"achievement",
	"banded_score",
	"binary_score",
	"distribution_deviation",
	"forced_distribution",
	"grade_for",
	"is_missing",
	"linear_score",
	"qualitative_score",
	"quantitative_score",
	"ratio_score",
	"score_line",
	"total_score",
	"validate_targets",
]

HIGHER_IS_BETTER = "Higher is Better"
LOWER_IS_BETTER = "Lower is Better"
DIRECTIONS = (HIGHER_IS_BETTER, LOWER_IS_BETTER)

LINEAR = "Linear"
BANDED = "Banded"
BINARY = "Binary"
RATIO = "Ratio"
METHODS = (LINEAR, BANDED, BINARY, RATIO)

EXCLUDE_AND_RENORMALISE = "Exclude and Renormalise"
SCORE_ZERO = "Score Zero"
REQUIRE_MANUAL_VALUE = "Require Manual Value"
NO_DATA_POLICIES = (EXCLUDE_AND_RENORMALISE, SCORE_ZERO, REQUIRE_MANUAL_VALUE)

DEFAULT_THRESHOLD_SCORE = 60.0
DEFAULT_CAP = 120.0
DEFAULT_GRADE_BANDS: list[tuple[str, float]] = [
	("S", 95.0),
	("A", 85.0),
	("B", 70.0),
	("C", 60.0),
	("D", 0.0),
]
DEFAULT_FORCED_SHARES: dict[str, float] = {"S": 10.0, "A": 20.0, "B": 50.0, "C": 15.0, "D": 5.0}
DEFAULT_GRADE_ORDER: tuple[str, ...] = ("S", "A", "B", "C", "D")

RATING_MIN = 1.0
RATING_MAX = 5.0

# Float noise tolerance: a total computed as 94.99999999999999 is displayed as 95.00 and must grade as 95.
GRADE_TOLERANCE = 1e-9
# Scores closer than this are a tie in the forced distribution (they display identically).
TIE_TOLERANCE = 1e-9


# --------------------------------------------------------------------------------------------- errors


class TargetOrderError(EngineError):
	"""threshold / target / stretch are not ordered for the direction. details: direction, threshold,
	target, stretch."""

	code = "target_order"


class MissingTargetError(EngineError):
	"""A scoring method needs a target (Linear, Binary, Ratio) or bands (Banded) that were not given."""

	code = "target_required"


class NoDataError(EngineError):
	"""Policy "Require Manual Value" and some lines have no data; ``lines`` are their 0-based indexes."""

	code = "no_data"

	def __init__(self, lines: Iterable[int] = ()) -> None:
		super().__init__(lines=list(lines))

	@property
	def lines(self) -> list[int]:
		return self.details.get("lines", [])


class RatingRangeError(EngineError):
	"""A 360 rating outside 1..5. details: criterion, rater_group, rating."""

	code = "rating_out_of_range"


class ConfigError(EngineError):
	"""Bad scheme configuration (unknown direction/method/policy, negative weight, bad bands, cap …).
	The ``code`` names the problem, e.g. ``invalid_direction``, ``negative_weight``, ``band_overlap``."""

	code = "invalid_config"


class InvalidValueError(EngineError):
	"""A value that must be a number is missing or not numeric. details: name, value."""

	code = "invalid_number"


# -------------------------------------------------------------------------------------------- helpers


def is_missing(value: Any) -> bool:
	"""True for None, NaN, NaT and pandas NA (a line without data)."""
	if value is None:
		return True
	try:
		return bool(pd.isna(value))
	except (TypeError, ValueError):
		return False


def _number(value: Any, name: str) -> float:
	if is_missing(value) or isinstance(value, bool):
		raise InvalidValueError(name=name, value=value)
	try:
		number = float(value)
	except (TypeError, ValueError):
		raise InvalidValueError(name=name, value=value) from None
	if math.isnan(number):
		raise InvalidValueError(name=name, value=value)
	return number


def _optional_number(value: Any, name: str) -> float | None:
	return None if is_missing(value) else _number(value, name)


def _sign(direction: str) -> int:
	if direction == HIGHER_IS_BETTER:
		return 1
	if direction == LOWER_IS_BETTER:
		return -1
	raise ConfigError("invalid_direction", direction=direction)


def _cap(cap: Any) -> float:
	value = _number(cap, "cap")
	if value < 100.0 or math.isinf(value):
		raise ConfigError("invalid_cap", cap=cap)
	return value


def _threshold_score(threshold_score: Any) -> float:
	value = _number(threshold_score, "threshold_score")
	if not 0.0 <= value <= 100.0:
		raise ConfigError("invalid_threshold_score", threshold_score=threshold_score)
	return value


def _weight(value: Any, name: str) -> float:
	if is_missing(value):
		raise ConfigError("invalid_weight", name=name, weight=value)
	weight = _number(value, name)
	if weight < 0 or math.isinf(weight):
		raise ConfigError("negative_weight", name=name, weight=value)
	return weight


# ------------------------------------------------------------------------------------------ line rules


def validate_targets(
	direction: str,
	threshold: float | None,
	target: float | None,
	stretch: float | None,
	method: str | None = LINEAR,
) -> None:
	"""Refuse targets that are not ordered for the direction.

	Higher is Better needs ``threshold < target < stretch``; Lower is Better the mirror
	``threshold > target > stretch``. Equality is refused because the linear interpolation would divide by
	zero. ``threshold`` and ``stretch`` may be None (not used); when ``target`` is None and both others are
	given they must still be ordered between themselves.

	``method`` (default "Linear") makes the target required for Linear, Binary and
	Ratio (:class:`MissingTargetError`); pass the line's method for Banded lines, or None to check only the
	order. Ratio also needs a strictly positive target (code ``ratio_target_not_positive``): a ratio to a
	zero or negative target has no meaning.
	"""
	sign = _sign(direction)
	th = _optional_number(threshold, "threshold")
	tg = _optional_number(target, "target")
	st = _optional_number(stretch, "stretch")
	if method not in (None, "", *METHODS):
		raise ConfigError("invalid_method", method=method)
	if tg is None and method in (LINEAR, BINARY, RATIO, ""):
		raise MissingTargetError(method=method or LINEAR)
	if method == RATIO and tg is not None and tg <= 0:
		raise ConfigError("ratio_target_not_positive", target=target)
	ordered = [sign * v for v in (th, tg, st) if v is not None]
	if any(b <= a for a, b in itertools.pairwise(ordered)):
		raise TargetOrderError(direction=direction, threshold=threshold, target=target, stretch=stretch)


def linear_score(
	actual: float,
	direction: str,
	threshold: float | None,
	target: float,
	stretch: float | None = None,
	threshold_score: float = DEFAULT_THRESHOLD_SCORE,
	cap: float = DEFAULT_CAP,
) -> float:
	"""The Linear rule (Higher is Better; Lower is Better is the exact mirror).

	- worse than threshold → 0; at threshold → ``threshold_score`` (60);
	- threshold → target: linear from ``threshold_score`` to 100;
	- target → stretch: linear from 100 to ``cap`` (120); at or beyond stretch → ``cap``;
	- without stretch the score stops at 100 for anything at or better than target.

	Choice: ``threshold=None`` means "no partial credit": the threshold collapses onto the target, so
	anything worse than target scores 0 and the target itself scores 100. ``cap`` must be ≥ 100 and
	``threshold_score`` within 0..100 (:class:`ConfigError`); targets are checked with
	:func:`validate_targets`. ``actual`` must be a number (use :func:`score_line` for lines without data).
	"""
	sign = _sign(direction)
	value = _number(actual, "actual")
	validate_targets(direction, threshold, target, stretch, LINEAR)
	floor_score = _threshold_score(threshold_score)
	ceiling = _cap(cap)
	tg = sign * _number(target, "target")
	th = _optional_number(threshold, "threshold")
	st = _optional_number(stretch, "stretch")
	# mirror Lower is Better by negation, so one "higher is better" rule serves both (negation is exact)
	value = sign * value
	th = None if th is None else sign * th
	st = None if st is None else sign * st
	if value >= tg:
		if st is None:
			return 100.0
		if value >= st:
			return ceiling
		return 100.0 + (value - tg) / (st - tg) * (ceiling - 100.0)
	if th is None or value < th:
		return 0.0
	return floor_score + (value - th) / (tg - th) * (100.0 - floor_score)


def check_bands(bands: Any) -> list[tuple[float | None, float | None, float]]:
	"""The bands ``[from, to) -> score`` as numbers sorted by ``from``: the one rule for bands, used at
	scoring time and (through ``engine.bands``) when a template is saved. A score is a finite number
	>= 0, ``from`` is below ``to``, an empty bound is open-ended, and bands may leave gaps but not
	overlap."""
	if bands is None or isinstance(bands, str | bytes):
		raise MissingTargetError(method=BANDED)
	parsed: list[tuple[float | None, float | None, float]] = []
	for index, band in enumerate(bands):
		if isinstance(band, Mapping):
			low = band.get("from", band.get("from_"))
			high = band.get("to")
			score = band.get("score")
		else:
			try:
				low, high, score = band
			except (TypeError, ValueError):
				raise ConfigError("invalid_band", band=index) from None
		low_value = _optional_number(low, "from")
		high_value = _optional_number(high, "to")
		score_value = _number(score, "score") if not is_missing(score) else None
		if score_value is None or score_value < 0 or math.isinf(score_value):
			raise ConfigError("invalid_band_score", band=index, score=score)
		if low_value is not None and high_value is not None and not low_value < high_value:
			raise ConfigError("band_order", band=index, from_=low, to=high)
		parsed.append((low_value, high_value, score_value))
	if not parsed:
		raise MissingTargetError(method=BANDED)
	ordered = sorted(parsed, key=lambda band: -math.inf if band[0] is None else band[0])
	for previous, current in itertools.pairwise(ordered):
		if previous[1] is None or current[0] is None or previous[1] > current[0]:
			raise ConfigError("band_overlap", first=previous[:2], second=current[:2])
	return ordered


def banded_score(actual: float, bands: Sequence[Any]) -> float:
	"""Score of the band ``[from, to)`` that holds ``actual``; 0 when no band holds it.

	``bands`` is a list of ``(from, to, score)`` tuples (or mappings with keys from/from_, to, score);
	a None bound is open-ended. Bands must not overlap, need ``from < to`` and a non-negative score
	(:class:`ConfigError`); an empty list raises :class:`MissingTargetError`. Band scores are used as given
	(no cap): the template owner sets them.
	"""
	value = _number(actual, "actual")
	for low, high, score in check_bands(bands):
		if (low is None or value >= low) and (high is None or value < high):
			return score
	return 0.0


def binary_score(actual: float, direction: str, target: float) -> float:
	"""100 when the target is met (``actual >= target`` for Higher, ``actual <= target`` for Lower), else 0."""
	sign = _sign(direction)
	value = _number(actual, "actual")
	tg = _number(target, "target")
	return 100.0 if sign * value >= sign * tg else 0.0


def ratio_score(actual: float, direction: str, target: float, cap: float = DEFAULT_CAP) -> float:
	"""``min(actual / target × 100, cap)``; Lower is Better uses ``target / actual``.

	Choices: the score is floored at 0 (a negative actual earns nothing, never a negative score); for Lower
	is Better an actual ≤ 0 is as good as it gets and scores ``cap``. The target must be > 0
	(:class:`ConfigError` ``ratio_target_not_positive``, a ValueError).
	"""
	sign = _sign(direction)
	value = _number(actual, "actual")
	tg = _number(target, "target")
	ceiling = _cap(cap)
	if tg <= 0:
		raise ConfigError("ratio_target_not_positive", target=target)
	if sign > 0:
		return max(0.0, min(value / tg * 100.0, ceiling))
	if value <= 0:
		return ceiling
	return min(tg / value * 100.0, ceiling)


def score_line(
	actual: float | None,
	*,
	direction: str,
	method: str | None = LINEAR,
	threshold: float | None = None,
	target: float | None = None,
	stretch: float | None = None,
	bands: Sequence[Any] | None = None,
	threshold_score: float = DEFAULT_THRESHOLD_SCORE,
	cap: float = DEFAULT_CAP,
) -> float | None:
	"""Score one KPI line with its method; None when ``actual`` is None/NaN (the line has no data).

	An empty ``method`` (an unset Select field) means "Linear", the default. For a line without data
	only the direction and method are checked: validate the template lines with :func:`validate_targets`.
	"""
	_sign(direction)
	method = method or LINEAR
	if method not in METHODS:
		raise ConfigError("invalid_method", method=method)
	if is_missing(actual):
		return None
	if method == BANDED:
		return banded_score(actual, bands if bands is not None else [])
	if is_missing(target):
		raise MissingTargetError(method=method)
	if method == LINEAR:
		return linear_score(actual, direction, threshold, target, stretch, threshold_score, cap)
	if method == BINARY:
		return binary_score(actual, direction, target)
	return ratio_score(actual, direction, target, cap)


def achievement(actual: float | None, target: float | None, direction: str) -> float | None:
	"""Achievement in percent of target: ``actual / target × 100`` (Higher), ``target / actual × 100`` (Lower).

	None when there is no data or the division is undefined (target 0 for Higher, actual 0 for Lower).
	Signs are kept as computed (no clamping): achievement is informative, the score is what counts.
	"""
	sign = _sign(direction)
	if is_missing(actual) or is_missing(target):
		return None
	value = _number(actual, "actual")
	tg = _number(target, "target")
	numerator, denominator = (value, tg) if sign > 0 else (tg, value)
	if denominator == 0:
		return None
	return numerator / denominator * 100.0


# --------------------------------------------------------------------------------------- aggregation


def quantitative_score(
	weights: Sequence[float],
	scores: Sequence[float | None],
	policy: str | None = EXCLUDE_AND_RENORMALISE,
) -> float | None:
	"""Weighted mean of the line scores, by the template's no-data policy.

	- "Exclude and Renormalise" (default; also for an empty policy): Σ w·s ÷ Σ w over lines with data; None
	  when no line has data (or those lines weigh 0).
	- "Score Zero": lines without data count as score 0 with their weight; None only when there are no
	  lines / all weights are 0.
	- "Require Manual Value": :class:`NoDataError` whose ``lines`` are the 0-based indexes of the lines
	  without data; otherwise as Exclude.

	Weights need not sum to 100 (they are renormalised); a missing or negative weight raises
	:class:`ConfigError`; ``weights`` and ``scores`` must have the same length.
	"""
	policy = policy or EXCLUDE_AND_RENORMALISE
	if policy not in NO_DATA_POLICIES:
		raise ConfigError("invalid_policy", policy=policy)
	weight_list = [_weight(w, f"weight[{i}]") for i, w in enumerate(list(weights))]
	score_list = list(scores)
	if len(weight_list) != len(score_list):
		raise ConfigError("length_mismatch", weights=len(weight_list), scores=len(score_list))
	missing = [i for i, s in enumerate(score_list) if is_missing(s)]
	if policy == REQUIRE_MANUAL_VALUE and missing:
		raise NoDataError(missing)
	missing_set = set(missing)
	total_weight = 0.0
	weighted = 0.0
	for i, (weight, score) in enumerate(zip(weight_list, score_list, strict=True)):
		if i in missing_set:
			if policy == SCORE_ZERO:
				total_weight += weight
			continue
		weighted += weight * _number(score, f"score[{i}]")
		total_weight += weight
	if total_weight == 0:
		return None
	return weighted / total_weight


def _rating_rows(ratings: Any) -> list[tuple[Any, Any, float]]:
	if isinstance(ratings, pd.DataFrame):
		missing_columns = {"criterion", "rater_group", "rating"} - set(ratings.columns)
		if missing_columns and len(ratings):
			raise ConfigError("missing_columns", columns=sorted(missing_columns))
		if missing_columns:
			return []
		iterable: Iterable[Any] = ratings[["criterion", "rater_group", "rating"]].itertuples(index=False)
	else:
		iterable = ratings or []
	rows: list[tuple[Any, Any, float]] = []
	for criterion, group, rating in iterable:
		if is_missing(rating):
			continue
		value = _number(rating, "rating")
		if not RATING_MIN <= value <= RATING_MAX:
			raise RatingRangeError(criterion=criterion, rater_group=group, rating=rating)
		rows.append((criterion, group, value))
	return rows


def qualitative_score(
	ratings: Any,
	criteria_weights: Mapping[str, float] | None,
	group_weights: Mapping[str, float] | None,
) -> float | None:
	"""360 score in 0..100 from ratings 1..5 (rating ÷ 5 × 100, so an all-1 appraisal scores 20).

	``ratings``: iterable of ``(criterion, rater_group, rating)`` or a DataFrame with those columns.
	Per criterion, the mean rating of each rater group; groups are combined with ``group_weights``
	renormalised over the groups that rated that criterion; criteria are combined with
	``criteria_weights`` renormalised over the criteria that have a rating.

	Choices: missing ratings (None/NaN) are skipped, a rating outside 1..5 raises
	:class:`RatingRangeError`. An empty/None weight mapping means equal weights. With a non-empty mapping, a
	criterion or group that is not in it (e.g. a "Customer" group the template does not weigh) is ignored,
	and one weighted 0 contributes nothing; a criterion whose present groups all weigh 0 counts as unrated.
	None when nothing usable was rated.
	"""
	rows = _rating_rows(ratings)
	cells: dict[Any, dict[Any, list[float]]] = {}
	for criterion, group, rating in rows:
		cells.setdefault(criterion, {}).setdefault(group, []).append(rating)

	def weight_of(weights: Mapping[str, float] | None, key: Any, kind: str) -> float | None:
		if not weights:
			return 1.0
		if key not in weights:
			return None
		return _weight(weights[key], f"{kind}:{key}")

	criterion_total = 0.0
	criterion_weight_sum = 0.0
	for criterion, groups in cells.items():
		criterion_weight = weight_of(criteria_weights, criterion, "criterion")
		if not criterion_weight:
			continue
		group_total = 0.0
		group_weight_sum = 0.0
		for group, values in groups.items():
			group_weight = weight_of(group_weights, group, "rater_group")
			if not group_weight:
				continue
			group_total += group_weight * (sum(values) / len(values))
			group_weight_sum += group_weight
		if group_weight_sum == 0:
			continue
		criterion_total += criterion_weight * (group_total / group_weight_sum)
		criterion_weight_sum += criterion_weight
	if criterion_weight_sum == 0:
		return None
	return criterion_total / criterion_weight_sum / RATING_MAX * 100.0


def total_score(
	quantitative: float | None,
	qualitative: float | None,
	quantitative_weight: float,
	qualitative_weight: float,
) -> float | None:
	"""Total = (quantitative_weight × Q + qualitative_weight × L) ÷ 100, never rounded.

	Choices: the divisor is ``quantitative_weight + qualitative_weight`` (equal to 100 for a valid
	template, and robust to fractions like 0.7/0.3). When one side has no score (None/NaN) the weights are
	renormalised onto the other side, i.e. the total is that side's score; but when the only side with a
	score weighs 0 the total is None (the side that counts has no data). Both None → None.
	"""
	parts = []
	for score, weight, name in (
		(quantitative, quantitative_weight, "quantitative_weight"),
		(qualitative, qualitative_weight, "qualitative_weight"),
	):
		weight_value = _weight(weight, name)
		if not is_missing(score):
			parts.append((weight_value, _number(score, name.removesuffix("_weight"))))
	weight_sum = sum(weight for weight, _ in parts)
	if weight_sum == 0:
		return None
	return sum(weight * score for weight, score in parts) / weight_sum


# -------------------------------------------------------------------------------------------- grades


def _parse_grade_bands(bands: Iterable[Any]) -> list[tuple[str, float]]:
	parsed: list[tuple[str, float]] = []
	for band in bands:
		if isinstance(band, Mapping):
			grade, minimum = band.get("grade"), band.get("min_score")
		else:
			grade, minimum = band
		parsed.append((grade, _number(minimum, f"min_score:{grade}")))
	if not parsed:
		raise ConfigError("grade_bands_required")
	minimums = [minimum for _, minimum in parsed]
	if len(set(minimums)) != len(minimums):
		raise ConfigError("duplicate_grade_band", min_scores=minimums)
	return sorted(parsed, key=lambda band: band[1], reverse=True)


def grade_for(score: float | None, bands: Iterable[Any] = DEFAULT_GRADE_BANDS) -> str | None:
	"""Grade of the band with the highest ``min_score`` that ``score`` reaches (None for no score).

	``bands`` is a list of ``(grade, min_score)`` (or mappings with grade/min_score) in any order.
	Choices: a score below every band gets the lowest band's grade ("D below"); comparisons
	tolerate 1e-9 of float noise so a total shown as 95.00 grades S, while 94.999 is an A.
	"""
	if is_missing(score):
		return None
	value = _number(score, "score")
	ordered = _parse_grade_bands(bands)
	for grade, minimum in ordered:
		if value + GRADE_TOLERANCE >= minimum:
			return grade
	return ordered[-1][0]


def _score_items(scores: Mapping[Any, Any] | pd.Series) -> list[tuple[Any, float]]:
	items = scores.items()
	return [(key, _number(value, f"score:{key}")) for key, value in items if not is_missing(value)]


def _share_table(shares: Mapping[str, float], grade_order: Sequence[str]) -> list[tuple[str, Decimal]]:
	order = list(grade_order)
	if not order or len(set(order)) != len(order):
		raise ConfigError("invalid_grade_order", grade_order=order)
	unknown = [grade for grade in shares if grade not in order]
	if unknown:
		raise ConfigError("unknown_grade", grades=unknown)
	table: list[tuple[str, Decimal]] = []
	for grade in order:
		raw = shares.get(grade, 0.0)
		value = 0.0 if is_missing(raw) else _number(raw, f"share:{grade}")
		if value < 0 or math.isinf(value):
			raise ConfigError("invalid_share", grade=grade, share=raw)
		table.append((grade, Decimal(repr(value))))
	if sum(share for _, share in table) <= 0:
		raise ConfigError("invalid_share", grade=None, share=0)
	return table


def forced_distribution(
	scores: Mapping[str, float | None] | pd.Series,
	shares: Mapping[str, float] = DEFAULT_FORCED_SHARES,
	grade_order: Sequence[str] = DEFAULT_GRADE_ORDER,
) -> dict[str, str]:
	"""Propose calibrated grades by rank (best first).

	Subjects are ranked by score descending. With ``n`` scored subjects, the boundary after grade ``k`` is
	``round_half_up(cumulative_share_k ÷ Σ shares × n)`` (exact decimal arithmetic), so the slots add up to
	``n`` and shares that do not sum to 100 are renormalised. Example n = 10 with the default shares:
	boundaries 1, 3, 8, 9.5→10, 10, i.e. S 1, A 2, B 5, C 2, D 0; a lone subject gets B (0.1→0, 0.3→0,
	0.8→1). Position ``i`` (0-based) gets the grade of the first boundary above it.

	Ties share a grade: every member of a group of equal scores (within 1e-9) gets the grade of the
	best-ranked position of the group, so a tie straddling a boundary lifts the whole group (the quota is
	exceeded rather than splitting equal scores). Subjects with a None/NaN score are left out of the
	result. Returns ``{subject: grade}`` in rank order.
	"""
	table = _share_table(shares, grade_order)
	items = _score_items(scores)
	n = len(items)
	if n == 0:
		return {}
	total_share = sum(share for _, share in table)
	boundaries: list[tuple[int, str]] = []
	cumulative = Decimal(0)
	for grade, share in table:
		cumulative += share
		boundary = (cumulative * n / total_share).to_integral_value(rounding=ROUND_HALF_UP)
		boundaries.append((int(boundary), grade))

	def slot_grade(position: int) -> str:
		for boundary, grade in boundaries:
			if position < boundary:
				return grade
		return boundaries[-1][1]

	ranked = sorted(items, key=lambda item: (-item[1], str(item[0])))
	result: dict[str, str] = {}
	group_score = math.nan
	group_grade = ""
	for position, (key, value) in enumerate(ranked):
		if position == 0 or abs(group_score - value) > TIE_TOLERANCE:
			group_score = value
			group_grade = slot_grade(position)
		result[key] = group_grade
	return result


def distribution_deviation(
	grades: Mapping[str, str | None],
	shares: Mapping[str, float] = DEFAULT_FORCED_SHARES,
	grade_order: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
	"""Rows for the calibration view, one per grade:
	``{grade, target_share, actual_count, actual_share, deviation}``.

	Shares are percent and renormalised to 100 when they do not sum to 100; ``actual_share`` is the
	percent of subjects with a grade; ``deviation = actual_share − target_share`` in percentage points.
	Rows follow ``grade_order`` (default: the order of ``shares``); grades that occur but have no share
	are appended with target 0. Subjects without a grade are not counted; with none at all,
	``actual_share`` and ``deviation`` are None.
	"""
	order = list(grade_order) if grade_order is not None else list(shares)
	table = dict(_share_table(shares, order))
	total_share = sum(table.values())
	given = [grade for grade in grades.values() if not is_missing(grade)]
	for grade in given:
		if grade not in order:
			order.append(grade)
	n = len(given)
	rows: list[dict[str, Any]] = []
	for grade in order:
		count = sum(1 for g in given if g == grade)
		target_share = float(table.get(grade, Decimal(0)) / total_share * 100)
		actual_share = count / n * 100.0 if n else None
		rows.append(
			{
				"grade": grade,
				"target_share": target_share,
				"actual_count": count,
				"actual_share": actual_share,
				"deviation": None if actual_share is None else actual_share - target_share,
			}
		)
	return rows
