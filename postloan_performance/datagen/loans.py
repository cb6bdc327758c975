"""The generated loan book: products, principal, term, rate, collateral and risk of every loan."""

from __future__ import annotations

import numpy as np

from postloan_performance.datagen.common import _Calendar, _choice
from postloan_performance.datagen.organisation import _Org
from postloan_performance.datagen.schema import BRANCHES

# ------------------------------------------------------------------------------------------------ loans

PRODUCT_SHARE = np.array([0.45, 0.20, 0.15, 0.20])
PRINCIPAL_MEDIAN = np.array([30_000.0, 400_000.0, 900_000.0, 150_000.0])
PRINCIPAL_SIGMA = np.array([0.5, 0.7, 0.4, 0.35])
RATE_RANGE = np.array([[0.08, 0.18], [0.045, 0.08], [0.035, 0.05], [0.05, 0.09]])
TERMS = (np.array([24, 36]), np.array([24, 36, 60]), np.array([120, 240, 360]), np.array([36, 48, 60]))
PRODUCT_RISK = np.array([1.4, 1.1, 0.4, 0.8])
SETTLE_MONTHLY = np.array([0.004, 0.004, 0.003, 0.006])
WRITE_OFF_MONTHLY = np.array([0.20, 0.16, 0.05, 0.12])


class _Loans:
	def __init__(self, n: int, org: _Org, cal: _Calendar, rng: np.random.Generator) -> None:
		self.n = n
		self.product = _choice(rng, PRODUCT_SHARE, n)
		self.principal = np.round(
			PRINCIPAL_MEDIAN[self.product] * np.exp(rng.normal(0.0, 1.0, n) * PRINCIPAL_SIGMA[self.product]),
			-2,
		)
		low, high = RATE_RANGE[self.product, 0], RATE_RANGE[self.product, 1]
		self.monthly_rate = (low + rng.random(n) * (high - low)) / 12.0
		term = np.zeros(n, dtype=np.int64)
		for p, choices in enumerate(TERMS):
			rows = np.flatnonzero(self.product == p)
			term[rows] = rng.choice(choices, size=len(rows))
		self.term = np.maximum(term, cal.months + 3)
		growth = (1.0 + self.monthly_rate) ** self.term
		self.installment = self.principal * self.monthly_rate * growth / (growth - 1.0)
		max_age = np.clip(self.term - cal.months - 2, 1, 60)
		self.age0 = 1 + (rng.random(n) * max_age).astype(np.int64)  # installments due by the first month-end
		disbursed_month = (cal.first_month - self.age0).astype("datetime64[D]").astype(np.int64)
		day_of_month = rng.integers(0, 28, n)
		self.disbursed = disbursed_month + day_of_month
		self.maturity = (cal.first_month - self.age0 + self.term).astype("datetime64[D]").astype(
			np.int64
		) + day_of_month
		secured = np.where(self.product == 1, rng.random(n) < 0.5, self.product >= 2)
		ltv = np.select(
			[self.product == 2, self.product == 3],
			[rng.uniform(1.25, 1.8, n), rng.uniform(0.8, 1.1, n)],
			rng.uniform(0.6, 1.3, n),
		)
		self.collateral = np.where(secured, np.round(self.principal * ltv, -2), 0.0)
		self.risk = PRODUCT_RISK[self.product] * np.exp(rng.normal(0.0, 0.5, n))
		n_teams = len(org.layer_teams["Collection"])
		self.team = rng.integers(0, n_teams, n)  # local collection-team index
		self.branch = (self.team * 3 + rng.integers(0, 3, n)) % len(BRANCHES)
		n_customers = max(1, int(np.ceil(n * 0.9)))
		self.customer = np.where(np.arange(n) < n_customers, np.arange(n), rng.integers(0, n_customers, n))

	def balance(self, paid: np.ndarray, rows: np.ndarray) -> np.ndarray:
		rate = self.monthly_rate[rows]
		growth = (1.0 + rate) ** np.minimum(paid, self.term[rows])
		value = self.principal[rows] * growth - self.installment[rows] * (growth - 1.0) / rate
		return np.maximum(value, 0.0)


def _overdue(outstanding: np.ndarray, installment: np.ndarray, dpd: np.ndarray) -> np.ndarray:
	missed = (dpd + 29) // 30
	return np.minimum(outstanding, installment * missed * (1.0 + 0.0005 * dpd))
