"""Significance tests for the Scheme Effect Evaluation report (baseline period vs scheme period).

numpy only; scipy is imported lazily by :func:`welch_t_test` for the exact t-distribution p-value and is
optional. No frappe.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["permutation_test", "welch_t_test"]


def _clean(values: Iterable[Any]) -> np.ndarray:
	array = np.asarray([np.nan if v is None else v for v in values], dtype=float)
	return array[np.isfinite(array)]


def _t_p_value(t: float, df: float) -> float:
	try:
		from scipy import stats as scipy_stats
	except ImportError:
		# normal approximation of the two-sided p-value: good for df ≳ 30, slightly optimistic below
		return math.erfc(abs(t) / math.sqrt(2.0))
	return float(2.0 * scipy_stats.t.sf(abs(t), df))


def welch_t_test(a: Iterable[Any], b: Iterable[Any]) -> dict[str, Any]:
	"""Welch's unequal-variance t-test of ``b`` against ``a`` (e.g. a = baseline, b = scheme period).

	Returns ``{n_a, n_b, mean_a, mean_b, delta, t, df, p_value}`` with ``delta = mean_b − mean_a`` and
	``t = delta / √(s_a²/n_a + s_b²/n_b)`` (so t has the sign of delta), Welch–Satterthwaite ``df`` and the
	two-sided p-value. None/NaN/inf values are dropped. Means are None for an empty sample; t, df and
	p_value are None when a sample has fewer than 2 values or both samples have zero variance (no test is
	possible). The p-value uses scipy's t distribution when scipy is installed, else the normal
	approximation ``erfc(|t| / √2)``.
	"""
	first, second = _clean(a), _clean(b)
	n_a, n_b = len(first), len(second)
	mean_a = float(first.mean()) if n_a else None
	mean_b = float(second.mean()) if n_b else None
	delta = mean_b - mean_a if mean_a is not None and mean_b is not None else None
	result: dict[str, Any] = {
		"n_a": n_a,
		"n_b": n_b,
		"mean_a": mean_a,
		"mean_b": mean_b,
		"delta": delta,
		"t": None,
		"df": None,
		"p_value": None,
	}
	if n_a < 2 or n_b < 2 or delta is None:
		return result
	var_a = float(first.var(ddof=1)) / n_a
	var_b = float(second.var(ddof=1)) / n_b
	standard_error_sq = var_a + var_b
	if standard_error_sq <= 0:
		return result
	t = delta / math.sqrt(standard_error_sq)
	df = standard_error_sq**2 / (var_a**2 / (n_a - 1) + var_b**2 / (n_b - 1))
	result.update(t=t, df=df, p_value=_t_p_value(t, df))
	return result


def permutation_test(
	a: Iterable[Any], b: Iterable[Any], n_resamples: int = 10000, seed: int | None = 0
) -> float | None:
	"""Two-sided permutation test of the difference in means (numpy only, reproducible with ``seed``).

	The pooled values are shuffled ``n_resamples`` times; p = (1 + #{|Δ*| ≥ |Δ|}) / (1 + n_resamples), the
	add-one estimate that is never 0. None/NaN values are dropped; None when a sample is empty.
	"""
	first, second = _clean(a), _clean(b)
	n_a, n_b = len(first), len(second)
	if n_a == 0 or n_b == 0 or n_resamples < 1:
		return None
	pooled = np.concatenate([first, second])
	observed = abs(second.mean() - first.mean())
	rng = np.random.default_rng(seed)
	hits = 0
	batch = max(1, min(n_resamples, 1_000_000 // max(len(pooled), 1)))
	done = 0
	while done < n_resamples:
		size = min(batch, n_resamples - done)
		shuffled = rng.permuted(np.broadcast_to(pooled, (size, len(pooled))), axis=1)
		deltas = np.abs(shuffled[:, n_a:].mean(axis=1) - shuffled[:, :n_a].mean(axis=1))
		# tolerance: permutations equal to the observed split must count despite float summation order
		hits += int(np.count_nonzero(deltas >= observed - 1e-12 * max(1.0, observed)))
		done += size
	return (hits + 1) / (n_resamples + 1)
