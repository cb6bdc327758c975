"""From line scores to an appraisal: quantitative (no-data policies), qualitative (360) and total."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from postloan_performance.engine.scoring.base import (
	EXCLUDE_AND_RENORMALISE,
	NO_DATA_POLICIES,
	RATING_MAX,
	RATING_MIN,
	REQUIRE_MANUAL_VALUE,
	SCORE_ZERO,
	ConfigError,
	NoDataError,
	RatingRangeError,
	_number,
	_weight,
	is_missing,
)

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

	def renormalised(items, weights: Mapping[str, float] | None, kind: str, value_of) -> float | None:
		"""Mean of `value_of(item)` over (key, item) weighted by `weights` renormalised over the keys weighted
		above 0 whose value is not None (a value is computed only for those); None when there is none."""
		total = 0.0
		weight_sum = 0.0
		for key, item in items:
			weight = weight_of(weights, key, kind)
			if not weight:
				continue
			value = value_of(item)
			if value is None:
				continue
			total += weight * value
			weight_sum += weight
		return total / weight_sum if weight_sum else None

	def criterion_score(groups: dict[Any, list[float]]) -> float | None:
		return renormalised(
			groups.items(), group_weights, "rater_group", lambda values: sum(values) / len(values)
		)

	score = renormalised(cells.items(), criteria_weights, "criterion", criterion_score)
	if score is None:
		return None
	return score / RATING_MAX * 100.0


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
