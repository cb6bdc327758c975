"""The Lending connector on a small book worked out by hand.

Lending records are written with SQL (as Lending stores them: submitted documents), which is reliable
without Lending's accounting setup; the connector reads only these tables.
"""

import datetime as dt
import json

import pytest

import frappe

from postloan_performance.services import portfolio_months
from postloan_performance.services.lending import is_active, sync

D = dt.date


@pytest.fixture(autouse=True)
def lending_site(site):
	assert is_active(), "Lending must be installed on the Lending test site"


def _insert(doctype, **values):
	values.setdefault("creation", frappe.utils.now_datetime())
	values.setdefault("modified", values["creation"])
	values.setdefault("owner", "Administrator")
	values.setdefault("modified_by", "Administrator")
	values.setdefault("docstatus", 1)
	cols = ", ".join(f"`{k}`" for k in values)
	frappe.db.sql(
		f"insert into `tab{doctype}` ({cols}) values ({', '.join(['%s'] * len(values))})",
		list(values.values()),
	)


@pytest.fixture
def book():
	company = frappe.db.get_value("Company", {}, "name")
	team = "LND Test Team"
	if not frappe.db.exists("PL Team", team):
		_insert("PL Team", name=team, team_name=team, layer="Collection", company=company, docstatus=0)
	for product in ("LND-P1", "LND-P2"):
		_insert("Loan Product", name=product, product_code=product, company=company)
	# loan A: 1,000 disbursed 2026-01-10, repaid 200 principal in Feb, 300 in April; DPD 40 at end of March
	_insert(
		"Loan",
		name="LND-A",
		applicant="CUST-A",
		applicant_type="Customer",
		loan_product="LND-P1",
		company=company,
		disbursement_date=D(2026, 1, 10),
		disbursed_amount=1000,
		loan_amount=1000,
		status="Disbursed",
	)
	# loan B: 500 disbursed 2026-02-15 of product P2 (unmapped)
	_insert(
		"Loan",
		name="LND-B",
		applicant="CUST-B",
		applicant_type="Customer",
		loan_product="LND-P2",
		company=company,
		disbursement_date=D(2026, 2, 15),
		disbursed_amount=500,
		loan_amount=500,
		status="Disbursed",
	)
	# loan C: 800 disbursed 2026-01-05, written off in March
	_insert(
		"Loan",
		name="LND-C",
		applicant="CUST-C",
		applicant_type="Customer",
		loan_product="LND-P1",
		company=company,
		disbursement_date=D(2026, 1, 5),
		disbursed_amount=800,
		loan_amount=800,
		status="Disbursed",
	)
	_insert(
		"Loan Repayment",
		name="LND-R1",
		against_loan="LND-A",
		posting_date=dt.datetime(2026, 2, 20, 10),
		amount_paid=230,
		principal_amount_paid=200,
		company=company,
	)
	_insert(
		"Loan Repayment",
		name="LND-R2",
		against_loan="LND-A",
		posting_date=dt.datetime(2026, 4, 2, 9),
		amount_paid=330,
		principal_amount_paid=300,
		company=company,
	)
	_insert(
		"Loan Repayment",
		name="LND-R3",
		against_loan="LND-C",
		posting_date=dt.datetime(2026, 1, 31, 23),
		amount_paid=50,
		principal_amount_paid=50,
		company=company,
	)
	for name, loan, day, dpd in [
		("LND-D1", "LND-A", D(2026, 3, 10), 10),
		("LND-D2", "LND-A", D(2026, 3, 31), 40),
		("LND-D3", "LND-A", D(2026, 4, 3), 0),
		("LND-D4", "LND-C", D(2026, 2, 28), 95),
	]:
		_insert("Days Past Due Log", name=name, loan=loan, posting_date=day, days_past_due=dpd, docstatus=0)
	_insert(
		"Loan Write Off",
		name="LND-W1",
		loan="LND-C",
		posting_date=D(2026, 3, 20),
		company=company,
		write_off_amount=750,
	)
	return {"company": company, "team": team, "mapping": [{"loan_product": "LND-P1", "pl_team": team}]}


def _snap(loan, day):
	return frappe.db.get_value(
		"PL Loan Snapshot", f"{loan}-{day}", ["outstanding", "overdue_amount", "dpd", "bucket"], as_dict=True
	)


def test_loans_mapped_with_team_status_and_unmapped_listed(book):
	result = sync.sync_loans(mapping=book["mapping"])
	assert "LND-B" in result["unmapped"]
	assert not frappe.db.exists("PL Loan", "LND-B")
	a = frappe.db.get_value(
		"PL Loan",
		"LND-A",
		["customer", "product", "managing_team", "principal", "status", "disbursed_on"],
		as_dict=True,
	)
	assert (a.customer, a.product, a.managing_team, a.principal, a.status, a.disbursed_on) == (
		"CUST-A",
		"LND-P1",
		book["team"],
		1000,
		"Active",
		D(2026, 1, 10),
	)
	assert frappe.db.get_value("PL Loan", "LND-C", "status") == "Written Off"
	# Lending closes loan A: Settled at the next run; the write-off of C is cancelled: Active again
	frappe.db.sql("update `tabLoan` set status = 'Closed' where name = 'LND-A'")
	frappe.db.sql("update `tabLoan Write Off` set docstatus = 2 where name = 'LND-W1'")
	again = sync.sync_loans(mapping=book["mapping"])
	assert again["inserted"] == 0 and again["updated"] == 2
	assert frappe.db.get_value("PL Loan", "LND-A", "status") == "Settled"
	assert frappe.db.get_value("PL Loan", "LND-C", "status") == "Active"


def test_loan_with_several_write_offs_is_one_loan(book):
	# a second submitted write-off of C and a cancelled one of A: still one row per loan
	_insert(
		"Loan Write Off", name="LND-W2", loan="LND-C", posting_date=D(2026, 4, 1), company=book["company"]
	)
	_insert(
		"Loan Write Off",
		name="LND-W3",
		loan="LND-A",
		posting_date=D(2026, 4, 1),
		company=book["company"],
		docstatus=2,
	)
	lending_loans = frappe.db.sql(
		"select count(*) from `tabLoan` where docstatus = 1 and disbursement_date is not null"
	)[0][0]
	result = sync.sync_loans(mapping=book["mapping"])
	assert result["loans"] == lending_loans
	assert frappe.db.get_value("PL Loan", "LND-C", "status") == "Written Off"
	assert frappe.db.get_value("PL Loan", "LND-A", "status") == "Active"


def test_month_end_outstanding_and_dpd_by_hand(book):
	sync.run(start=D(2026, 1, 1), end=D(2026, 4, 30), mapping=book["mapping"])
	# A: Jan 1000 (no DPD log), Feb 800, Mar 800 with DPD 40 (log of 31 March), Apr 500 with DPD 0
	assert [
		(_snap("LND-A", d).outstanding, _snap("LND-A", d).dpd)
		for d in ("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30")
	] == [(1000, 0), (800, 0), (800, 40), (500, 0)]
	# C: repayment of 31 January 23:00 counts for January; DPD 95 from 28 February on
	assert (_snap("LND-C", "2026-01-31").outstanding, _snap("LND-C", "2026-01-31").dpd) == (750, 0)
	assert _snap("LND-C", "2026-03-31").dpd == 95
	assert _snap("LND-C", "2026-03-31").bucket  # the app's classification job bucketed it
	assert _snap("LND-A", "2026-03-31").bucket != _snap("LND-A", "2026-02-28").bucket
	assert not frappe.db.exists("PL Loan Snapshot", "LND-B-2026-03-31")


def test_dpd_is_the_last_log_on_or_before_each_month_end(book):
	# the latest posting date wins over a later creation; on the same posting date the later creation
	# wins whatever the names; a log after the month-end counts only for the next month-end
	t = dt.datetime(2026, 3, 1, 8)
	for name, day, dpd, created in [
		("LND-D5a", D(2026, 2, 28), 7, t + dt.timedelta(hours=2)),
		("LND-D5z", D(2026, 2, 28), 99, t),
		("LND-D6", D(2026, 2, 27), 3, t + dt.timedelta(hours=5)),
		("LND-D7", D(2026, 3, 1), 50, t),
		("LND-D8", D(2026, 1, 31), 12, t),
	]:
		_insert(
			"Days Past Due Log",
			name=name,
			loan="LND-C",
			posting_date=day,
			days_past_due=dpd,
			creation=created,
			docstatus=0,
		)
	sync.run(start=D(2026, 1, 1), end=D(2026, 4, 30), mapping=book["mapping"], classify=False)
	days = ("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30")
	# C: 12 (31 Jan); 28 Feb: LND-D4 (95, created now) is the latest creation of that day; from March
	# LND-D7 (1 March) is the latest posting date
	assert [_snap("LND-C", d).dpd for d in days] == [12, 95, 50, 50]
	# A's logs are untouched by C's: 0, 0, 40 (31 March, not the 3 April one), 0
	assert [_snap("LND-A", d).dpd for d in days] == [0, 0, 40, 0]
	frappe.db.sql("delete from `tabDays Past Due Log` where name = 'LND-D4'")
	sync.run(start=D(2026, 2, 1), end=D(2026, 2, 28), mapping=book["mapping"], classify=False)
	assert _snap("LND-C", "2026-02-28").dpd == 7


def test_rerun_changes_nothing_and_reflects_cancellation(book):
	sync.run(start=D(2026, 1, 1), end=D(2026, 4, 30), mapping=book["mapping"])
	before = frappe.db.sql(
		"select name, outstanding, overdue_amount, dpd, bucket, classification, modified from `tabPL Loan "
		"Snapshot` where loan like 'LND-%%' order by name"
	)
	recs = frappe.db.sql("select name, amount, modified from `tabPL Recovery` where name like 'LND-%%'")
	sync.run(start=D(2026, 1, 1), end=D(2026, 4, 30), mapping=book["mapping"])
	assert (
		frappe.db.sql(
			"select name, outstanding, overdue_amount, dpd, bucket, classification, modified from `tabPL Loan "
			"Snapshot` where loan like 'LND-%%' order by name"
		)
		== before
	)
	assert sorted(
		frappe.db.sql("select name, amount, modified from `tabPL Recovery` where name like 'LND-%%'")
	) == sorted(recs)
	# cancel the April repayment: April outstanding back to 800 and its recovery gone
	frappe.db.sql("update `tabLoan Repayment` set docstatus = 2 where name = 'LND-R2'")
	sync.run(start=D(2026, 1, 1), end=D(2026, 4, 30), mapping=book["mapping"])
	assert _snap("LND-A", "2026-04-30").outstanding == 800
	assert not frappe.db.exists("PL Recovery", "LND-LND-R2")


def test_repayment_becomes_recovery_of_the_open_case(book):
	sync.sync_loans(mapping=book["mapping"])
	_insert(
		"PL Collection Case",
		name="LND-CASE-1",
		case_no="LND-CASE-1",
		loan="LND-A",
		status="Cured",
		opened_on=D(2026, 3, 1),
		closed_on=D(2026, 4, 5),
		docstatus=0,
	)
	result = sync.sync_recoveries()
	assert result["recoveries"] == 3
	r1 = frappe.db.get_value(
		"PL Recovery", "LND-LND-R1", ["amount", "received_on", "collection_case", "reference"], as_dict=True
	)
	r2 = frappe.db.get_value(
		"PL Recovery", "LND-LND-R2", ["amount", "received_on", "collection_case"], as_dict=True
	)
	assert (r1.amount, r1.received_on, r1.collection_case, r1.reference) == (
		230,
		D(2026, 2, 20),
		None,
		"LND-R1",
	)
	assert (r2.amount, r2.received_on, r2.collection_case) == (330, D(2026, 4, 2), "LND-CASE-1")


def test_reconciliation_all_zero_after_sync_and_shows_a_difference(book):
	from postloan_performance.services.reports import lending_reconciliation

	mapping = [*book["mapping"], {"loan_product": "LND-P2", "pl_team": book["team"]}]
	# only this book in Lending's tables for the comparison
	frappe.db.sql("delete from `tabLoan` where name not like 'LND-%%'")
	sync.run(start=D(2026, 1, 1), end=D(2026, 4, 30), mapping=mapping)
	filters = frappe._dict(from_date="2026-01-01", to_date="2026-04-30")
	rows = lending_reconciliation.get_data(filters)["data"]
	assert [r["month_end"] for r in rows] == [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30)]
	# March by hand: A 800 + B 500 + C 750; DPD > 0: A (40) and C (95)
	march = rows[2]
	assert (march["lending_loans"], march["lending_outstanding"], march["lending_dpd_loans"]) == (3, 2050, 2)
	assert all(r[f"diff_{k}"] == 0 for r in rows for k in ("loans", "outstanding", "dpd_loans"))
	# a repayment Lending records after the run: the report shows the difference until the next run
	_insert(
		"Loan Repayment",
		name="LND-R4",
		against_loan="LND-B",
		posting_date=dt.datetime(2026, 3, 3),
		amount_paid=100,
		principal_amount_paid=100,
		company=book["company"],
	)
	rows = lending_reconciliation.get_data(filters)["data"]
	assert rows[2]["diff_outstanding"] == 100 and rows[3]["diff_outstanding"] == 100
	sync.run(start=D(2026, 1, 1), end=D(2026, 4, 30), mapping=mapping)
	rows = lending_reconciliation.get_data(filters)["data"]
	assert all(r["diff_outstanding"] == 0 for r in rows)


def test_settings_run_records_counts_and_unmapped(book):
	from postloan_performance.services.lending import jobs

	settings = frappe.get_single("PL Lending Settings")
	settings.companies = book["company"]
	settings.loan_products = "LND-P1\nLND-P2"
	settings.backfill_from = D(2026, 1, 1)
	settings.set("team_map", [{"loan_product": "LND-P1", "pl_team": book["team"]}])
	settings.save()
	assert "Active" in settings.connector_status
	frappe.db.sql("delete from `tabLoan` where name not like 'LND-%%'")
	jobs.frappe.db.commit = lambda: None  # keep the test's transaction (rolled back afterwards)
	try:
		result = jobs.run_sync(end=D(2026, 4, 30), progress=None)
	finally:
		del jobs.frappe.db.commit
	assert result["unmapped"] == ["LND-B"] and result["inserted"] == 2 and result["months"] == 4
	last = json.loads(frappe.db.get_single_value("PL Lending Settings", "last_result"))
	assert last["unmapped"] == 1 and last["unmapped_loans"] == ["LND-B"]
	assert frappe.db.get_single_value("PL Lending Settings", "last_run")


def _schedule(loan: str, dues: list[tuple[dt.date, float]], name: str, status="Active", docstatus=1):
	_insert("Loan Repayment Schedule", name=name, loan=loan, status=status, docstatus=docstatus)
	for i, (day, principal) in enumerate(dues, start=1):
		_insert(
			"Repayment Schedule",
			name=f"{name}-{i}",
			parent=name,
			parenttype="Loan Repayment Schedule",
			parentfield="repayment_schedule",
			idx=i,
			payment_date=day,
			principal_amount=principal,
			docstatus=docstatus,
		)


def _rows():
	return frappe.db.sql(
		"""select name, outstanding, overdue_amount, dpd, bucket, proposed_classification, classification
		from `tabPL Loan Snapshot` where loan like 'LND-%%' order by name"""
	)


def test_overdue_and_classes_month_by_month_equal_each_date_alone(book):
	# A: 100 principal due at each month-end; C: a cancelled and a superseded schedule count for nothing
	_schedule("LND-A", [(D(2026, m, 28), 100) for m in (1, 2, 3, 4)], "LND-S1")
	_schedule("LND-C", [(D(2026, 1, 20), 999)], "LND-S2", docstatus=2)
	_schedule("LND-C", [(D(2026, 1, 20), 999)], "LND-S3", status="Rescheduled")
	# a repayment at the last instant of February and one at the first of March
	for name, at, paid in [
		("LND-R5", dt.datetime(2026, 2, 28, 23, 59, 59, 999999), 10),
		("LND-R6", dt.datetime(2026, 3, 1), 20),
	]:
		_insert(
			"Loan Repayment",
			name=name,
			against_loan="LND-C",
			posting_date=at,
			amount_paid=paid,
			principal_amount_paid=paid,
			company=book["company"],
		)
	result = sync.run(start=D(2026, 1, 1), end=D(2026, 4, 30), mapping=book["mapping"], classify=False)
	assert result["snapshots"] == 8  # A and C at four month-ends (B is not mapped)
	days = ("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30")
	# A: due 100, 200, 300, 400 against 0, 200, 200, 500 paid
	assert [_snap("LND-A", d).overdue_amount for d in days] == [100, 0, 100, 0]
	assert [_snap("LND-C", d).outstanding for d in days] == [750, 740, 720, 720]
	assert [_snap("LND-C", d).overdue_amount for d in days] == [0, 0, 0, 0]
	# classified by the sync's own statement (no classification step ran): 40 and 95 days past due
	march = frappe.db.get_value(
		"PL Loan Snapshot", "LND-A-2026-03-31", ["bucket", "proposed_classification", "classification"]
	)
	assert march == ("M2", "Special Mention", "Special Mention")
	assert frappe.db.get_value("PL Loan Snapshot", "LND-C-2026-03-31", "classification") == "Substandard"
	months = _rows()
	# each date on its own, and the dates backwards through one set of totals: the same rows
	frappe.db.sql("delete from `tabPL Loan Snapshot` where loan like 'LND-%%'")
	for day in days:
		sync.snapshot_month(day)
	assert _rows() == months
	frappe.db.sql("delete from `tabPL Loan Snapshot` where loan like 'LND-%%'")
	with sync.RunningTotals() as totals:
		for day in reversed(days):
			sync.snapshot_month(day, totals=totals)
	assert _rows() == months


def test_manual_classification_survives_the_sync(book):
	sync.run(start=D(2026, 3, 1), end=D(2026, 3, 31), mapping=book["mapping"], classify=False)
	name = "LND-A-2026-03-31"
	frappe.db.sql(
		"update `tabPL Loan Snapshot` set manual_classification = 'Loss', classification = 'Loss', "
		"classification_reason = 'fraud' where name = %s",
		name,
	)
	modified = frappe.db.get_value("PL Loan Snapshot", name, "modified")
	sync.run(start=D(2026, 3, 1), end=D(2026, 3, 31), mapping=book["mapping"], classify=False)
	assert frappe.db.get_value(
		"PL Loan Snapshot", name, ["proposed_classification", "classification", "modified"]
	) == ("Special Mention", "Loss", modified)
	# the manual class removed: the next run puts the proposed one back
	frappe.db.sql("update `tabPL Loan Snapshot` set manual_classification = null where name = %s", name)
	sync.run(start=D(2026, 3, 1), end=D(2026, 3, 31), mapping=book["mapping"], classify=False)
	assert frappe.db.get_value("PL Loan Snapshot", name, "classification") == "Special Mention"


def _summary_months(months) -> list:
	built = frappe.db.sql(
		"select distinct month from `tabPL Portfolio Month` where kind = %s",
		portfolio_months.RECOVERY,
		pluck=True,
	)
	return sorted(m for m in (frappe.utils.getdate(b) for b in built) if m in months)


def test_changed_repayments_drop_the_summary_months_they_touch(book):
	sync.sync_loans(mapping=book["mapping"])
	sync.sync_recoveries()
	months = [D(2026, m, 1) for m in (1, 2, 3, 4)]
	portfolio_months.refresh_recovery_months(months)
	built = _summary_months(months)
	assert {D(2026, 1, 1), D(2026, 2, 1), D(2026, 4, 1)} <= set(built)
	sync.sync_recoveries()  # nothing changed: the summary stays
	assert _summary_months(months) == built
	# April's repayment is amended: April's summary (and later) is dropped, the months before stay
	frappe.db.sql("update `tabLoan Repayment` set amount_paid = 340 where name = 'LND-R2'")
	sync.sync_recoveries()
	assert _summary_months(months) == [m for m in built if m < D(2026, 4, 1)]
	# February's is cancelled: from February on
	frappe.db.sql("update `tabLoan Repayment` set docstatus = 2 where name = 'LND-R1'")
	sync.sync_recoveries()
	assert _summary_months(months) == [m for m in built if m < D(2026, 2, 1)]
