# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from postloan_performance.services.post_loan_data import validate_document


class PLCollectionAction(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		action_on: DF.Datetime
		action_type: DF.Literal["Call", "SMS", "Visit", "Letter", "Legal"]
		collection_case: DF.Link
		collector: DF.Link | None
		contact_result: DF.Literal["", "Right Party", "Third Party", "No Contact"]
		outcome: DF.Data | None
		ptp_amount: DF.Currency
		ptp_date: DF.Date | None
		reference: DF.Data | None

	# end: auto-generated types
	def validate(self):
		# the same row rules as the bulk loader
		validate_document(self)


def on_doctype_update():
	# composite indexes for the set-wise metric queries (services/metric_frames.py)
	frappe.db.add_index("PL Collection Action", ["collector", "action_on"])
	frappe.db.add_index("PL Collection Action", ["ptp_date"])
