# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from postloan_performance.services import portfolio_months
from postloan_performance.services.delinquency import apply_to_document
from postloan_performance.services.postloan_data import validate_document

SNAPSHOT_DATE_INDEX = ["as_of_date", "loan", "bucket", "classification", "outstanding"]


class PLLoanSnapshot(Document):
	def validate(self):
		# the same row rules as the bulk loader
		validate_document(self)
		# bucket, proposed classification (product thresholds) and the manual override
		apply_to_document(self)

	def on_update(self):
		# the monthly summary behind Portfolio Quality Trend is rebuilt where it read this date
		portfolio_months.on_snapshot_change(self, "on_update")

	def on_trash(self):
		portfolio_months.on_snapshot_change(self, "on_trash")


def on_doctype_update():
	# Composite indexes for the set-wise metric and report queries over millions of snapshots, each
	# answered from the index alone, without fetching the rows:
	# - month-end reads (NPL totals per team, buckets and classifications per date, per-loan rows); it
	#   replaces the narrower (as_of_date, loan) index of earlier versions (patch snapshot_indexes);
	frappe.db.add_index("PL Loan Snapshot", SNAPSHOT_DATE_INDEX)
	# - each loan's first NPL date (warning recall, Early Warning Effectiveness).
	frappe.db.add_index("PL Loan Snapshot", ["classification", "loan", "as_of_date"])
