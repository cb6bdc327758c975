# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from postloan_performance.services.post_loan_data import validate_document


class PLCustomerFeedback(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		collection_case: DF.Link | None
		csat: DF.Int
		customer: DF.Data | None
		employee: DF.Link | None
		given_on: DF.Date
		nps: DF.Literal["", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]
		reference: DF.Data | None
		ticket: DF.Link | None

	# end: auto-generated types
	def validate(self):
		# the same row rules as the bulk loader
		validate_document(self)


def on_doctype_update():
	# composite indexes for the set-wise metric queries (services/metric_frames.py)
	frappe.db.add_index("PL Customer Feedback", ["employee", "given_on"])
	# the newest feedback date of a period, and the feedback on a few people's cases (services/subject_frames.py)
	frappe.db.add_index("PL Customer Feedback", ["given_on"])
	frappe.db.add_index("PL Customer Feedback", ["collection_case", "given_on"])
