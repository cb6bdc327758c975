"""Collection-case assignment methods and collection-strategy rules.

Pure Python + numpy (no frappe). Each method takes the new cases of one batch (one strategy rule and one
team on one day) and the candidate collectors, and returns an :class:`Assignment`: the collector of every
case, in input order, and an explanation the Frappe layer turns into the case's assignment note.

* **Round Robin** – candidates in a fixed order (sorted by key); the batch starts after the collector who
  got the previous case of the same team and rule, and wraps around.
* **Workload Balanced** – each new case, largest overdue amount first, goes to the candidate with the
  lowest weighted load: every open case counts ½ + ½ × its overdue amount ÷ the average overdue amount
  of the open and new cases of the batch's candidates, so an average case counts 1, a case twice as large
  1.5, one with nothing overdue ½. Ties: fewer open cases, then key.
* **Performance Weighted** – collector *i* gets a share ``clip(λ × score_i, floor, cap)`` of the batch,
  λ chosen so that the shares sum to 1; ``floor`` and ``cap`` are percentages of the equal share 1/n
  (defaults 50 % and 200 %: nobody gets less than half or more than twice an equal share). A candidate
  without a published score counts with the mean score of those with one (all equal when nobody has
  one). Case counts are the shares × batch size rounded by largest remainder (ties: higher score, then
  key); which case goes to whom is a shuffle seeded by ``seed`` (deterministic).

:func:`validate_rules` checks a strategy's bucket ranges; :func:`rule_for_bucket` finds a bucket's rule.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from postloan_performance.engine import EngineError
from postloan_performance.engine.delinquency import BUCKETS

__all__ = [
	"METHODS",
	"PERFORMANCE_WEIGHTED",
	"ROUND_ROBIN",
	"WORKLOAD_BALANCED",
	"Assignment",
	"AssignmentError",
	"Candidate",
	"QueueWeights",
	"RuleRange",
	"assign",
	"performance_shares",
	"performance_weighted",
	"queue_priority",
	"round_robin",
	"rule_for_bucket",
	"seed_for",
	"validate_rules",
	"workload_balanced",
]

ROUND_ROBIN = "Round Robin"
WORKLOAD_BALANCED = "Workload Balanced"
PERFORMANCE_WEIGHTED = "Performance Weighted"
METHODS = (ROUND_ROBIN, WORKLOAD_BALANCED, PERFORMANCE_WEIGHTED)
DEFAULT_FLOOR_PCT = 50.0
DEFAULT_CAP_PCT = 200.0


class AssignmentError(EngineError):
	"""codes: ``no_candidates``, ``unknown_method`` (method), ``floor_cap`` (floor, cap), ``bucket_order``
	(row), ``unknown_bucket`` (row, bucket), ``overlap`` (row, other), ``gap`` (buckets), ``no_rules``."""


@dataclass(frozen=True)
class Candidate:
	"""A collector who may get cases: his key, current open cases and their overdue amount, last score."""

	key: str
	open_cases: int = 0
	open_amount: float = 0.0
	score: float | None = None


@dataclass
class Assignment:
	"""``collectors[i]`` gets case i. ``explanation``: method, per-candidate figures, and method details."""

	collectors: list[str]
	method: str
	candidates: list[dict] = field(default_factory=list)
	details: dict = field(default_factory=dict)

	def counts(self) -> dict[str, int]:
		out = {c["key"]: 0 for c in self.candidates}
		for key in self.collectors:
			out[key] = out.get(key, 0) + 1
		return out


def seed_for(*parts) -> int:
	"""A stable seed from strings (e.g. the day, the team and the rule)."""
	return zlib.crc32("\x1f".join(str(p) for p in parts).encode("utf-8"))


def _check(candidates: Sequence[Candidate]) -> list[Candidate]:
	if not candidates:
		raise AssignmentError("no_candidates")
	unique: dict[str, Candidate] = {}
	for candidate in candidates:
		unique.setdefault(candidate.key, candidate)
	return [unique[key] for key in sorted(unique)]


def _figures(candidates: Sequence[Candidate]) -> list[dict]:
	return [
		{"key": c.key, "open_cases": int(c.open_cases), "open_amount": float(c.open_amount), "score": c.score}
		for c in candidates
	]


# --- round robin -------------------------------------------------------------------------------------


def round_robin(n: int, candidates: Sequence[Candidate], last: str | None = None) -> Assignment:
	"""``n`` cases to the candidates in key order, starting after ``last`` (the previous case's collector).

	When ``last`` is no longer a candidate, the turn goes to the first candidate whose key sorts after it.
	"""
	ordered = _check(candidates)
	keys = [c.key for c in ordered]
	start = 0
	if last is not None:
		start = next((i for i, key in enumerate(keys) if key > last), 0)
		if last in keys:
			start = (keys.index(last) + 1) % len(keys)
	collectors = [keys[(start + i) % len(keys)] for i in range(n)]
	return Assignment(
		collectors, ROUND_ROBIN, _figures(ordered), {"order": keys, "after": last, "first": keys[start]}
	)


# --- workload balanced -------------------------------------------------------------------------------


def workload_balanced(amounts: Sequence[float], candidates: Sequence[Candidate]) -> Assignment:
	"""Each case (largest overdue first) to the candidate with the lowest weighted load; see module doc."""
	ordered = _check(candidates)
	amounts = [max(float(a or 0.0), 0.0) for a in amounts]
	open_count = sum(c.open_cases for c in ordered)
	total = sum(max(c.open_amount, 0.0) for c in ordered) + sum(amounts)
	count = open_count + len(amounts)
	reference = total / count if count and total > 0 else 0.0

	def weight(cases: float, amount: float) -> float:
		if reference <= 0:
			return float(cases)
		return 0.5 * cases + 0.5 * amount / reference

	loads = {c.key: weight(c.open_cases, max(c.open_amount, 0.0)) for c in ordered}
	counts = {c.key: c.open_cases for c in ordered}
	heap = [(loads[c.key], counts[c.key], c.key) for c in ordered]
	heapq.heapify(heap)
	collectors: list[str | None] = [None] * len(amounts)
	order = sorted(range(len(amounts)), key=lambda i: (-amounts[i], i))
	for i in order:
		load, cases, key = heapq.heappop(heap)
		collectors[i] = key
		load += weight(1, amounts[i])
		heapq.heappush(heap, (load, cases + 1, key))
	figures = _figures(ordered)
	for row in figures:
		row["load"] = round(loads[row["key"]], 4)
	return Assignment(
		[str(c) for c in collectors], WORKLOAD_BALANCED, figures, {"reference_amount": round(reference, 2)}
	)


# --- performance weighted ----------------------------------------------------------------------------


def performance_shares(
	scores: Sequence[float | None], floor_pct: float = DEFAULT_FLOOR_PCT, cap_pct: float = DEFAULT_CAP_PCT
) -> np.ndarray:
	"""Shares (summing to 1) proportional to the scores, each within [floor, cap] × the equal share.

	Missing scores take the mean of the known ones; negative scores count as 0. All equal when every
	score is missing or zero.
	"""
	if floor_pct is None:
		floor_pct = DEFAULT_FLOOR_PCT
	if cap_pct is None:
		cap_pct = DEFAULT_CAP_PCT
	if not (0 <= floor_pct <= 100 <= cap_pct):
		raise AssignmentError("floor_cap", floor=floor_pct, cap=cap_pct)
	n = len(scores)
	if n == 0:
		raise AssignmentError("no_candidates")
	known = [float(s) for s in scores if s is not None and np.isfinite(float(s))]
	fill = float(np.mean(known)) if known else 1.0
	values = np.array(
		[max(float(s), 0.0) if s is not None and np.isfinite(float(s)) else fill for s in scores], dtype=float
	)
	if values.sum() <= 0:
		return np.full(n, 1.0 / n)
	equal = 1.0 / n
	low, high = floor_pct / 100.0 * equal, cap_pct / 100.0 * equal
	# total(λ) = Σ clip(λ s, low, high) grows with λ from n·low ≤ 1 to n·high ≥ 1: bisect for total = 1
	lo, hi = 0.0, 1.0
	while np.clip(hi * values, low, high).sum() < 1.0:
		hi *= 2.0
		if hi > 1e12:  # only zero scores left free: they stay at the floor, the rest at the cap
			break
	for _ in range(200):
		mid = (lo + hi) / 2.0
		if np.clip(mid * values, low, high).sum() < 1.0:
			lo = mid
		else:
			hi = mid
	shares = np.clip(hi * values, low, high)
	return shares / shares.sum()


def performance_weighted(
	n: int,
	candidates: Sequence[Candidate],
	floor_pct: float = DEFAULT_FLOOR_PCT,
	cap_pct: float = DEFAULT_CAP_PCT,
	seed: int = 0,
) -> Assignment:
	"""``n`` cases split by :func:`performance_shares`; counts by largest remainder; seeded order."""
	ordered = _check(candidates)
	shares = performance_shares([c.score for c in ordered], floor_pct, cap_pct)
	exact = shares * n
	counts = np.floor(exact).astype(int)
	left = n - int(counts.sum())
	if left > 0:
		scores = np.array([c.score if c.score is not None else -np.inf for c in ordered], dtype=float)
		remainder = exact - counts
		# largest remainder first; ties: higher score, then key order (position)
		rank = sorted(range(len(ordered)), key=lambda i: (-round(remainder[i], 12), -scores[i], i))
		for i in rank[:left]:
			counts[i] += 1
	pool = np.repeat(np.arange(len(ordered)), counts)
	np.random.default_rng(seed).shuffle(pool)
	collectors = [ordered[i].key for i in pool]
	figures = _figures(ordered)
	for row, share, count in zip(figures, shares, counts, strict=True):
		row["share"] = round(float(share), 6)
		row["cases"] = int(count)
	return Assignment(
		collectors,
		PERFORMANCE_WEIGHTED,
		figures,
		{"floor_pct": floor_pct, "cap_pct": cap_pct, "seed": seed},
	)


def assign(
	method: str,
	amounts: Sequence[float],
	candidates: Sequence[Candidate],
	*,
	last: str | None = None,
	floor_pct: float | None = None,
	cap_pct: float | None = None,
	seed: int = 0,
) -> Assignment:
	"""Dispatch to a method by its name (the strategy rule's Select value)."""
	if method == ROUND_ROBIN:
		return round_robin(len(amounts), candidates, last)
	if method == WORKLOAD_BALANCED:
		return workload_balanced(amounts, candidates)
	if method == PERFORMANCE_WEIGHTED:
		return performance_weighted(
			len(amounts),
			candidates,
			DEFAULT_FLOOR_PCT if floor_pct is None else floor_pct,
			DEFAULT_CAP_PCT if cap_pct is None else cap_pct,
			seed,
		)
	raise AssignmentError("unknown_method", method=method)


# --- strategy rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRange:
	"""One rule row of a strategy: the buckets it covers (inclusive), by bucket name."""

	from_bucket: str
	to_bucket: str
	method: str = ROUND_ROBIN
	floor_pct: float | None = None
	cap_pct: float | None = None


DELINQUENT_BUCKETS = BUCKETS[1:]


def validate_rules(rules: Sequence[RuleRange]) -> None:
	"""Rules must cover M1 … M6+ exactly once (no gap, no overlap), each from ≤ to, known methods."""
	if not rules:
		raise AssignmentError("no_rules")
	covered: dict[str, int] = {}
	for row, rule in enumerate(rules, start=1):
		for bucket in (rule.from_bucket, rule.to_bucket):
			if bucket not in DELINQUENT_BUCKETS:
				raise AssignmentError("unknown_bucket", row=row, bucket=bucket)
		low, high = BUCKETS.index(rule.from_bucket), BUCKETS.index(rule.to_bucket)
		if low > high:
			raise AssignmentError("bucket_order", row=row)
		if rule.method not in METHODS:
			raise AssignmentError("unknown_method", method=rule.method, row=row)
		if rule.method == PERFORMANCE_WEIGHTED:
			floor = DEFAULT_FLOOR_PCT if rule.floor_pct is None else rule.floor_pct
			cap = DEFAULT_CAP_PCT if rule.cap_pct is None else rule.cap_pct
			if not (0 <= floor <= 100 <= cap):
				raise AssignmentError("floor_cap", floor=floor, cap=cap, row=row)
		for bucket in BUCKETS[low : high + 1]:
			if bucket in covered:
				raise AssignmentError("overlap", row=row, other=covered[bucket], bucket=bucket)
			covered[bucket] = row
	missing = [b for b in DELINQUENT_BUCKETS if b not in covered]
	if missing:
		raise AssignmentError("gap", buckets=missing)


def rule_for_bucket(rules: Sequence[RuleRange], bucket: int) -> int:
	"""Index of the rule covering bucket number ``bucket`` (1 … 6), or -1."""
	for index, rule in enumerate(rules):
		if BUCKETS.index(rule.from_bucket) <= bucket <= BUCKETS.index(rule.to_bucket):
			return index
	return -1


# --- the collector's queue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueWeights:
	"""Points of the queue priority: per tenfold overdue amount, per bucket, per broken promise (at most
	``max_broken`` count), and at 100 % propensity to pay."""

	overdue: float = 10.0
	bucket: float = 10.0
	broken_promise: float = 15.0
	propensity: float = 30.0
	max_broken: int = 3


DEFAULT_WEIGHTS = QueueWeights()


def queue_priority(
	overdue,
	bucket,
	broken_promises,
	propensity=None,
	weights: QueueWeights = DEFAULT_WEIGHTS,
) -> pd.DataFrame:
	"""Priority of each open case and its parts: ``overdue_points`` = weight × log10(1 + overdue amount),
	``bucket_points`` = weight × bucket number (M1 = 1 … M6+ = 6), ``broken_promise_points`` = weight ×
	min(broken promises, max_broken), ``propensity_points`` = weight × propensity (0–1; 0 when missing or
	when the model is off, i.e. ``propensity`` is None). ``priority`` is their sum: higher is worked first.
	"""
	overdue = np.nan_to_num(np.asarray(overdue, dtype=float), nan=0.0)
	bucket = np.nan_to_num(np.asarray(bucket, dtype=float), nan=0.0)
	broken = np.nan_to_num(np.asarray(broken_promises, dtype=float), nan=0.0)
	parts = pd.DataFrame(
		{
			"overdue_points": weights.overdue * np.log10(1.0 + np.maximum(overdue, 0.0)),
			"bucket_points": weights.bucket * np.maximum(bucket, 0.0),
			"broken_promise_points": weights.broken_promise
			* np.minimum(np.maximum(broken, 0.0), weights.max_broken),
		}
	)
	if propensity is None:
		parts["propensity_points"] = 0.0
	else:
		p = np.clip(np.nan_to_num(np.asarray(propensity, dtype=float), nan=0.0), 0.0, 1.0)
		parts["propensity_points"] = weights.propensity * p
	parts["priority"] = parts.sum(axis=1)
	return parts
