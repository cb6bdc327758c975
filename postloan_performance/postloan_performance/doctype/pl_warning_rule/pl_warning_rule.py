# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from frappe.model.document import Document

from postloan_performance.services.early_warning import validate_rule


class PLWarningRule(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		description: DF.SmallText | None
		enabled: DF.Check
		expression: DF.Code
		notify_role: DF.Link | None
		officer: DF.Link | None
		officer_team: DF.Link | None
		rule_name: DF.Data
		severity: DF.Literal["Low", "Medium", "High", "Critical"]

	# end: auto-generated types
	def validate(self):
		# the condition parses, names only known variables and runs on sample values (frappe.safe_eval)
		validate_rule(self)
