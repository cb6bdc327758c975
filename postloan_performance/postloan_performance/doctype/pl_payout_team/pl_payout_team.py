# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from postloan_performance.child_document import PLChildDocument


class PLPayoutTeam(PLChildDocument):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		amount: DF.Currency
		fte: DF.Float
		heads: DF.Int
		layer: DF.Data | None
		mean_score: DF.Float
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		pl_team: DF.Link | None
	# end: auto-generated types
	pass
