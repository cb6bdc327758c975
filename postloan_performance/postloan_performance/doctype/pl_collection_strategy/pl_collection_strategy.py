# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from frappe.model.document import Document

from postloan_performance.services.collection import validate_strategy


class PLCollectionStrategy(Document):
	def validate(self):
		# rules cover M1 … M6+ once; methods, floor and cap valid; one enabled strategy per company/product
		validate_strategy(self)
