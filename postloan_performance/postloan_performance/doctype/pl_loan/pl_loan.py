# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from frappe.model.document import Document

from postloan_performance.services.postloan_data import validate_document


class PLLoan(Document):
	def validate(self):
		# the same row rules as the bulk loader
		validate_document(self)
