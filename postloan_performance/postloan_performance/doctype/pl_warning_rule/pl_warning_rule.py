# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from frappe.model.document import Document

from postloan_performance.services.early_warning import validate_rule


class PLWarningRule(Document):
	def validate(self):
		# the condition parses, names only known variables and runs on sample values (frappe.safe_eval)
		validate_rule(self)
