# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from postloan_performance.child_document import PLChildDocument


class PLClassificationRule(PLChildDocument):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		doubtful_after_dpd: DF.Int
		loss_after_dpd: DF.Int
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		product: DF.Data
		special_mention_after_dpd: DF.Int
		substandard_after_dpd: DF.Int
	# end: auto-generated types
	pass
