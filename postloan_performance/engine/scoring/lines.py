"""Line rules: target order, Linear, Banded, Binary and Ratio scores, achievement."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from postloan_performance.engine.scoring.base import (
	BANDED,
	BINARY,
	DEFAULT_CAP,
	DEFAULT_THRESHOLD_SCORE,
	LINEAR,
	METHODS,
	RATIO,
	ConfigError,
	MissingTargetError,
	TargetOrderError,
	_cap,
	_number,
	_optional_number,
	_sign,
	_threshold_score,
	is_missing,
)

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
