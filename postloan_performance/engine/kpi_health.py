"""KPI Health: does a KPI still tell people apart, and is its target set where it bites?

The maths behind the KPI Health report (KPIs that do not discriminate, targets
everyone beats or misses). Pure Python; no frappe. Input is one :class:`KpiLine` per appraisal KPI line of
a cycle; :func:`kpi_health` returns one :class:`KpiHealth` per KPI code.

Definitions (``lines with data`` = lines whose actual is a number; shares are percent of them):

- **share at cap**: score ≥ the line's cap − 1e-9 (the highest score the line's rule can give);
  **share at zero**: score ≤ 1e-9;
- **better than target**: strictly better than the target in the KPI's direction (actual > target for
  Higher is Better, actual < target for Lower is Better); **meeting target**: at or better than target.
  Lines without a target are left out of both shares;
- **does not discriminate**: at least ``min_lines`` lines with data and (sample standard deviation of the
  score < ``flat_stdev`` points, or ≥ ``same_score_share`` % of the lines at the same score);
- **target everyone beats**: ≥ ``beats_share`` % better than target; **target everyone misses**:
  ≤ ``misses_share`` % meeting target (both need ``min_lines`` lines with data and a target);
- **suggested target**: the median actual, the value half of the people reach in the KPI's direction;
  ``suggestion`` says whether moving the current target (the median of the lines' targets) there makes the
  KPI ``HARDER`` or ``EASIER``;
- **correlation**: Pearson's r between the actuals of two KPIs over the appraisals that have both with data
  (at least ``min_pairs`` pairs and some variance on both sides); the strongest is the largest ``|r|``.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from postloan_performance.engine.frames import finite_or_none
from postloan_performance.engine.scoring import DEFAULT_CAP, HIGHER_IS_BETTER, LOWER_IS_BETTER

__all__ = [
	"EASIER",
	"HARDER",
	"Correlation",
	"KpiHealth",
	"KpiLine",
	"kpi_health",
	"modal_share",
	"pearson",
	"share",
]

TOLERANCE = 1e-9
FLAT_STDEV = 5.0
SAME_SCORE_SHARE = 80.0
BEATS_SHARE = 90.0
MISSES_SHARE = 10.0
MIN_LINES = 2
MIN_PAIRS = 3
HARDER = "harder"
EASIER = "easier"


@dataclass(frozen=True)
class KpiLine:
	"""One appraisal KPI line: ``appraisal`` pairs the lines of different KPIs for correlations.

	``actual`` None (or NaN) means the line has no data; ``cap`` is the highest score the line can get.
	"""

	kpi: str
	appraisal: str
	actual: float | None
	score: float | None = None
	target: float | None = None
	direction: str = HIGHER_IS_BETTER
	cap: float = DEFAULT_CAP


@dataclass(frozen=True)
class Correlation:
	kpi: str
	r: float
	pairs: int


@dataclass
class KpiHealth:
	kpi: str
	direction: str
	lines: int
	lines_with_data: int
	mean_score: float | None
	stdev_score: float | None
	share_at_cap: float | None
	share_at_zero: float | None
	share_better_than_target: float | None
	share_meeting_target: float | None
	modal_score_share: float | None
	current_target: float | None
	suggested_target: float | None
	suggestion: str | None
	does_not_discriminate: bool
	target_everyone_beats: bool
	target_everyone_misses: bool
	correlations: dict[str, Correlation] = field(default_factory=dict)

	@property
	def strongest(self) -> Correlation | None:
		"""The correlation with the largest |r| (ties: the KPI code first in order)."""
		if not self.correlations:
			return None
		return max(sorted(self.correlations.values(), key=lambda c: c.kpi), key=lambda c: abs(c.r))


def _sign(direction: str) -> int:
	return -1 if direction == LOWER_IS_BETTER else 1


def share(hits: int, total: int) -> float | None:
	"""hits ÷ total × 100, None for an empty total."""
	return hits * 100.0 / total if total else None


def modal_share(scores: Sequence[float]) -> float | None:
	"""Percent of the scores equal (to 1e-6) to the most frequent score; None when there are none."""
	if not scores:
		return None
	counts: dict[float, int] = defaultdict(int)
	for score in scores:
		counts[round(score, 6)] += 1
	return share(max(counts.values()), len(scores))


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
	"""Pearson's r of two equally long samples; None with fewer than 2 pairs or no variance on a side."""
	if len(xs) != len(ys):
		raise ValueError("pearson() needs samples of equal length")
	n = len(xs)
	if n < 2:
		return None
	mean_x, mean_y = math.fsum(xs) / n, math.fsum(ys) / n
	sxx = math.fsum((x - mean_x) ** 2 for x in xs)
	syy = math.fsum((y - mean_y) ** 2 for y in ys)
	if sxx <= 0 or syy <= 0:
		return None
	sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
	return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def _as_line(line: KpiLine | Mapping[str, Any]) -> KpiLine:
	if isinstance(line, KpiLine):
		return line
	return KpiLine(
		kpi=line["kpi"],
		appraisal=line["appraisal"],
		actual=line.get("actual"),
		score=line.get("score"),
		target=line.get("target"),
		direction=line.get("direction") or HIGHER_IS_BETTER,
		cap=line.get("cap") if line.get("cap") is not None else DEFAULT_CAP,
	)


def _suggestion(direction: str, current: float | None, suggested: float | None) -> str | None:
	if current is None or suggested is None or abs(suggested - current) <= TOLERANCE:
		return None
	return HARDER if _sign(direction) * (suggested - current) > 0 else EASIER


def kpi_health(
	lines: Iterable[KpiLine | Mapping[str, Any]],
	*,
	flat_stdev: float = FLAT_STDEV,
	same_score_share: float = SAME_SCORE_SHARE,
	beats_share: float = BEATS_SHARE,
	misses_share: float = MISSES_SHARE,
	min_lines: int = MIN_LINES,
	min_pairs: int = MIN_PAIRS,
) -> list[KpiHealth]:
	"""Health of every KPI in ``lines`` (sorted by KPI code); see the module docstring for the rules."""
	by_kpi: dict[str, list[KpiLine]] = defaultdict(list)
	for raw in lines:
		line = _as_line(raw)
		by_kpi[line.kpi].append(line)

	# actuals per KPI and appraisal, for the correlations (a repeated line is averaged)
	actuals: dict[str, dict[str, float]] = {}
	for kpi, kpi_lines in by_kpi.items():
		values: dict[str, list[float]] = defaultdict(list)
		for line in kpi_lines:
			actual = finite_or_none(line.actual)
			if actual is not None:
				values[line.appraisal].append(actual)
		actuals[kpi] = {appraisal: math.fsum(v) / len(v) for appraisal, v in values.items()}

	results = []
	for kpi in sorted(by_kpi):
		kpi_lines = by_kpi[kpi]
		direction = kpi_lines[0].direction or HIGHER_IS_BETTER
		sign = _sign(direction)
		with_data = [line for line in kpi_lines if finite_or_none(line.actual) is not None]
		scored = [line for line in with_data if finite_or_none(line.score) is not None]
		scores = [finite_or_none(line.score) for line in scored]
		at_cap = sum(
			1 for line in scored if finite_or_none(line.score) >= finite_or_none(line.cap) - TOLERANCE
		)
		at_zero = sum(1 for score in scores if abs(score) <= TOLERANCE)
		targeted = [line for line in with_data if finite_or_none(line.target) is not None]
		better = sum(
			1
			for line in targeted
			if sign * (finite_or_none(line.actual) - finite_or_none(line.target)) > TOLERANCE
		)
		meeting = sum(
			1
			for line in targeted
			if sign * (finite_or_none(line.actual) - finite_or_none(line.target)) >= -TOLERANCE
		)
		stdev = statistics.stdev(scores) if len(scores) >= 2 else None
		modal = modal_share(scores)
		enough = len(with_data) >= min_lines
		share_better = share(better, len(targeted))
		share_meeting = share(meeting, len(targeted))
		targets = [
			finite_or_none(line.target) for line in kpi_lines if finite_or_none(line.target) is not None
		]
		current = statistics.median(targets) if targets else None
		suggested = (
			statistics.median([finite_or_none(line.actual) for line in with_data]) if with_data else None
		)

		correlations = {}
		own = actuals[kpi]
		for other in sorted(by_kpi):
			if other == kpi:
				continue
			common = sorted(set(own) & set(actuals[other]))
			if len(common) < max(min_pairs, 2):
				continue
			r = pearson([own[a] for a in common], [actuals[other][a] for a in common])
			if r is not None:
				correlations[other] = Correlation(other, r, len(common))

		results.append(
			KpiHealth(
				kpi=kpi,
				direction=direction,
				lines=len(kpi_lines),
				lines_with_data=len(with_data),
				mean_score=statistics.fmean(scores) if scores else None,
				stdev_score=stdev,
				share_at_cap=share(at_cap, len(scored)),
				share_at_zero=share(at_zero, len(scored)),
				share_better_than_target=share_better,
				share_meeting_target=share_meeting,
				modal_score_share=modal,
				current_target=current,
				suggested_target=suggested,
				suggestion=_suggestion(direction, current, suggested),
				does_not_discriminate=bool(
					enough
					and len(scores) >= min_lines
					and (
						(stdev is not None and stdev < flat_stdev)
						or (modal is not None and modal >= same_score_share - TOLERANCE)
					)
				),
				target_everyone_beats=bool(
					enough and share_better is not None and share_better >= beats_share - TOLERANCE
				),
				target_everyone_misses=bool(
					enough and share_meeting is not None and share_meeting <= misses_share + TOLERANCE
				),
				correlations=correlations,
			)
		)
	return results
