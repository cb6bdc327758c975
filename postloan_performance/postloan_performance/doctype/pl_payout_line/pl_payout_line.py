# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from frappe.model.document import Document


class PLPayoutLine(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		additional_salary: DF.Data | None
		amount: DF.Currency
		appraisal: DF.Link | None
		coefficient: DF.Float
		confirmed: DF.Check
		currency: DF.Link | None
		days: DF.Int
		employee: DF.Link | None
		employee_name: DF.Data | None
		employee_user: DF.Link | None
		fte: DF.Float
		grade: DF.Data | None
		layer: DF.Data | None
		leader_visible: DF.Check
		payout_run: DF.Link
		pl_team: DF.Link | None
		review_cycle: DF.Link | None
		revision_note: DF.SmallText | None
		status: DF.Literal["Prepared", "Confirmed", "No Salary Structure", "Cancelled"]
		total_score: DF.Float
	# end: auto-generated types
	pass
