"""Names, defaults and errors of the scoring rules, and the coercion helpers they share."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from postloan_performance.engine import EngineError

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
