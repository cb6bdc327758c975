"""Scoring rules of the post-loan performance scheme (docs/scheme.md).

Line scores (Linear, Banded, Binary, Ratio), the quantitative / qualitative / total aggregation, grade
bands and the forced distribution used for calibration. Pure Python (pandas only to accept Series and
DataFrame inputs); no frappe. Errors are :class:`~postloan_performance.engine.EngineError` subclasses with a
machine-readable ``code``; nothing here rounds: rounding to 2 decimals is for display only.
"""

from __future__ import annotations

from postloan_performance.engine.scoring.aggregation import qualitative_score, quantitative_score, total_score
from postloan_performance.engine.scoring.base import (
	BANDED,
	BINARY,
	DEFAULT_CAP,
	DEFAULT_FORCED_SHARES,
	DEFAULT_GRADE_BANDS,
	DEFAULT_GRADE_ORDER,
	DEFAULT_THRESHOLD_SCORE,
	DIRECTIONS,
	EXCLUDE_AND_RENORMALISE,
	GRADE_TOLERANCE,
	HIGHER_IS_BETTER,
	LINEAR,
	LOWER_IS_BETTER,
	METHODS,
	NO_DATA_POLICIES,
	RATING_MAX,
	RATING_MIN,
	RATIO,
	REQUIRE_MANUAL_VALUE,
	SCORE_ZERO,
	TIE_TOLERANCE,
	ConfigError,
	InvalidValueError,
	MissingTargetError,
	NoDataError,
	RatingRangeError,
	TargetOrderError,
	is_missing,
)
from postloan_performance.engine.scoring.grades import distribution_deviation, forced_distribution, grade_for
from postloan_performance.engine.scoring.lines import (
	achievement,
	banded_score,
	binary_score,
	check_bands,
	linear_score,
	ratio_score,
	score_line,
	validate_targets,
)

__all__ = [
	"DEFAULT_GRADE_ORDER",
	"RATING_MIN",
	"RATING_MAX",
	"GRADE_TOLERANCE",
	"TIE_TOLERANCE",
	"check_bands",
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
