# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from postloan_performance.services import portfolio_months
from postloan_performance.services.delinquency import apply_to_document
from postloan_performance.services.post_loan_data import validate_document

SNAPSHOT_DATE_INDEX = ["as_of_date", "loan", "bucket", "classification", "outstanding"]


class PLLoanSnapshot(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		as_of_date: DF.Date
		bucket: DF.Literal["", "M0", "M1", "M2", "M3", "M4", "M5", "M6+"]
		classification: DF.Literal["", "Normal", "Special Mention", "Substandard", "Doubtful", "Loss"]
		classification_reason: DF.SmallText | None
		classified_by: DF.Link | None
		classified_on: DF.Datetime | None
		dpd: DF.Int
		loan: DF.Link
		manual_classification: DF.Literal["", "Normal", "Special Mention", "Substandard", "Doubtful", "Loss"]
		outstanding: DF.Currency
		overdue_amount: DF.Currency
		proposed_classification: DF.Literal[
			"", "Normal", "Special Mention", "Substandard", "Doubtful", "Loss"
		]

	# end: auto-generated types
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
