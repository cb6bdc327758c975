"""Delinquency: buckets, the five-category classification and the collection-case lifecycle.

Pure numpy + pandas (no frappe). This module holds the app's ONE definition of the delinquency buckets and
of the default classification thresholds; ``engine.row_rules``, ``datagen`` and the Frappe services import
them from here.

Buckets (30-day steps, seven buckets): M0 = current (0 DPD), M1 = 1–30, M2 = 31–60, M3 = 61–90,
M4 = 91–120, M5 = 121–150, M6+ = 151 DPD and more. (A literal "M6+ = over 180" would need an M6 bucket
for 151–180 and an eighth bucket; the app keeps seven buckets, so M6+ starts after M5 at 151 DPD.)

Five-category classification (五级分类) from DPD, after the 2023 CBIRC/PBoC *Measures for the Risk
Classification of Financial Assets of Commercial Banks* (商业银行金融资产风险分类办法): overdue → at least
Special Mention (关注), over 90 DPD → at least Substandard (次级), over 270 → at least Doubtful (可疑), over
360 → Loss (损失). The thresholds are configurable per product (:class:`Thresholds`); the proposed class is
the most severe class whose threshold the DPD exceeds. A manual classification, when recorded, wins.

Case lifecycle (:func:`case_decisions`): one decision per loan from its current snapshot, its loan status
and its open case (if any); see the function for the exact rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from postloan_performance.engine import EngineError

__all__ = [
	"BUCKETS",
	"BUCKET_LOWER_DPD",
	"BUCKET_UPPER_DPD",
	"CLASSIFICATIONS",
	"CLASSIFICATION_UPPER_DPD",
	"CLOSED_CASE_STATUSES",
	"DEFAULT_THRESHOLDS",
	"NPL_CLASSIFICATIONS",
	"OPEN_CASE_STATUSES",
	"DelinquencyError",
	"Thresholds",
	"bucket_index",
	"bucket_labels",
	"case_decisions",
	"classification_index",
	"classify",
	"effective_classification",
	"less_severe_than_proposed",
]

# --- buckets -----------------------------------------------------------------------------------------

# The highest dpd of each bucket, in order; above the last one is BUCKETS[-1] ("M6+").
BUCKET_UPPER_DPD: tuple[tuple[int, str], ...] = (
	(0, "M0"),
	(30, "M1"),
	(60, "M2"),
	(90, "M3"),
	(120, "M4"),
	(150, "M5"),
)
BUCKETS: tuple[str, ...] = (*(b for _, b in BUCKET_UPPER_DPD), "M6+")
# The lowest dpd of each bucket (M0 0, M1 1, M2 31 … M6+ 151).
BUCKET_LOWER_DPD: tuple[int, ...] = (0, *(upper + 1 for upper, _ in BUCKET_UPPER_DPD))

_UPPERS = np.array([upper for upper, _ in BUCKET_UPPER_DPD], dtype=float)


def bucket_index(dpd) -> np.ndarray:
	"""Bucket number 0 … 6 (M0 … M6+) of each dpd; -1 where dpd is blank or negative."""
	values = np.asarray(pd.to_numeric(pd.Series(dpd, dtype=object), errors="coerce"), dtype=float)
	index = np.minimum(np.searchsorted(_UPPERS, values, side="left"), len(BUCKETS) - 1)
	return np.where(np.isfinite(values) & (values >= 0), index, -1).astype(np.int64)


def bucket_labels(index) -> np.ndarray:
	"""Bucket names of bucket numbers (None for -1)."""
	index = np.asarray(index, dtype=np.int64)
	labels = np.array(BUCKETS, dtype=object)[np.clip(index, 0, len(BUCKETS) - 1)]
	return np.where(index >= 0, labels, None)


# --- classification ----------------------------------------------------------------------------------

CLASSIFICATIONS: tuple[str, ...] = ("Normal", "Special Mention", "Substandard", "Doubtful", "Loss")
NPL_CLASSIFICATIONS: tuple[str, ...] = CLASSIFICATIONS[2:]


class DelinquencyError(EngineError):
	"""Invalid thresholds: ``threshold_order`` (details: product, values) or ``negative_threshold``."""


@dataclass(frozen=True)
class Thresholds:
	"""DPD above which a loan is at least Special Mention / Substandard / Doubtful / Loss."""

	special_mention: int = 0
	substandard: int = 90
	doubtful: int = 270
	loss: int = 360

	def as_tuple(self) -> tuple[int, int, int, int]:
		return (self.special_mention, self.substandard, self.doubtful, self.loss)

	def validate(self, product: str | None = None) -> Thresholds:
		values = self.as_tuple()
		if any(v is None or v < 0 for v in values):
			raise DelinquencyError("negative_threshold", product=product, values=values)
		if any(a > b for a, b in itertools.pairwise(values)):
			raise DelinquencyError("threshold_order", product=product, values=values)
		return self

	def upper_bounds(self) -> tuple[tuple[int, str], ...]:
		"""(highest dpd, class) pairs: the form ``engine.row_rules`` reads."""
		return tuple(zip(self.as_tuple(), CLASSIFICATIONS[:-1], strict=True))


DEFAULT_THRESHOLDS = Thresholds()
CLASSIFICATION_UPPER_DPD: tuple[tuple[int, str], ...] = DEFAULT_THRESHOLDS.upper_bounds()


def classification_index(dpd, thresholds: np.ndarray | Thresholds = DEFAULT_THRESHOLDS) -> np.ndarray:
	"""Class number 0 … 4 (Normal … Loss) of each dpd; -1 where dpd is blank or negative.

	``thresholds`` is one :class:`Thresholds` for all rows or an (n, 4) array, one row of thresholds per dpd.
	"""
	values = np.asarray(pd.to_numeric(pd.Series(dpd, dtype=object), errors="coerce"), dtype=float)
	if isinstance(thresholds, Thresholds):
		bounds = np.broadcast_to(np.array(thresholds.as_tuple(), dtype=float), (len(values), 4))
	else:
		bounds = np.asarray(thresholds, dtype=float).reshape(len(values), 4)
	index = (values[:, None] > bounds).sum(axis=1)
	return np.where(np.isfinite(values) & (values >= 0), index, -1).astype(np.int64)


def classify(
	dpd,
	product=None,
	by_product: Mapping[str, Thresholds] | None = None,
	default: Thresholds = DEFAULT_THRESHOLDS,
) -> np.ndarray:
	"""Proposed classification (label) of each dpd, with the thresholds of each row's product.

	Products without their own thresholds (and blank products) use ``default``. None where dpd is invalid.
	"""
	dpd = np.asarray(dpd, dtype=object)
	n = len(dpd)
	bounds = np.broadcast_to(np.array(default.as_tuple(), dtype=float), (n, 4)).copy()
	if by_product and product is not None:
		products = pd.Series(np.asarray(product, dtype=object)).fillna("").astype(str).to_numpy()
		for name, thresholds in by_product.items():
			rows = products == name
			if rows.any():
				bounds[rows] = thresholds.as_tuple()
	index = classification_index(dpd, bounds)
	labels = np.array(CLASSIFICATIONS, dtype=object)[np.clip(index, 0, len(CLASSIFICATIONS) - 1)]
	return np.where(index >= 0, labels, None)


def effective_classification(proposed, manual) -> np.ndarray:
	"""The manual classification where one is recorded, else the proposed one."""
	proposed = np.asarray(proposed, dtype=object)
	manual = np.asarray(manual, dtype=object)
	has_manual = pd.Series(manual).isin(CLASSIFICATIONS).to_numpy()
	return np.where(has_manual, manual, proposed)


def less_severe_than_proposed(manual: str | None, proposed: str | None) -> bool:
	"""True when a manual class is milder than the DPD-based one (the regulation's floor is not met)."""
	if manual not in CLASSIFICATIONS or proposed not in CLASSIFICATIONS:
		return False
	return CLASSIFICATIONS.index(manual) < CLASSIFICATIONS.index(proposed)


# --- collection-case lifecycle -----------------------------------------------------------------------

OPEN_CASE_STATUSES: tuple[str, ...] = ("Open", "In Progress", "Promise to Pay", "Outsourced", "Legal")
CLOSED_CASE_STATUSES: tuple[str, ...] = ("Cured", "Paid Off", "Written Off")

# decisions
NONE = "none"
OPEN = "open"  # no open case and the loan is delinquent
ESCALATE = "escalate"  # open case, the loan rolled to a later bucket than the case's current bucket
REBUCKET = "rebucket"  # open case, the loan moved back to an earlier (still delinquent) bucket
CURE = "cure"  # open case, the loan is back to M0 with a balance: close as Cured
PAY_OFF = "pay_off"  # open case, the loan is settled (outstanding 0 or status Settled): close as Paid Off
WRITE_OFF = "write_off"  # open case, the loan is written off: close as Written Off
DECISIONS = (NONE, OPEN, ESCALATE, REBUCKET, CURE, PAY_OFF, WRITE_OFF)
CLOSING_STATUS = {CURE: "Cured", PAY_OFF: "Paid Off", WRITE_OFF: "Written Off"}


def case_decisions(
	dpd,
	outstanding,
	loan_status,
	case_bucket,
	prev_dpd=None,
) -> pd.DataFrame:
	"""What the daily job does with each loan, from its snapshot of the day and its open case.

	Inputs (one row per loan, array-likes of equal length): ``dpd`` and ``outstanding`` of the current
	snapshot; ``loan_status`` (Active / Settled / Written Off); ``case_bucket``: the bucket number (0 … 6) the
	loan's open case is in, or -1 when the loan has no open case; ``prev_dpd``: dpd of the loan's previous
	snapshot (NaN when none), only used to say why a case opens.

	Rules, in this order:

	1. written off (loan status) with an open case → ``write_off``;
	2. settled (loan status Settled, or outstanding 0) with an open case → ``pay_off``;
	3. open case and the loan is current (M0) → ``cure``;
	4. open case and the bucket is later than the case's bucket → ``escalate``;
	   earlier but still delinquent → ``rebucket`` (the case follows the loan; no re-assignment);
	5. no open case, the loan is delinquent (M1 or later) and neither settled nor written off → ``open``;
	6. otherwise ``none``.

	Returns a frame with ``decision``, ``bucket`` (number) and ``reason``: for ``open`` "entered" when the
	previous snapshot was current or missing, "delinquent" when the loan was already delinquent without a
	case; for ``escalate``/``rebucket`` "from Mx"; else "".
	"""
	bucket = bucket_index(dpd)
	outstanding = np.nan_to_num(np.asarray(outstanding, dtype=float), nan=0.0)
	status = np.asarray(loan_status, dtype=object)
	case_bucket = np.asarray(case_bucket, dtype=np.int64)
	has_case = case_bucket >= 0
	written_off = status == "Written Off"
	settled = ~written_off & ((status == "Settled") | (outstanding <= 0))
	decision = np.select(
		[
			has_case & written_off,
			has_case & settled,
			has_case & (bucket == 0),
			has_case & (bucket > case_bucket),
			has_case & (bucket > 0) & (bucket < case_bucket),
			~has_case & (bucket > 0) & ~written_off & ~settled,
		],
		[WRITE_OFF, PAY_OFF, CURE, ESCALATE, REBUCKET, OPEN],
		NONE,
	).astype(object)
	reason = np.full(len(bucket), "", dtype=object)
	if prev_dpd is not None:
		prev = np.asarray(pd.to_numeric(pd.Series(prev_dpd, dtype=object), errors="coerce"), dtype=float)
		was_late = np.isfinite(prev) & (prev > 0)
		reason = np.where(decision == OPEN, np.where(was_late, "delinquent", "entered"), reason)
	moved = np.isin(decision, (ESCALATE, REBUCKET))
	reason = np.where(moved, "from " + bucket_labels(np.where(moved, case_bucket, 0)).astype(str), reason)
	return pd.DataFrame({"decision": decision, "bucket": bucket, "reason": reason.astype(object)})
