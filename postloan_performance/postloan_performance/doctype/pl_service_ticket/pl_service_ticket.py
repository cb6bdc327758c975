# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from postloan_performance.services.post_loan_data import validate_document


class PLServiceTicket(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		agent: DF.Link | None
		channel: DF.Literal["Phone", "App", "WeChat", "Branch", "Email"]
		customer: DF.Data | None
		first_response_on: DF.Datetime | None
		loan: DF.Link | None
		opened_on: DF.Datetime
		reference: DF.Data | None
		resolved_on: DF.Datetime | None
		status: DF.Literal["Open", "Resolved", "Closed"]

	# end: auto-generated types
	def validate(self):
		# the same row rules as the bulk loader
		validate_document(self)


def on_doctype_update():
	# composite indexes for the set-wise metric queries (services/metric_frames.py)
	frappe.db.add_index("PL Service Ticket", ["agent", "opened_on"])
	# the newest opening and resolution dates of a period's tickets (services/subject_frames.py: data dates)
	frappe.db.add_index("PL Service Ticket", ["opened_on"])
	frappe.db.add_index("PL Service Ticket", ["resolved_on", "opened_on"])
