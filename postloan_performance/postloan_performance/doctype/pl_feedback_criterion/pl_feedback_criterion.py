# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from postloan_performance.child_document import PLChildDocument


class PLFeedbackCriterion(PLChildDocument):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		criterion: DF.Data
		description: DF.SmallText | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		weight: DF.Float
	# end: auto-generated types
	pass
