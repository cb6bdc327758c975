# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from frappe.model.document import Document

from postloan_performance.services.delinquency import validate_settings


class PLPostLoanSettings(Document):
	def validate(self):
		# ordered classification thresholds, one row per product, non-negative queue weights
		validate_settings(self)
