"""engine.propensity: features, labels, AUC by hand, and a fit that recovers a known signal."""

import numpy as np
import pandas as pd
import pytest

from postloan_performance.engine import propensity as p


def test_labels():
	got = p.labels(["Cured", "Paid Off", "Written Off", "Open", "Legal"])
	assert got.tolist()[:3] == [1.0, 1.0, 0.0]
	assert got.iloc[3:].isna().all()


def test_auc_by_hand():
	# positives 0.9 and 0.4, negatives 0.5 and 0.1: pairs (0.9>0.5, 0.9>0.1, 0.4<0.5, 0.4>0.1) -> 3/4
	assert p.auc([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1]) == 0.75
	assert p.auc([1, 0], [0.5, 0.5]) == 0.5  # ties count half
	assert np.isnan(p.auc([1, 1], [0.1, 0.2]))


def _cases(n: int, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
	rng = np.random.default_rng(seed)
	bucket = rng.integers(1, 7, n)
	product = rng.choice(["Auto", "Consumer", "SME"], n)
	overdue = np.exp(rng.normal(8, 1, n))
	frame = pd.DataFrame(
		{
			"entry_bucket": [f"M{b}" if b < 6 else "M6+" for b in bucket],
			"entry_overdue_amount": overdue,
			"principal": overdue * 20,
			"collateral_value": np.where(product == "Auto", overdue * 10, 0.0),
			"disbursed_on": pd.Timestamp("2023-01-15"),
			"opened_on": pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
			"product": product,
			"prior_cases": rng.integers(0, 3, n),
		}
	)
	# the truth: deeper buckets and earlier cases pay less, secured (Auto) loans more
	z = 2.0 - 0.9 * bucket - 0.6 * frame["prior_cases"].to_numpy() + 1.0 * (product == "Auto")
	paid = rng.random(n) < 1 / (1 + np.exp(-z))
	return frame, paid.astype(float)


def test_features():
	frame, _paid = _cases(10)
	x = p.features(frame, ["Auto", "Consumer", "SME"])
	assert list(x.columns) == [*p.NUMERIC, "product=Consumer", "product=SME"]
	assert x["entry_bucket_no"].between(1, 6).all()
	assert (x["secured"] == (frame["product"] == "Auto")).all()
	assert (x["months_on_book"] >= 13).all()
	# a product the model never saw counts as the baseline
	other = p.features(frame.assign(product="Mortgage"), ["Auto", "Consumer", "SME"])
	assert (other[["product=Consumer", "product=SME"]] == 0).all().all()


def test_training_recovers_the_signal():
	pytest.importorskip("sklearn")
	frame, paid = _cases(4000)
	products = ["Auto", "Consumer", "SME"]
	model = p.train(p.features(frame, products), paid, products, seed=3)
	assert model["auc"] > 0.75
	assert model["cases"] == 4000 and model["holdout_cases"] == pytest.approx(1000, abs=2)
	coef = dict(zip(model["features"], model["coef"], strict=True))
	assert coef["entry_bucket_no"] < 0 and coef["prior_cases"] < 0 and coef["secured"] > 0
	scores = p.predict(model, p.features(frame, products))
	assert ((scores > 0) & (scores < 1)).all()
	assert p.auc(paid, scores) > 0.75
	# deterministic given the seed
	assert p.train(p.features(frame, products), paid, products, seed=3) == model


def test_training_needs_enough_cases_of_both_kinds():
	frame, paid = _cases(50)
	with pytest.raises(p.PropensityError) as e:
		p.train(p.features(frame), paid, [])
	assert e.value.code == "too_few_cases"
	frame, paid = _cases(200)
	with pytest.raises(p.PropensityError) as e:
		p.train(p.features(frame), np.ones(200), [])
	assert e.value.code in ("one_class", "no_sklearn")
