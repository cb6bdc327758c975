"""engine.delinquency: buckets, the five-category classification and the case lifecycle, by hand-worked cases."""

import math

import numpy as np
import pytest

from postloan_performance.datagen import generator
from postloan_performance.engine import delinquency as d
from postloan_performance.engine import row_rules


@pytest.mark.parametrize(
	("dpd", "bucket"),
	[
		(0, "M0"),
		(1, "M1"),
		(30, "M1"),
		(31, "M2"),
		(60, "M2"),
		(61, "M3"),
		(90, "M3"),
		(91, "M4"),
		(120, "M4"),
		(121, "M5"),
		(150, "M5"),
		(151, "M6+"),
		(180, "M6+"),
		(181, "M6+"),
		(5000, "M6+"),
	],
)
def test_bucket_boundaries(dpd, bucket):
	assert d.bucket_labels(d.bucket_index([dpd]))[0] == bucket


def test_invalid_dpd_has_no_bucket():
	assert d.bucket_index([None, -1, "x", math.nan]).tolist() == [-1, -1, -1, -1]
	assert d.bucket_labels([-1]).tolist() == [None]


def test_one_bucket_definition_everywhere():
	# the importer and the data generator use the engine's constant, not copies
	assert row_rules.BUCKETS is d.BUCKETS
	assert row_rules.BUCKET_UPPER_DPD is d.BUCKET_UPPER_DPD
	assert generator.BUCKETS is d.BUCKETS
	dpd = np.arange(0, 800)
	assert generator.bucket_of(dpd).tolist() == d.bucket_index(dpd).tolist()
	assert d.BUCKET_LOWER_DPD == (0, 1, 31, 61, 91, 121, 151)
	labels = row_rules.bucket_for_dpd(dpd).tolist()
	assert labels == d.bucket_labels(d.bucket_index(dpd)).tolist()


@pytest.mark.parametrize(
	("dpd", "cls"),
	[
		(0, "Normal"),
		(1, "Special Mention"),
		(90, "Special Mention"),
		(91, "Substandard"),
		(270, "Substandard"),
		(271, "Doubtful"),
		(360, "Doubtful"),
		(361, "Loss"),
	],
)
def test_default_classification_follows_the_2023_measures(dpd, cls):
	assert d.classify([dpd])[0] == cls
	assert row_rules.classification_for_dpd([dpd]).tolist() == [cls]
	assert generator.CLASSIFICATIONS[generator.classification_of(np.array([dpd]))[0]] == cls


def test_product_thresholds():
	sme = d.Thresholds(special_mention=0, substandard=60, doubtful=180, loss=300)
	dpd = [61, 61, 181, 301, 0, 5]
	product = ["SME", "Consumer", "SME", "SME", "SME", None]
	got = d.classify(dpd, product, {"SME": sme}).tolist()
	assert got == ["Substandard", "Special Mention", "Doubtful", "Loss", "Normal", "Special Mention"]


def test_grace_period_for_special_mention():
	# a product may allow a few days' grace before "overdue" counts
	grace = d.Thresholds(special_mention=3)
	assert d.classify([3, 4], ["Mortgage", "Mortgage"], {"Mortgage": grace}).tolist() == [
		"Normal",
		"Special Mention",
	]


def test_thresholds_must_be_ordered():
	with pytest.raises(d.DelinquencyError) as e:
		d.Thresholds(0, 200, 100, 360).validate("SME")
	assert e.value.code == "threshold_order"
	assert e.value.details["product"] == "SME"
	with pytest.raises(d.DelinquencyError) as e:
		d.Thresholds(-1, 90, 270, 360).validate()
	assert e.value.code == "negative_threshold"
	assert d.Thresholds(0, 90, 90, 90).validate() == d.Thresholds(0, 90, 90, 90)


def test_manual_classification_wins():
	proposed = ["Normal", "Substandard", "Loss"]
	manual = [None, "Doubtful", ""]
	assert d.effective_classification(proposed, manual).tolist() == ["Normal", "Doubtful", "Loss"]
	assert d.less_severe_than_proposed("Special Mention", "Substandard")
	assert not d.less_severe_than_proposed("Loss", "Substandard")
	assert not d.less_severe_than_proposed(None, "Substandard")


def test_case_decisions_hand_worked():
	#            dpd  outstanding status        case bucket  prev dpd
	rows = [
		(0, 1000.0, "Active", -1, 0),  # current, no case -> none
		(12, 1000.0, "Active", -1, 0),  # entered M1 -> open (entered)
		(45, 1000.0, "Active", -1, 20),  # already late, no case -> open (delinquent)
		(45, 1000.0, "Active", 1, 20),  # M1 case, now M2 -> escalate
		(20, 1000.0, "Active", 2, 45),  # M2 case, back to M1 -> rebucket
		(0, 900.0, "Active", 2, 45),  # back to M0 -> cure
		(0, 0.0, "Active", 3, 70),  # outstanding 0 -> paid off
		(100, 5000.0, "Settled", 4, 70),  # settled -> paid off
		(0, 0.0, "Written Off", 6, 200),  # written off -> write off
		(200, 0.0, "Written Off", -1, 170),  # written off, no case -> none
		(40, 1000.0, "Active", 2, 35),  # same bucket -> none
		(15, 0.0, "Active", -1, math.nan),  # no balance, no case -> none
	]
	dpd, out, status, case, prev = zip(*rows, strict=True)
	got = d.case_decisions(dpd, out, status, case, prev)
	assert got["decision"].tolist() == [
		"none",
		"open",
		"open",
		"escalate",
		"rebucket",
		"cure",
		"pay_off",
		"pay_off",
		"write_off",
		"none",
		"none",
		"none",
	]
	assert got["reason"].tolist()[1:5] == ["entered", "delinquent", "from M1", "from M2"]
	assert got["bucket"].tolist()[:5] == [0, 1, 2, 2, 1]


def test_case_lifecycle_over_months():
	"""One loan over six month-ends: open, escalate twice, rebucket, cure; then open again and pay off."""
	dpds = [0, 10, 40, 75, 50, 0, 25, 0]
	outstanding = [1000, 1000, 1000, 1000, 1000, 1000, 1000, 0]
	case_bucket, events = -1, []
	for dpd, out in zip(dpds, outstanding, strict=True):
		decision = d.case_decisions([dpd], [out], ["Active"], [case_bucket])["decision"][0]
		events.append(decision)
		bucket = int(d.bucket_index([dpd])[0])
		if decision in ("open", "escalate", "rebucket"):
			case_bucket = bucket
		elif decision in d.CLOSING_STATUS:
			case_bucket = -1
	assert events == ["none", "open", "escalate", "escalate", "rebucket", "cure", "open", "pay_off"]
