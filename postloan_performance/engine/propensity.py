"""Propensity to pay (optional): a logistic regression of "the case ends Cured or Paid Off" on what is known
when the case opens. It only orders the collectors' queues and is off by default.

Training (:func:`train`) uses scikit-learn (``pip install scikit-learn``; imported only here, only when
training): standardised features, L2-regularised logistic regression, fitted on a stratified 75 % of the
closed cases; the AUC is measured on the other 25 % (the holdout). The fitted model is a plain dict
(feature names, means, scales, coefficients, intercept, AUC …) that the site stores as JSON; scoring
(:func:`predict`) needs only numpy.

Features of a case (:func:`features`): entry bucket number (M1 = 1 … M6+ = 6), log(1 + entry overdue
amount), log(1 + principal), secured (collateral > 0), months on book when the case opened, earlier
cases of the loan, and one indicator per product seen in training (the first product is the baseline).
Label (:func:`labels`): 1 for Cured or Paid Off, 0 for Written Off; other cases are not used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from postloan_performance.engine import EngineError
from postloan_performance.engine.delinquency import BUCKETS

__all__ = ["PropensityError", "auc", "features", "labels", "predict", "train"]

NUMERIC = (
	"entry_bucket_no",
	"log_entry_overdue",
	"log_principal",
	"secured",
	"months_on_book",
	"prior_cases",
)
PAID = ("Cured", "Paid Off")
LOST = ("Written Off",)
MIN_CASES = 100


class PropensityError(EngineError):
	"""codes: ``too_few_cases`` (cases, minimum), ``one_class`` (label), ``no_sklearn``, ``bad_model``."""


def labels(status) -> pd.Series:
	"""1.0 for Cured / Paid Off, 0.0 for Written Off, NaN for anything else (not used for training)."""
	status = pd.Series(status, dtype=object)
	return pd.Series(
		np.where(status.isin(PAID), 1.0, np.where(status.isin(LOST), 0.0, np.nan)), index=status.index
	)


def features(cases: pd.DataFrame, products: list[str] | None = None) -> pd.DataFrame:
	"""The model's inputs for each case: columns entry_bucket, entry_overdue_amount, principal,
	collateral_value, disbursed_on, opened_on, product, prior_cases. ``products``: the product list of a
	trained model (new products count as the baseline); without it, the products present, sorted."""
	bucket_no = {b: i for i, b in enumerate(BUCKETS)}
	out = pd.DataFrame(index=cases.index)
	out["entry_bucket_no"] = cases["entry_bucket"].map(bucket_no).fillna(1).astype(float)
	out["log_entry_overdue"] = np.log1p(
		pd.to_numeric(cases["entry_overdue_amount"], errors="coerce").fillna(0).clip(lower=0)
	)
	out["log_principal"] = np.log1p(
		pd.to_numeric(cases["principal"], errors="coerce").fillna(0).clip(lower=0)
	)
	out["secured"] = (pd.to_numeric(cases["collateral_value"], errors="coerce").fillna(0) > 0).astype(float)
	opened, disbursed = pd.to_datetime(cases["opened_on"]), pd.to_datetime(cases["disbursed_on"])
	months = (opened.dt.year - disbursed.dt.year) * 12 + (opened.dt.month - disbursed.dt.month)
	out["months_on_book"] = months.astype(float).fillna(0).clip(lower=0)
	out["prior_cases"] = pd.to_numeric(cases["prior_cases"], errors="coerce").fillna(0).astype(float)
	product = cases["product"].fillna("").astype(str)
	if products is None:
		products = sorted(set(product) - {""})
	for name in products[1:]:
		out[f"product={name}"] = (product == name).astype(float)
	return out


def train(
	x: pd.DataFrame, y, products: list[str], seed: int = 0, holdout: float = 0.25, c: float = 1.0
) -> dict:
	"""Fit on a stratified (1 − holdout) share of the rows, measure the AUC on the rest; refit on all rows
	for the stored coefficients. Returns the model dict (see module doc)."""
	y = np.asarray(y, dtype=float)
	keep = ~np.isnan(y)
	x, y = x[keep], y[keep]
	if len(y) < MIN_CASES:
		raise PropensityError("too_few_cases", cases=len(y), minimum=MIN_CASES)
	if len(np.unique(y)) < 2:
		raise PropensityError("one_class", label=float(y[0]) if len(y) else None)
	try:
		from sklearn.linear_model import LogisticRegression
		from sklearn.metrics import roc_auc_score
	except ImportError:
		raise PropensityError("no_sklearn")
	rng = np.random.default_rng(seed)
	test = np.zeros(len(y), dtype=bool)
	for label in (0.0, 1.0):
		rows = np.flatnonzero(y == label)
		rng.shuffle(rows)
		test[rows[: max(1, round(len(rows) * holdout))]] = True
	values = x.to_numpy(dtype=float)
	mean, scale = values[~test].mean(axis=0), values[~test].std(axis=0)
	scale[scale == 0] = 1.0
	fit = LogisticRegression(C=c, max_iter=1000).fit((values[~test] - mean) / scale, y[~test])
	holdout_auc = float(roc_auc_score(y[test], fit.predict_proba((values[test] - mean) / scale)[:, 1]))
	mean, scale = values.mean(axis=0), values.std(axis=0)
	scale[scale == 0] = 1.0
	final = LogisticRegression(C=c, max_iter=1000).fit((values - mean) / scale, y)
	return {
		"features": list(x.columns),
		"products": list(products),
		"mean": mean.tolist(),
		"scale": scale.tolist(),
		"coef": final.coef_[0].tolist(),
		"intercept": float(final.intercept_[0]),
		"auc": holdout_auc,
		"cases": len(y),
		"holdout_cases": int(test.sum()),
		"paid_share": float(y.mean()),
		"seed": seed,
	}


def predict(model: dict, x: pd.DataFrame) -> np.ndarray:
	"""Probability that each case ends Cured or Paid Off (0–1), from a model dict; numpy only."""
	try:
		values = x[model["features"]].to_numpy(dtype=float)
		z = (values - np.asarray(model["mean"])) / np.asarray(model["scale"])
		score = z @ np.asarray(model["coef"]) + float(model["intercept"])
	except (KeyError, ValueError) as exc:
		raise PropensityError("bad_model", message=str(exc))
	return 1.0 / (1.0 + np.exp(-score))


def auc(y, p) -> float:
	"""Area under the ROC curve by ranks (ties averaged): the chance a paying case scores above a lost one."""
	y = np.asarray(y, dtype=float)
	ranks = pd.Series(np.asarray(p, dtype=float)).rank(method="average").to_numpy()
	positives = y == 1
	n_pos, n_neg = positives.sum(), (~positives).sum()
	if not n_pos or not n_neg:
		return float("nan")
	return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
