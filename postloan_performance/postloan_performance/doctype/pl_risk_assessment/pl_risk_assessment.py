# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from postloan_performance.services.postloan_data import validate_document


class PLRiskAssessment(Document):
	def validate(self):
		# the same row rules as the bulk loader
		validate_document(self)


def on_doctype_update():
	# composite indexes for the set-wise metric queries (services/metrics.py)
	frappe.db.add_index("PL Risk Assessment", ["author", "report_date"])
