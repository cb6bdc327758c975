# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from postloan_performance.services.post_loan_data import validate_document


class PLCollectionCase(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		action_type: DF.Literal["", "Call", "SMS", "Visit", "Letter", "Legal"]
		assigned_on: DF.Date | None
		assignment_method: DF.Data | None
		assignment_note: DF.SmallText | None
		case_no: DF.Data
		closed_on: DF.Date | None
		collector: DF.Link | None
		current_bucket: DF.Literal["", "M0", "M1", "M2", "M3", "M4", "M5", "M6+"]
		current_overdue_amount: DF.Currency
		entry_bucket: DF.Literal["", "M0", "M1", "M2", "M3", "M4", "M5", "M6+"]
		entry_overdue_amount: DF.Currency
		escalated_on: DF.Date | None
		escalation_count: DF.Int
		last_evaluated_on: DF.Date | None
		loan: DF.Link
		opened_on: DF.Date
		pl_team: DF.Link | None
		propensity_score: DF.Percent
		status: DF.Literal[
			"Open", "In Progress", "Promise to Pay", "Cured", "Paid Off", "Written Off", "Outsourced", "Legal"
		]
		strategy: DF.Link | None
		strategy_rule: DF.Data | None

	# end: auto-generated types
	def validate(self):
		# the same row rules as the bulk loader
		validate_document(self)


def on_doctype_update():
	# composite indexes for the set-wise metric queries (services/metric_frames.py)
	frappe.db.add_index("PL Collection Case", ["collector", "opened_on"])
	frappe.db.add_index("PL Collection Case", ["opened_on", "closed_on"])
	# the newest closing date of a period's cases (services/subject_frames.py: data dates)
	frappe.db.add_index("PL Collection Case", ["closed_on", "opened_on"])
