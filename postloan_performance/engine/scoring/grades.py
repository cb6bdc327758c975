"""Grades from scores, and the forced distribution and its deviation used in calibration."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from postloan_performance.engine.scoring.base import (
	DEFAULT_FORCED_SHARES,
	DEFAULT_GRADE_BANDS,
	DEFAULT_GRADE_ORDER,
	GRADE_TOLERANCE,
	TIE_TOLERANCE,
	ConfigError,
	_number,
	is_missing,
)

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
