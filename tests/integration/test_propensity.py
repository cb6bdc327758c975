"""The optional propensity-to-pay model on a real site: trained on the generated closed cases, scored on
the open ones, used only to order a collector's queue, and off by default."""

from __future__ import annotations

import json
import math

import pytest

import frappe

from postloan_performance import api
from postloan_performance.services import daily_jobs
from tests.integration import daily_jobs_data as data

pytest.importorskip("sklearn")

SEED = 41
TEAM_PREFIX = "_Test PLP "
ROW_PREFIX = "PLP-"
OPEN = ("Open", "In Progress", "Promise to Pay", "Outsourced", "Legal")


@pytest.fixture(scope="module")
def dataset():
	return data.generated(SEED, 1500, 12, TEAM_PREFIX, ROW_PREFIX, keep_work=True)


@pytest.fixture
def loaded(dataset):
	data.load(dataset, ROW_PREFIX)
	frappe.db.set_single_value(daily_jobs.SETTINGS, "enable_propensity_model", 0)
	return dataset


def test_model_trains_scores_and_orders_the_queue_only_when_enabled(loaded, world):
	ds = loaded
	closed = ds.cases[ds.cases["status"].isin(("Cured", "Paid Off", "Written Off"))]
	frappe.set_user(world.users.ada)
	with pytest.raises(frappe.PermissionError):
		api.train_propensity_model()
	frappe.set_user(world.users.officer)
	result = api.train_propensity_model()
	frappe.set_user("Administrator")
	# the site may hold other closed cases too; ours are all in
	assert result["cases"] >= len(closed)
	assert 0.6 < result["auc"] <= 1.0, result
	model = json.loads(frappe.db.get_single_value(daily_jobs.SETTINGS, "model_parameters"))
	assert model["auc"] == result["auc"] and "entry_bucket_no" in model["features"]
	assert frappe.db.get_single_value(daily_jobs.SETTINGS, "model_auc") == pytest.approx(
		result["auc"], abs=1e-4
	)
	scores = frappe.get_all(
		"PL Collection Case",
		filters={"loan": ("like", ROW_PREFIX + "%"), "status": ("in", OPEN)},
		fields=["name", "collector", "propensity_score"],
		limit_page_length=0,
	)
	assert scores and all(0 < s.propensity_score < 100 for s in scores)
	# deeper buckets pay less in the generated portfolio: the model has learnt it
	coef = dict(zip(model["features"], model["coef"], strict=True))
	assert coef["entry_bucket_no"] < 0
	# the queue: without the model, no propensity points; with it, 30 points at 100 %
	collector = max({s.collector for s in scores}, key=lambda c: sum(s.collector == c for s in scores))
	off = api.my_collection_queue(employee=collector)
	assert all(q["propensity_score"] is None and q["priority_parts"]["propensity"] == 0 for q in off)
	frappe.db.set_single_value(daily_jobs.SETTINGS, "enable_propensity_model", 1)
	on = api.my_collection_queue(employee=collector)
	by_case = {s.name: s.propensity_score for s in scores}
	for q in on:
		assert q["propensity_score"] == pytest.approx(by_case[q["case"]])
		assert q["priority_parts"]["propensity"] == pytest.approx(30 * by_case[q["case"]] / 100, abs=0.01)
		parts = q["priority_parts"]
		assert q["priority"] == pytest.approx(sum(parts.values()), abs=0.02)
		assert not math.isnan(q["priority"])
	assert [q["priority"] for q in on] == sorted((q["priority"] for q in on), reverse=True)
