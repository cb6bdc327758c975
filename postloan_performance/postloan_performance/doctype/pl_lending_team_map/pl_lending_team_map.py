# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from postloan_performance.child_document import PLChildDocument


class PLLendingTeamMap(PLChildDocument):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		branch: DF.Link | None
		cost_center: DF.Link | None
		loan_product: DF.Data | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		pl_team: DF.Link
	# end: auto-generated types
	pass
