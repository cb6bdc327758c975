"""Lending connector speed: a generated loan book written straight into Frappe Lending's tables, then the
back-fill (every month-end) and one daily increment, timed. Run with the bench's Python on a site WITH
Lending that is a throw-away clone (it deletes Lending's loans and the app's loans first):

    PYTHONPATH=<repo> nice -n 5 ~/frappe-bench/env/bin/python benchmarks/lending_speed.py \
        --site plp-lendbench.localhost --loans 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import frappe

from benchmarks._site import connect
from postloan_performance.datagen.generator import generate
from postloan_performance.services import bulk
from postloan_performance.services.lending import sync

META = ["creation", "modified", "owner", "modified_by", "docstatus"]


def load_book(n_loans: int, seed: int) -> tuple[dt.date, dt.date, str]:
	data = generate(seed, n_loans=n_loans, months=12)
	company = frappe.db.get_value("Company", {}, "name")
	now = frappe.utils.now_datetime()
	meta = [now, now, "Administrator", "Administrator", 1]
	for table in ("Loan", "Loan Repayment", "Days Past Due Log", "PL Loan Snapshot", "PL Recovery"):
		frappe.db.sql(f"delete from `tab{table}`")  # nosemgrep
	frappe.db.sql("delete from `tabPL Collection Case`")
	frappe.db.sql("delete from `tabPL Loan`")
	loans, snaps, recs = data.loans, data.snapshots, data.recoveries
	bulk.insert_many(
		"Loan",
		[
			"name",
			*META,
			"applicant_type",
			"applicant",
			"loan_product",
			"company",
			"branch",
			"disbursement_date",
			"loan_amount",
			"disbursed_amount",
			"status",
		],
		[
			(
				r.loan_no,
				*meta,
				"Customer",
				r.customer,
				r.product,
				company,
				r.branch,
				r.disbursed_on,
				r.principal,
				r.principal,
				"Closed" if r.status == "Settled" else "Disbursed",
			)
			for r in loans.itertuples()
		],
	)
	loan_of = dict(zip(loans["name"], loans["loan_no"], strict=True))
	bulk.insert_many(
		"Days Past Due Log",
		["name", *META, "loan", "posting_date", "days_past_due"],
		[
			(f"DPD-{i}", *meta[:4], 0, loan_of.get(r.loan, r.loan), r.as_of_date, int(r.dpd))
			for i, r in enumerate(snaps.itertuples())
		],
	)
	bulk.insert_many(
		"Loan Repayment",
		["name", *META, "against_loan", "posting_date", "amount_paid", "principal_amount_paid", "company"],
		[
			(f"REP-{i}", *meta, loan_of.get(r.loan, r.loan), r.received_on, r.amount, r.amount, company)
			for i, r in enumerate(recs.itertuples())
		],
	)
	frappe.db.commit()
	days = sorted(snaps["as_of_date"].unique())
	return days, company


class Phases:
	"""Seconds spent in each step of sync.run (wrapped for the benchmark's duration)."""

	def __init__(self) -> None:
		from postloan_performance.services import delinquency

		self.seconds: dict[str, float] = {}
		for module, name, label in [
			(sync, "sync_loans", "loans"),
			(sync, "snapshot_month", "snapshots"),
			(delinquency, "process_date_in_sql", "classification"),
			(sync, "sync_recoveries", "recoveries"),
		]:
			setattr(module, name, self._timed(getattr(module, name), label))

	def _timed(self, fn, label):
		def wrapper(*args, **kwargs):
			t0 = time.perf_counter()
			try:
				return fn(*args, **kwargs)
			finally:
				self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - t0

		return wrapper

	def line(self) -> str:
		text = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
		self.seconds = {}
		return text


def main() -> None:
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", default="plp-lendbench.localhost")
	parser.add_argument("--loans", type=int, default=200_000)
	parser.add_argument("--seed", type=int, default=42)
	args = parser.parse_args()
	connect(args.site)
	t0 = time.perf_counter()
	days, company = load_book(args.loans, args.seed)
	first, last = days[0], days[-1]
	counts = {t: frappe.db.count(t) for t in ("Loan", "Loan Repayment", "Days Past Due Log")}
	print(f"lending book: {counts} written in {time.perf_counter() - t0:.1f}s", flush=True)
	team = frappe.db.get_value("PL Team", {}, "name") or "Lending Bench Team"
	if not frappe.db.exists("PL Team", team):
		frappe.get_doc(
			{"doctype": "PL Team", "team_name": team, "layer": "Collection", "company": company}
		).insert()
	mapping = [{"pl_team": team}]
	phases = Phases()
	t0 = time.perf_counter()
	result = sync.run(
		start=first,
		end=last,
		mapping=mapping,
		progress=lambda done, total: print(
			f"  month-end {done}/{total} done at {time.perf_counter() - t0:.1f}s", flush=True
		),
	)
	frappe.db.commit()
	backfill = time.perf_counter() - t0
	print(
		f"back-fill: {result['months']} month-ends, {result['inserted']} loans, {result['snapshots']} snapshots, "
		f"{result['recoveries']} recoveries in {backfill:.1f}s (target < 300s)"
	)
	print(f"  back-fill steps: {phases.line()}")
	# the daily job's run: the previous and the current month-end (jobs.daily), loans and recoveries
	previous = days[-2] if len(days) > 1 else last
	t0 = time.perf_counter()
	again = sync.run(start=previous, end=last, mapping=mapping, progress=lambda done, total: None)
	frappe.db.commit()
	daily = time.perf_counter() - t0
	print(
		f"daily increment: {again['months']} month-ends, {again['updated']} loans changed, "
		f"{again['snapshots']} snapshots, {again['recoveries']} recoveries in {daily:.1f}s (target < 60s)"
	)
	print(f"  daily steps: {phases.line()}")


if __name__ == "__main__":
	main()
