"""Bucket and five-category classification of snapshots on a real site, over generated months.

A fixed-seed portfolio is loaded (inside the test's transaction); the classification job runs over every
month-end (as the background job does: `daily_jobs.run_job`, one date after the other). Each snapshot's
bucket, proposed classification (with a product's own thresholds) and classification (a manual one wins)
are compared with values computed here from dpd alone. Re-running changes nothing.
"""

from __future__ import annotations

import hashlib

import pytest

import frappe

from postloan_performance import api
from postloan_performance.engine import frames
from postloan_performance.services import daily_jobs, delinquency
from tests.integration import daily_jobs_data as data

SEED = 23
TEAM_PREFIX = "_Test PLD "
ROW_PREFIX = "PLD-"
SME = (0, 60, 180, 300)  # the lender's stricter SME thresholds: Substandard after 60 DPD, …


@pytest.fixture(scope="module")
def dataset():
	return data.generated(SEED, 500, 7, TEAM_PREFIX, ROW_PREFIX)


@pytest.fixture
def loaded(dataset):
	data.load(dataset, ROW_PREFIX)
	settings = frappe.get_single("PL Post-Loan Settings")
	settings.classification_rules = []
	settings.append(
		"classification_rules",
		dict(
			zip(
				("product", *delinquency.THRESHOLD_FIELDS),
				("SME", *SME),
				strict=True,
			)
		),
	)
	settings.classification_processed_through = None
	settings.save()
	return dataset


def classify(dpd: int, product: str | None) -> str:
	"""The classification written out from the 2023 measures (and the SME thresholds), not from the engine."""
	special, substandard, doubtful, loss = SME if product == "SME" else (0, 90, 270, 360)
	if dpd > loss:
		return "Loss"
	if dpd > doubtful:
		return "Doubtful"
	if dpd > substandard:
		return "Substandard"
	if dpd > special:
		return "Special Mention"
	return "Normal"


def stored() -> dict[str, dict]:
	rows = frappe.get_all(
		"PL Loan Snapshot",
		filters={"loan": ("like", ROW_PREFIX + "%")},
		fields=[
			"name",
			"dpd",
			"bucket",
			"proposed_classification",
			"manual_classification",
			"classification",
		],
		limit_page_length=0,
	)
	return {r.name: r for r in rows}


def checksum() -> str:
	rows = frappe.db.sql(
		"""select `name`, `bucket`, `proposed_classification`, `classification`, `manual_classification`
		from `tabPL Loan Snapshot` where `loan` like %s order by `name`""",
		ROW_PREFIX + "%",
	)
	return hashlib.sha1(repr(rows).encode()).hexdigest()


def test_every_snapshot_is_bucketed_and_classified(loaded):
	ds = loaded
	dates = data.month_ends(ds)
	# the job picks up the dates after the last one it did: start before the first month-end
	frappe.db.set_single_value(daily_jobs.SETTINGS, "classification_processed_through", "2018-12-31")
	result = daily_jobs.run_job("classification", dates[-1], publish=False)
	assert result["dates"] == dates
	assert frappe.db.get_single_value(daily_jobs.SETTINGS, "classification_processed_through") == dates[-1]
	products = dict(zip(ds.loans["name"], ds.loans["product"], strict=True))
	got = stored()
	assert len(got) == len(ds.snapshots)
	sme_differs = 0
	for row in frames.records(ds.snapshots):
		snap = got[row["name"]]
		dpd = int(row["dpd"])
		want = classify(dpd, products[row["loan"]])
		assert snap.bucket == data.bucket(dpd), row["name"]
		assert (snap.proposed_classification, snap.classification) == (want, want), row["name"]
		sme_differs += products[row["loan"]] == "SME" and want != classify(dpd, None)
	assert sme_differs > 0  # the SME thresholds mattered
	# the job rebuilt the Portfolio Quality Trend summary of the month-ends it reclassified, from the new
	# classifications: per month-end, its Loss outstanding equals the snapshots'
	for day in (dates[0], dates[-1]):
		summary = frappe.db.sql(
			"""select sum(outstanding) from `tabPL Portfolio Month`
			where kind = 'Snapshot' and month_end = %s and classification = 'Loss'""",
			day,
		)[0][0]
		snapshots = frappe.db.sql(
			"""select sum(outstanding) from `tabPL Loan Snapshot`
			where as_of_date = %s and classification = 'Loss'""",
			day,
		)[0][0]
		assert summary is not None and float(summary) == pytest.approx(float(snapshots or 0)), day
	# again: nothing pending, and re-running a date writes nothing
	before = checksum()
	assert daily_jobs.run_job("classification", dates[-1], publish=False)["dates"] == []
	assert delinquency.process_date(dates[-1])["updated"] == 0
	assert checksum() == before


def test_manual_classification_wins_and_is_recorded(loaded, world):
	ds = loaded
	dates = data.month_ends(ds)
	for day in dates[-2:]:
		delinquency.process_date(day)
	frame = ds.snapshots[(ds.snapshots["dpd"] > 0) & (ds.snapshots["dpd"] <= 90)]
	name = frame.sort_values("name")["name"].iloc[0]
	frappe.set_user(world.users.officer)
	with pytest.raises(frappe.ValidationError):
		api.set_manual_classification(name, "Doubtful", "")  # a reason is required
	result = api.set_manual_classification(name, "Doubtful", "Borrower filed for bankruptcy")
	assert result["classification"] == "Doubtful" and not result["below_floor"]
	snap = frappe.get_doc("PL Loan Snapshot", name)
	assert (snap.manual_classification, snap.classification_reason, snap.classified_by) == (
		"Doubtful",
		"Borrower filed for bankruptcy",
		world.users.officer,
	)
	assert snap.classified_on
	assert frappe.db.exists("Version", {"ref_doctype": "PL Loan Snapshot", "docname": name})
	# the daily job keeps it
	frappe.set_user("Administrator")
	as_of = snap.as_of_date
	delinquency.process_date(as_of)
	assert frappe.db.get_value("PL Loan Snapshot", name, "classification") == "Doubtful"
	# milder than the dpd allows: accepted with a warning flag
	frappe.set_user(world.users.officer)
	assert api.set_manual_classification(name, "Normal", "Paid in full after the cut-off")["below_floor"]
	# removed: back to the proposed class
	result = api.set_manual_classification(name, "", "")
	assert result["classification"] == result["proposed_classification"] == snap.proposed_classification
	# only post-loan officers (and system managers) may classify by hand
	frappe.set_user(world.users.ada)
	with pytest.raises(frappe.PermissionError):
		api.set_manual_classification(name, "Loss", "no")


def test_a_snapshot_saved_from_the_desk_is_classified(loaded):
	ds = loaded
	loan = ds.loans[ds.loans["product"] == "SME"]["name"].iloc[0]
	doc = frappe.get_doc(
		{
			"doctype": "PL Loan Snapshot",
			"loan": loan,
			"as_of_date": "2018-06-30",
			"dpd": 75,
			"outstanding": 100,
		}
	).insert()
	assert (doc.bucket, doc.proposed_classification, doc.classification) == (
		"M3",
		"Substandard",
		"Substandard",
	)
	doc.dpd = 20
	doc.save()
	assert (doc.bucket, doc.classification) == ("M1", "Special Mention")


def test_threshold_settings_are_validated(loaded):
	settings = frappe.get_single("PL Post-Loan Settings")
	settings.substandard_after_dpd = 300
	with pytest.raises(frappe.ValidationError, match="Default thresholds"):
		settings.save()
	settings.reload()
	settings.append("classification_rules", {"product": "SME", "substandard_after_dpd": 30})
	with pytest.raises(frappe.ValidationError, match="SME"):
		settings.save()


def test_set_wise_classification_writes_what_the_daily_step_writes(loaded):
	"""process_date_in_sql (the Lending back-fill's step: the rules as SQL) against process_date (the
	engine in Python) from the same rows of one date: dpd at every boundary, the SME
	thresholds and a product that differs from SME only in case, manual classes, stale, blank and right
	stored classes. Both write the same values to the same rows."""
	ds = loaded
	day = data.month_ends(ds)[-1]
	delinquency.process_date(day)  # every row right, then some made stale or blank
	names = frappe.db.sql(
		"""select s.name from `tabPL Loan Snapshot` s join `tabPL Loan` l on l.name = s.loan
		where s.as_of_date = %s and s.loan like %s order by l.product = 'SME', s.name""",
		(day, ROW_PREFIX + "%"),
		pluck=True,
	)
	boundaries = [0, 1, 30, 31, 60, 61, 90, 91, 120, 121, 150, 151, 180, 181, 270, 271, 300]
	boundaries += [301, 360, 361, 1000, -5]  # a negative dpd (written by SQL) has no bucket
	assert len(names) > 4 * len(boundaries) + 40
	assert (
		frappe.db.get_value("PL Loan", frappe.db.get_value("PL Loan Snapshot", names[-1], "loan"), "product")
		== "SME"
	)
	for i, dpd in enumerate(boundaries):  # each value on a non-SME and on an SME loan
		for name in (names[i], names[-1 - i]):
			frappe.db.sql("update `tabPL Loan Snapshot` set dpd = %s where name = %s", (dpd, name))
	# dpd 61: Substandard for SME, Special Mention for "sme" (the default thresholds)
	frappe.db.sql(
		"""update `tabPL Loan` set product = 'sme'
		where name = (select loan from `tabPL Loan Snapshot` where name = %s)""",
		names[-6],
	)
	for name, manual in zip(names[30:34], ("Loss", "Normal", "", None), strict=True):
		frappe.db.sql(
			"update `tabPL Loan Snapshot` set manual_classification = %s where name = %s", (manual, name)
		)
	frappe.db.sql(
		"update `tabPL Loan Snapshot` set bucket = 'M4', classification = 'Doubtful' where name in %s",
		(tuple(names[40:50]),),
	)
	frappe.db.sql(
		"update `tabPL Loan Snapshot` set bucket = null, proposed_classification = null where name in %s",
		(tuple(names[50:60]),),
	)
	columns = "name, dpd, bucket, proposed_classification, classification, manual_classification, modified"
	query = f"select {columns} from `tabPL Loan Snapshot` where as_of_date = %s order by name"
	start = frappe.db.sql(query, day)

	def run(step):
		frappe.db.savepoint("before_step")
		result, rows = step(), frappe.db.sql(query, day)
		frappe.db.rollback(save_point="before_step")
		assert frappe.db.sql(query, day) == start
		return result, rows

	python, python_rows = run(lambda: delinquency.process_date(day))
	changed, sql_rows = run(lambda: delinquency.process_date_in_sql(day))
	assert sql_rows == python_rows
	assert changed == python["updated"]
	assert 20 < changed < len(start)
	classes = {r[0]: r[3] for r in sql_rows}
	assert (classes[names[-6]], classes[names[5]], classes[names[-7]]) == (
		"Special Mention",
		"Special Mention",
		"Substandard",
	)
