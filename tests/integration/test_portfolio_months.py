"""The monthly portfolio summary (PL Portfolio Month, services/portfolio_months.py) behind Portfolio
Quality Trend, on a real site.

* A fixed-seed generated portfolio is loaded inside the test's transaction (rolled back afterwards): the
  report read from the summary equals, row by row and in its chart and summary, the former computation
  from the snapshot, case and recovery rows (`_get_data_loan_level`), for the default and explicit
  periods, a To Date inside a month, a go-live date inside a month, the company, managing team (with its
  sub-teams) and product filters, and a team leader's view.
* A small crafted book (its own product) is checked against numbers worked out by hand: a loan paid off
  (outstanding 0) still counts in the roll and cure rates but not in Loans, a loan without a previous
  snapshot or without a current one leaves the rolls.
* Writes make the report change as they should: a snapshot inserted, edited and deleted through the
  DocType, snapshots and recoveries imported with the bulk loader, a loan moved to another team, a
  recovery and a collection case saved through their DocTypes; each time the report (which had built its
  summary rows before) equals the loan-level computation again and shows the expected change.
Names carry a "_Test PLM"/"PLM-" prefix.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import frappe

from postloan_performance.datagen import LayerSpec, OrgSpec, generate
from postloan_performance.engine.delinquency import CLOSED_CASE_STATUSES
from postloan_performance.services import delinquency, portfolio_months
from postloan_performance.services.dataset_loader import load_dataset
from postloan_performance.services.post_loan_data import import_file
from postloan_performance.services.reports import portfolio_quality_trend
from tests.integration.daily_jobs_data import isolate
from tests.integration.factories import COMPANY, make_cycle, make_user

SEED = 31
DATA_START = "2025-01-01"
MONTHS = 8  # month-ends 2025-01-31 … 2025-08-31
N_LOANS = 300
ORG = OrgSpec(
	management=LayerSpec(1, 2),
	collection=LayerSpec(2, 4),
	risk_control=LayerSpec(1, 3),
	customer_service=LayerSpec(1, 3),
)
TEAM_PREFIX = "_Test PLM "
ROW_PREFIX = "PLM-"
LEAD = "plm-collection-lead@plp.test"
PERIOD = {"from_date": "2025-01-01", "to_date": "2025-08-31"}
CRAFT_PRODUCT = "PLM Craft"


# ------------------------------------------------------------------------------------ the dataset


def _isolate(ds):
	"""Prefix every team, employee, loan, case and row name so the test owns all rows it reads."""
	return isolate(ds, TEAM_PREFIX, ROW_PREFIX)


@pytest.fixture(scope="module")
def dataset():
	return _isolate(generate(SEED, start=DATA_START, months=MONTHS, n_loans=N_LOANS, org=ORG))


@pytest.fixture
def loaded(dataset):
	"""The dataset in the site (rolled back after the test) and a formal review cycle from July 2025."""
	employee_of = load_dataset(dataset, company=COMPANY, abbr="_TPL")["employees"]
	make_cycle("_Test PLM Cycle", list(dataset.teams["team_name"]), "2025-07-01", "2025-09-30")
	return frappe._dict(ds=dataset, employee_of=employee_of)


@pytest.fixture(scope="module")
def lead_user(site):
	"""A team leader user, made once and committed (idempotent); his Employee link is made in the test."""
	frappe.set_user("Administrator")
	roles = ["PL Team Leader", "PL Appraisee"]
	if not frappe.db.exists("User", LEAD) or set(roles) - set(frappe.get_roles(LEAD)):
		make_user(LEAD, roles)
		frappe.db.commit()
	return LEAD


def _team(ds, layer: str, number: int = 1) -> str:
	return ds.teams.loc[ds.teams["layer"] == layer, "team_name"].iloc[number - 1]


# ------------------------------------------------------------------------------------- comparing


def _same(got, expected) -> bool:
	if isinstance(expected, float) and isinstance(got, float):
		return got == pytest.approx(expected, rel=1e-12, abs=1e-9)
	if isinstance(expected, dict) and isinstance(got, dict):
		return got.keys() == expected.keys() and all(_same(got[k], expected[k]) for k in expected)
	if isinstance(expected, list | tuple) and isinstance(got, list | tuple):
		return len(got) == len(expected) and all(_same(g, e) for g, e in zip(got, expected, strict=True))
	return got == expected


def _report(user: str | None = None, **filters) -> dict:
	"""The report read from the summary, after checking it against the loan-level computation."""
	frappe.set_user(user or "Administrator")
	try:
		got = portfolio_quality_trend.get_data(frappe._dict({"company": COMPANY, **filters}))
		expected = portfolio_quality_trend._get_data_loan_level(frappe._dict({"company": COMPANY, **filters}))
	finally:
		frappe.set_user("Administrator")
	for key in ("data", "chart", "summary"):
		assert _same(got[key], expected[key]), (filters, key, got[key], expected[key])
	return got


def _row(result: dict, month_end: str) -> dict:
	return next(r for r in result["data"] if str(r["month_end"]) == month_end)


def _summary_dates(kind: str = portfolio_months.SNAPSHOT) -> set[str]:
	column = "month_end" if kind == portfolio_months.SNAPSHOT else "month"
	return {
		str(d)
		for d in frappe.db.sql(
			f"select distinct {column} from `tabPL Portfolio Month` where kind = %s", kind, pluck=True
		)
	}


def _nan_or(value):
	return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


# ------------------------------------------------------------------------------------------ tests


def test_the_summary_gives_the_loan_level_report(loaded):
	ds = loaded.ds
	month_ends = sorted({str(d.date()) for d in pd.to_datetime(ds.snapshots["as_of_date"])})
	assert len(month_ends) == MONTHS
	full = _report(**PERIOD)
	rows = full["data"]
	assert [str(r["month_end"]) for r in rows] == month_ends
	# the report read the summary: every month-end's rows were built (and the baseline June's)
	assert set(month_ends) <= _summary_dates()
	assert {e[:8] + "01" for e in month_ends} <= _summary_dates(portfolio_months.RECOVERY)
	# real values, straight off the generated rows
	snaps = ds.snapshots.assign(as_of_date=pd.to_datetime(ds.snapshots["as_of_date"]).dt.date.astype(str))
	for row in rows:
		day = snaps[snaps["as_of_date"] == str(row["month_end"])]
		assert row["loans"] == int((day["outstanding"] > 0).sum())
		assert row["outstanding"] == pytest.approx(day["outstanding"].sum())
	assert rows[0]["roll_m0_m1"] is None  # no month-end before January
	assert rows[1]["roll_m0_m1"] is not None
	assert [r["phase"] for r in rows].count("Scheme Live") == 2  # July and August
	assert full["summary"][1]["value"] is not None  # NPL change since go-live (from June's ratio)

	root, team = _team(ds, "Management"), _team(ds, "Collection")
	team_loans = set(ds.loans.loc[ds.loans["managing_team"] == team, "name"])
	product = ds.loans["product"].mode().iloc[0]
	for filters in (
		{"managing_team": team},
		{"managing_team": root},  # every loan, through the sub-teams
		{"product": product},
		{"product": product, "managing_team": team},
		{"from_date": "2025-03-10", "to_date": "2025-06-30"},
		{**PERIOD, "go_live_date": "2025-04-15"},  # the baseline is 2025-03-31
	):
		_report(**filters)
	by_team = _report(**PERIOD, managing_team=team)
	day = snaps[(snaps["as_of_date"] == "2025-08-31") & snaps["loan"].isin(team_loans)]
	assert _row(by_team, "2025-08-31")["loans"] == int((day["outstanding"] > 0).sum())
	assert _report(**PERIOD, managing_team=root)["data"] == rows
	empty = _report(**PERIOD, company="_Test PLM No Such Company")
	assert [r["loans"] for r in empty["data"]] == [0] * MONTHS


def test_a_to_date_inside_a_month_and_a_mid_month_snapshot(loaded):
	"""The last month shown is cut at the To Date: its last snapshot date on or before it (not the
	month-end), and its recoveries up to it."""
	ds = loaded.ds
	whole = _report(from_date="2025-06-01", to_date="2025-08-31")
	loans = list(ds.loans["name"][:5])
	for loan in loans:
		frappe.get_doc(
			{
				"doctype": "PL Loan Snapshot",
				"loan": loan,
				"as_of_date": "2025-08-15",
				"outstanding": 1000,
				"overdue_amount": 0,
				"dpd": 40,
			}
		).insert()
	frappe.get_doc(
		{"doctype": "PL Recovery", "loan": loans[0], "amount": 123.45, "received_on": "2025-08-25"}
	).insert()
	result = _report(from_date="2025-06-01", to_date="2025-08-20")
	assert [str(r["month_end"]) for r in result["data"]] == ["2025-06-30", "2025-07-31", "2025-08-15"]
	august = result["data"][-1]
	assert august["loans"] == 5 and august["outstanding"] == 5000
	assert august["m1_plus_rate"] == 100.0  # dpd 40: M2
	assert "2025-08-15" in _summary_dates()
	# the whole of August is still the month-end's, and the recovery after the 20th counts there
	again = _report(from_date="2025-06-01", to_date="2025-08-31")
	assert str(again["data"][-1]["month_end"]) == "2025-08-31"
	assert again["data"][-1]["recovered"] == pytest.approx(whole["data"][-1]["recovered"] + 123.45)
	assert again["data"][-1]["loans"] == whole["data"][-1]["loans"]


def test_a_crafted_book_by_hand(loaded):
	"""Five loans of their own product at 2019-01-31 and 2019-02-28 (no other snapshot in Dec 2018)."""
	book = {  # loan: {date: (dpd, outstanding)}
		"PLM-C1": {"2019-01-31": (0, 100), "2019-02-28": (10, 90)},  # M0 -> M1
		"PLM-C2": {"2019-01-31": (20, 200), "2019-02-28": (0, 0)},  # M1 -> M0, paid off: a cure
		"PLM-C3": {"2019-01-31": (70, 300), "2019-02-28": (130, 300)},  # M3 -> M5: Substandard
		"PLM-C4": {"2019-02-28": (0, 50)},  # new in February: not in the rolls
		"PLM-C5": {"2019-01-31": (0, 100)},  # left the book: not in the rolls
	}
	for loan, days in book.items():
		frappe.get_doc(
			{
				"doctype": "PL Loan",
				"loan_no": loan,
				"customer": loan,
				"company": COMPANY,
				"product": CRAFT_PRODUCT,
				"disbursed_on": "2018-06-01",
				"principal": 1000,
			}
		).insert()
		for day, (dpd, outstanding) in days.items():
			frappe.get_doc(
				{
					"doctype": "PL Loan Snapshot",
					"loan": loan,
					"as_of_date": day,
					"dpd": dpd,
					"outstanding": outstanding,
					"overdue_amount": 0,
				}
			).insert()
	case = frappe.get_doc(
		{
			"doctype": "PL Collection Case",
			"case_no": "PLM-CASE-C3",
			"loan": "PLM-C3",
			"opened_on": "2019-01-15",
			"closed_on": "2019-02-10",
			"status": "Cured",
			"entry_bucket": "M3",
			"entry_overdue_amount": 1000,
		}
	).insert()
	frappe.get_doc(
		{
			"doctype": "PL Recovery",
			"loan": "PLM-C3",
			"collection_case": case.name,
			"amount": 250,
			"received_on": "2019-02-05",
		}
	).insert()
	assert frappe.db.get_value("PL Loan Snapshot", "PLM-C3-2019-02-28", "classification") == "Substandard"
	result = _report(from_date="2019-01-01", to_date="2019-02-28", product=CRAFT_PRODUCT)
	january, february = result["data"]
	assert (january["loans"], january["outstanding"]) == (4, 700)
	assert january["npl_ratio"] == 0.0
	assert january["m1_plus_rate"] == pytest.approx(500 * 100 / 700)
	assert january["m3_plus_rate"] == pytest.approx(300 * 100 / 700)
	assert all(january[c] is None for c in portfolio_quality_trend.ROLL_COLUMNS)
	assert (january["recovered"], january["recovery_rate"]) == (0.0, 0.0)
	assert (february["loans"], february["outstanding"]) == (3, 440)
	assert february["npl_ratio"] == pytest.approx(300 * 100 / 440)
	assert february["m1_plus_rate"] == pytest.approx(390 * 100 / 440)
	assert february["m3_plus_rate"] == pytest.approx(300 * 100 / 440)
	assert february["roll_m0_m1"] == 100.0  # C1 (C5 left the book)
	assert february["roll_m1_m2"] == 0.0  # C2 cured
	assert february["roll_m2_m3"] is None  # nobody in M2 in January
	assert february["roll_m3_m4"] == 100.0  # C3 to M5
	assert february["cure_rate"] == 50.0  # C2 of C2, C3
	assert (february["recovered"], february["recovery_rate"]) == (250.0, 25.0)

	# C2 did not pay off after all (the snapshot is edited): it stays delinquent, and cures nobody
	snapshot = frappe.get_doc("PL Loan Snapshot", "PLM-C2-2019-02-28")
	snapshot.update({"dpd": 45, "outstanding": 190})
	snapshot.save()
	february = _report(from_date="2019-01-01", to_date="2019-02-28", product=CRAFT_PRODUCT)["data"][1]
	assert (february["loans"], february["outstanding"]) == (4, 630)
	assert february["roll_m1_m2"] == 100.0 and february["cure_rate"] == 0.0
	# C3's February snapshot is deleted: it leaves February and the rolls
	frappe.delete_doc("PL Loan Snapshot", "PLM-C3-2019-02-28")
	february = _report(from_date="2019-01-01", to_date="2019-02-28", product=CRAFT_PRODUCT)["data"][1]
	assert (february["loans"], february["outstanding"]) == (3, 330)
	assert february["npl_ratio"] == 0.0 and february["roll_m3_m4"] is None
	# a December 2018 snapshot gives January its rolls (December is the month before)
	frappe.get_doc(
		{
			"doctype": "PL Loan Snapshot",
			"loan": "PLM-C1",
			"as_of_date": "2018-12-31",
			"dpd": 5,
			"outstanding": 110,
			"overdue_amount": 0,
		}
	).insert()
	january = _report(from_date="2019-01-01", to_date="2019-02-28", product=CRAFT_PRODUCT)["data"][0]
	assert january["cure_rate"] == 100.0 and january["roll_m1_m2"] == 0.0  # C1: M1 -> M0


def test_new_snapshots_and_recoveries_reach_the_report(loaded, tmp_path):
	"""After the summary was built, snapshots written through the DocType and the bulk loader, and a
	recovery, show in the next run."""
	before = _report(**PERIOD)
	august = _row(before, "2025-08-31")
	built = _summary_dates()
	assert "2025-08-31" in built

	# a new loan with a snapshot through the DocType
	frappe.get_doc(
		{
			"doctype": "PL Loan",
			"loan_no": "PLM-NEW-1",
			"customer": "PLM-NEW-1",
			"company": COMPANY,
			"product": "PLM Other",
			"disbursed_on": "2025-01-10",
			"principal": 1000,
		}
	).insert()
	frappe.get_doc(
		{
			"doctype": "PL Loan Snapshot",
			"loan": "PLM-NEW-1",
			"as_of_date": "2025-08-31",
			"dpd": 0,
			"outstanding": 777,
			"overdue_amount": 0,
		}
	).insert()
	assert "2025-08-31" not in _summary_dates()  # invalidated by the controller
	after = _row(_report(**PERIOD), "2025-08-31")
	assert after["loans"] == august["loans"] + 1
	assert after["outstanding"] == pytest.approx(august["outstanding"] + 777)
	assert _row(_report(**PERIOD, product="PLM Other"), "2025-08-31")["loans"] == 1
	assert _summary_dates() >= built  # built again

	# the bulk loader: a loan and its July and August snapshots, and a recovery in August
	import_path = str(tmp_path)
	pd.DataFrame(
		[
			{
				"loan_no": "PLM-IMP-1",
				"customer": "PLM-IMP-1",
				"company": COMPANY,
				"product": "PLM Other",
				"disbursed_on": "2025-01-10",
				"principal": "5000",
			}
		]
	).to_csv(f"{import_path}/loans.csv", index=False)
	pd.DataFrame(
		[
			{"loan": "PLM-IMP-1", "as_of_date": d, "outstanding": "4000", "overdue_amount": "0", "dpd": dpd}
			for d, dpd in (("2025-07-31", "0"), ("2025-08-31", "15"))
		]
	).to_csv(f"{import_path}/snapshots.csv", index=False)
	pd.DataFrame(
		[{"loan": "PLM-IMP-1", "amount": "321", "received_on": "2025-08-20", "reference": "PLM-R-IMP-1"}]
	).to_csv(f"{import_path}/recoveries.csv", index=False)
	import_file("PL Loan", f"{import_path}/loans.csv", publish_progress=False)
	assert import_file("PL Loan Snapshot", f"{import_path}/snapshots.csv", publish_progress=False)["inserted"]
	assert "2025-07-31" not in _summary_dates() and "2025-08-31" not in _summary_dates()
	recovered = _row(_report(**PERIOD), "2025-08-31")["recovered"]
	import_file("PL Recovery", f"{import_path}/recoveries.csv", publish_progress=False)
	assert "2025-08-01" not in _summary_dates(portfolio_months.RECOVERY)
	imported = _report(**PERIOD, product="PLM Other")
	assert _row(imported, "2025-07-31")["loans"] == 1
	august = _row(imported, "2025-08-31")
	assert august["loans"] == 2 and august["outstanding"] == pytest.approx(4777)
	assert august["roll_m0_m1"] == 100.0  # PLM-IMP-1: M0 -> M1
	assert _row(_report(**PERIOD), "2025-08-31")["recovered"] == pytest.approx(recovered + 321)


def test_the_classification_job_reaches_the_report(loaded):
	"""The daily classification step re-buckets snapshots in bulk: the summary of that date is rebuilt."""
	before = _row(_report(**PERIOD), "2025-08-31")
	name = frappe.db.get_value(
		"PL Loan Snapshot",
		{"as_of_date": "2025-08-31", "bucket": "M0", "outstanding": (">", 0), "loan": ("like", "PLM-%")},
		"name",
	)
	# the dpd written straight into the table, as a bulk writer would
	frappe.db.sql("update `tabPL Loan Snapshot` set dpd = 200 where name = %s", name)
	assert delinquency.process_date("2025-08-31")["updated"] >= 1
	assert frappe.db.get_value("PL Loan Snapshot", name, "bucket") == "M6+"
	after = _row(_report(**PERIOD), "2025-08-31")
	assert after["m3_plus_rate"] > before["m3_plus_rate"]
	assert after["roll_m0_m1"] <= before["roll_m0_m1"]


def test_a_loan_moved_to_another_team_and_a_case_saved(loaded):
	ds = loaded.ds
	first, second = _team(ds, "Collection", 1), _team(ds, "Collection", 2)
	one = _report(**PERIOD, managing_team=first)
	two = _report(**PERIOD, managing_team=second)
	snaps = ds.snapshots.assign(as_of_date=pd.to_datetime(ds.snapshots["as_of_date"]).dt.date.astype(str))
	moved = ds.loans.loc[ds.loans["managing_team"] == first, "name"]
	moved = next(
		loan
		for loan in moved
		if (
			(snaps["loan"] == loan) & (snaps["as_of_date"] == "2025-08-31") & (snaps["outstanding"] > 0)
		).any()
	)
	loan = frappe.get_doc("PL Loan", moved)
	loan.managing_team = second
	loan.save()
	assert not _summary_dates()  # every month changes
	assert _row(_report(**PERIOD, managing_team=first), "2025-08-31")["loans"] == (
		_row(one, "2025-08-31")["loans"] - 1
	)
	assert _row(_report(**PERIOD, managing_team=second), "2025-08-31")["loans"] == (
		_row(two, "2025-08-31")["loans"] + 1
	)

	# a collection case opened in July on a loan of the first team: July and August count it
	def entry(month: str) -> float:
		value = frappe.db.sql(
			"""select sum(entry_overdue_amount) from `tabPL Portfolio Month`
			where kind = 'Recovery' and month = %s and managing_team = %s""",
			(month, first),
		)[0][0]
		return float(value or 0)

	july = _row(_report(**PERIOD, managing_team=first), "2025-07-31")
	before = {month: entry(month) for month in ("2025-06-01", "2025-07-01", "2025-08-01")}
	# a loan without an open case: a loan has one open case at most (services/constraints.py)
	open_cases = set(
		frappe.get_all("PL Collection Case", {"status": ("not in", CLOSED_CASE_STATUSES)}, pluck="loan")
	)
	loan = min(set(ds.loans.loc[ds.loans["managing_team"] == first, "name"]) - {moved} - open_cases)
	frappe.get_doc(
		{
			"doctype": "PL Collection Case",
			"case_no": "PLM-CASE-NEW",
			"loan": loan,
			"opened_on": "2025-07-20",
			"entry_bucket": "M1",
			"entry_overdue_amount": 5_000_000,
		}
	).insert()
	assert "2025-07-01" not in _summary_dates(portfolio_months.RECOVERY)
	assert "2025-06-01" in _summary_dates(portfolio_months.RECOVERY)  # earlier months stay
	after = _row(_report(**PERIOD, managing_team=first), "2025-07-31")
	assert entry("2025-06-01") == pytest.approx(before["2025-06-01"])
	assert entry("2025-07-01") == pytest.approx(before["2025-07-01"] + 5_000_000)
	assert entry("2025-08-01") == pytest.approx(before["2025-08-01"] + 5_000_000)
	assert after["recovery_rate"] == pytest.approx(
		july["recovered"] * 100 / (before["2025-07-01"] + 5_000_000)
	)


def test_a_team_leader_sees_the_loans_of_his_teams(loaded, lead_user):
	ds = loaded.ds
	team = _team(ds, "Collection", 1)
	lead_key = ds.teams.loc[ds.teams["team_name"] == team, "lead_key"].iloc[0]
	frappe.db.set_value("Employee", loaded.employee_of[lead_key], "user_id", lead_user)
	led = _report(user=lead_user, **PERIOD)
	assert led["data"] == _report(**PERIOD, managing_team=team)["data"]
	assert led["data"] != _report(**PERIOD)["data"]
	# a filter on another team shows nothing to him
	other = _team(ds, "Collection", 2)
	assert _report(user=lead_user, **PERIOD, managing_team=other)["data"] == []


def test_refresh_all_and_refresh_missing(loaded):
	"""refresh_all builds every month-end (and month) at once; the rows equal those built on demand."""
	_report(**PERIOD)
	columns = "kind, month, month_end, previous_month_end, company, managing_team, product, " + (
		"previous_bucket, bucket, classification, loans, loans_with_outstanding, outstanding, "
		"active_cases, entry_overdue_amount, recovered"
	)
	query = (
		f"select {columns} from `tabPL Portfolio Month` where month between %s and %s"
		" and kind in ('Snapshot', 'Recovery') order by name"
	)
	on_demand = frappe.db.sql(query, ("2025-01-01", "2025-08-31"))
	result = portfolio_months.refresh_all()
	assert result["month_ends"] >= MONTHS and result["snapshot_rows"] and result["recovery_rows"]
	assert frappe.db.sql(query, ("2025-01-01", "2025-08-31")) == on_demand
	# the Case rows too: nothing is left for the next cycle computation or report to build
	assert not portfolio_months.refresh_missing()["case_months"]
	assert result["case_rows"]
	portfolio_months.invalidate(["2025-05-10"])  # May's rows and June's (May is their previous month)
	assert {"2025-05-31", "2025-06-30"}.isdisjoint(_summary_dates())
	assert {"2025-04-30", "2025-07-31"} <= _summary_dates()
	assert portfolio_months.refresh_missing()["dates"] == 2
	assert frappe.db.sql(query, ("2025-01-01", "2025-08-31")) == on_demand
	# the Case rows the management recovery rates read: the daily job builds them too, as on demand
	cases = (
		"select name, month, closed_month, managing_team, entry_overdue_amount from `tabPL Portfolio Month`"
		" where kind = %s and month <= '2025-08-31' order by name"
	)
	portfolio_months.ensure_recovery_totals(["2025-08-01"])
	built = frappe.db.sql(cases, portfolio_months.CASE)
	assert built
	frappe.db.sql("delete from `tabPL Portfolio Month` where kind = %s", portfolio_months.CASE)
	assert portfolio_months.refresh_missing()["case_months"]
	assert frappe.db.sql(cases, portfolio_months.CASE) == built


REPLICA_PRODUCT = "PLM Replica"
REPLICA_DATES = ("2017-01-31", "2017-02-28")  # no other data of the site lies in these months


def _drop_replica_book() -> None:
	loans = frappe.get_all("PL Loan", filters={"product": REPLICA_PRODUCT}, pluck="name")
	if loans:
		frappe.db.delete("PL Loan Snapshot", {"loan": ("in", loans)})
		frappe.db.delete("PL Loan", {"name": ("in", loans)})
	frappe.db.delete("PL Portfolio Month", {"month": ("between", ("2017-01-01", "2017-03-31"))})
	frappe.db.commit()  # nosemgrep: the test committed its book so that a second connection sees it


def test_on_a_replica_the_report_builds_on_the_primary_then_reads_the_replica_only():
	"""With `read_from_replica`, a second connection to the same server plays the replica. The first run
	finds its months missing: it builds them on the primary and reads them there (the replica does not
	have them yet); once committed, a second run asks everything of the replica and nothing of the
	primary, with the same figures. The book is committed (the replica sees committed rows only) and
	removed afterwards."""
	from frappe.database.database import Database

	from postloan_performance.postloan_performance.report.portfolio_quality_trend.portfolio_quality_trend import (
		execute,
	)

	_drop_replica_book()
	try:
		for loan, dpd_by_date in {"PLM-R1": (0, 40), "PLM-R2": (100, 130)}.items():
			frappe.get_doc(
				{
					"doctype": "PL Loan",
					"loan_no": loan,
					"customer": loan,
					"company": COMPANY,
					"product": REPLICA_PRODUCT,
					"disbursed_on": "2016-06-01",
					"principal": 1000,
				}
			).insert()
			for day, dpd in zip(REPLICA_DATES, dpd_by_date, strict=True):
				frappe.get_doc(
					{
						"doctype": "PL Loan Snapshot",
						"loan": loan,
						"as_of_date": day,
						"dpd": dpd,
						"outstanding": 500,
						"overdue_amount": 0,
					}
				).insert()
		frappe.db.commit()  # nosemgrep: the replica connection sees committed rows only
		assert not _summary_dates() & set(REPLICA_DATES)

		filters = frappe._dict(
			company=COMPANY, product=REPLICA_PRODUCT, from_date="2017-01-01", to_date="2017-02-28"
		)
		primary = frappe.local.db
		used = []
		original_sql = Database.sql

		def spy(db, query, *args, **kwargs):
			used.append((db is primary, str(query).strip().split()[0].lower()))
			return original_sql(db, query, *args, **kwargs)

		replica_conf = {"read_from_replica": 1, "replica_host": frappe.local.conf.db_host or "127.0.0.1"}

		def run():
			used.clear()
			with pytest.MonkeyPatch.context() as patch:
				patch.setitem(frappe.local.conf, "read_from_replica", replica_conf["read_from_replica"])
				patch.setitem(frappe.local.conf, "replica_host", replica_conf["replica_host"])
				patch.setattr(Database, "sql", spy)
				try:
					return execute(filters)
				finally:
					for key in ("replica_db", "primary_db"):
						if hasattr(frappe.local, key):
							delattr(frappe.local, key)

		first = run()
		assert frappe.local.db is primary
		on_primary = {verb for is_primary, verb in used if is_primary}
		assert "insert" in on_primary and "delete" in on_primary  # the summary was built on the primary
		assert any(not is_primary for is_primary, _verb in used)  # the report itself ran on the replica
		frappe.db.commit()  # nosemgrep: the end of the report's request
		assert set(REPLICA_DATES) <= _summary_dates()

		second = run()
		assert used and all(not is_primary for is_primary, _verb in used), "a query ran on the primary"
		assert {verb for _is_primary, verb in used} <= {"select", "set"}
		columns, data = first[0], first[1]
		assert [r["month_end"] for r in data] == [r["month_end"] for r in second[1]] and columns
		january, february = data
		# R1 current then 40 days past due, R2 100 then 130 days (non-performing): 500 of 1,000 each month
		assert (january["loans"], january["outstanding"], february["outstanding"]) == (2, 1000, 1000)
		assert january["npl_ratio"] == february["npl_ratio"] == 50.0
		assert (january["m1_plus_rate"], february["m1_plus_rate"]) == (50.0, 100.0)
		assert data == second[1]
		assert _same(data, portfolio_quality_trend._get_data_loan_level(filters)["data"])
	finally:
		frappe.db.rollback()
		_drop_replica_book()
