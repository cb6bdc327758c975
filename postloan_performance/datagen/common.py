"""Helpers shared by the generator's modules: random streams, day numbers, codes, frames, the calendar."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from postloan_performance.datagen.schema import COLUMNS
from postloan_performance.engine.delinquency import (
	BUCKET_UPPER_DPD,
	CLASSIFICATION_UPPER_DPD,
)

# -------------------------------------------------------------------------------------------------- helpers


def bucket_of(dpd: np.ndarray) -> np.ndarray:
	"""Bucket index 0..6 (M0 … M6+) of days past due: 0, 1–30, 31–60, 61–90, 91–120, 121–150, 151+."""
	uppers = np.array([upper for upper, _ in BUCKET_UPPER_DPD], dtype=np.int64)
	return np.searchsorted(uppers, np.maximum(np.asarray(dpd, dtype=np.int64), 0), side="left")


def classification_of(dpd: np.ndarray) -> np.ndarray:
	"""Classification index 0..4: 0 Normal, 1–90 Special Mention, 91–270 Substandard, 271–360 Doubtful, Loss."""
	uppers = np.array([upper for upper, _ in CLASSIFICATION_UPPER_DPD], dtype=np.int64)
	return np.searchsorted(uppers, np.asarray(dpd, dtype=np.int64), side="left")


def _rng(seed: int, stream: int) -> np.random.Generator:
	return np.random.default_rng([int(seed) % (1 << 64), stream])


def _to_date(value: str | dt.date | dt.datetime) -> dt.date:
	if isinstance(value, dt.datetime):
		return value.date()
	if isinstance(value, dt.date):
		return value
	return dt.date.fromisoformat(str(value))


def _day(value: dt.date) -> int:
	return int(np.datetime64(value, "D").astype(np.int64))


def _dates(days: np.ndarray) -> np.ndarray:
	"""int64 day numbers (NO_DAY = missing) → datetime64[ns] with NaT."""
	return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")


def _datetimes(seconds: np.ndarray) -> np.ndarray:
	return np.asarray(seconds, dtype=np.int64).astype("datetime64[s]").astype("datetime64[ns]")


def _ascii(matrix: np.ndarray) -> np.ndarray:
	"""Rows of ASCII codes (uint8, one row per string) → object array of str, without a Python loop."""
	matrix = np.ascontiguousarray(matrix, dtype=np.uint8)
	width = matrix.shape[1]
	return matrix.view(f"S{width}").ravel().astype(f"U{width}").astype(object)


def _ascii_rows(values: np.ndarray) -> np.ndarray:
	"""Equal-length ASCII strings → their rows of codes (n × width uint8)."""
	encoded = np.asarray(values).astype("S")
	return encoded.view(np.uint8).reshape(len(encoded), encoded.dtype.itemsize)


def _codes(prefix: str, count: int, width: int) -> np.ndarray:
	"""``prefix`` + zero-padded 1 … count ("ACT0000001" …), at least ``width`` digits."""
	width = max(width, len(str(count)))
	powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
	digits = (np.arange(1, count + 1, dtype=np.int64)[:, None] // powers) % 10 + ord("0")
	head = np.broadcast_to(np.frombuffer(prefix.encode("ascii"), dtype=np.uint8), (count, len(prefix)))
	return _ascii(np.hstack([head, digits.astype(np.uint8)]))


def _pick(labels: tuple[str, ...], index: np.ndarray) -> np.ndarray:
	return np.array(labels, dtype=object)[np.asarray(index, dtype=np.int64)]


def _choice(rng: np.random.Generator, probabilities: np.ndarray, size: int) -> np.ndarray:
	"""Index into a probability vector (or one row per draw from a 2-D table)."""
	cumulative = np.cumsum(np.asarray(probabilities, dtype=float), axis=-1)
	draw = rng.random(size) * (cumulative[..., -1] if cumulative.ndim > 1 else cumulative[-1])
	if cumulative.ndim == 1:
		return np.minimum(np.searchsorted(cumulative, draw, side="right"), len(cumulative) - 1)
	return np.minimum((cumulative < draw[:, None]).sum(axis=1), cumulative.shape[1] - 1)


def _uniform_days(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
	"""A uniform integer day in [low, high] per row (high >= low)."""
	low = np.asarray(low, dtype=np.int64)
	span = np.maximum(np.asarray(high, dtype=np.int64) - low + 1, 1)
	return low + (rng.random(len(low)) * span).astype(np.int64)


def _object(values: list | np.ndarray) -> pd.Series:
	"""A column that keeps Python None (nullable Link values) instead of pandas' NaN."""
	return pd.Series(np.asarray(values, dtype=object), dtype=object)


_DATE_COLUMNS = frozenset(
	(
		"from_date to_date disbursed_on maturity_date as_of_date opened_on closed_on action_on ptp_date received_on "
		"raised_on outcome_on reported_on resolved_on report_date first_response_on given_on"
	).split()
)
_FLOAT_COLUMNS = frozenset(
	"principal collateral_value outstanding overdue_amount entry_overdue_amount ptp_amount amount".split()
)
_INT_COLUMNS = frozenset("dpd is_group quality_rating csat nps fairness clarity motivation workload".split())


def _empty(column: str) -> np.ndarray:
	if column in _DATE_COLUMNS:
		return np.zeros(0, dtype="datetime64[ns]")
	if column in _FLOAT_COLUMNS:
		return np.zeros(0, dtype=float)
	if column in _INT_COLUMNS:
		return np.zeros(0, dtype=np.int64)
	if column == "is_lead":
		return np.zeros(0, dtype=bool)
	return np.zeros(0, dtype=object)


def _frame(name: str, data: dict) -> pd.DataFrame:
	"""A frame with exactly the documented columns (typed even when there are no rows)."""
	columns = list(COLUMNS[name])
	if not data:
		data = {column: _empty(column) for column in columns}
	return pd.DataFrame(data, columns=columns).reset_index(drop=True)


def _sigmoid(values: np.ndarray) -> np.ndarray:
	return 1.0 / (1.0 + np.exp(-values))


class _Calendar:
	def __init__(self, start: dt.date, months: int) -> None:
		self.start = _day(start)
		first_month = np.datetime64(start, "M")
		ends = (first_month + np.arange(1, months + 1)).astype("datetime64[D]") - np.timedelta64(1, "D")
		self.month_end = ends.astype(np.int64)
		self.month_start = np.concatenate([[self.start], self.month_end[:-1] + 1]).astype(np.int64)
		self.months = months
		self.first_month = first_month
