# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from frappe.model.document import Document

from postloan_performance.services.post_loan_data import validate_document


class PLLoan(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		branch: DF.Data | None
		collateral_value: DF.Currency
		company: DF.Link
		customer: DF.Data | None
		disbursed_on: DF.Date
		last_appraisal_date: DF.Date | None
		last_appraisal_value: DF.Currency
		loan_no: DF.Data
		managing_team: DF.Link | None
		maturity_date: DF.Date | None
		principal: DF.Currency
		product: DF.Data | None
		status: DF.Literal["Active", "Settled", "Written Off"]

	# end: auto-generated types
	def validate(self):
		# the same row rules as the bulk loader
		validate_document(self)
