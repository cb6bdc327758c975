# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from postloan_performance.services.post_loan_data import validate_document


class PLRiskAlert(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		details: DF.SmallText | None
		loan: DF.Link
		officer: DF.Link | None
		outcome: DF.Literal["Pending", "Confirmed", "False Alarm"]
		outcome_note: DF.SmallText | None
		outcome_on: DF.Date | None
		raised_on: DF.Date
		reference: DF.Data | None
		rule: DF.Data | None
		severity: DF.Literal["Low", "Medium", "High", "Critical"]

	# end: auto-generated types
	def validate(self):
		# the same row rules as the bulk loader
		validate_document(self)


def on_doctype_update():
	# composite indexes for the set-wise metric queries (services/metric_frames.py)
	frappe.db.add_index("PL Risk Alert", ["officer", "raised_on"])
	frappe.db.add_index("PL Risk Alert", ["loan", "raised_on"])
