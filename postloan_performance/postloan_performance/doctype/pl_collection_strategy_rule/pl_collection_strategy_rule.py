# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from postloan_performance.child_document import PLChildDocument


class PLCollectionStrategyRule(PLChildDocument):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		action_type: DF.Literal["Call", "SMS", "Visit", "Letter", "Legal"]
		assign_to_team: DF.Link | None
		assignment_method: DF.Literal["Round Robin", "Workload Balanced", "Performance Weighted"]
		cap_pct: DF.Float
		case_status: DF.Literal["", "Legal", "Outsourced"]
		floor_pct: DF.Float
		from_bucket: DF.Literal["M1", "M2", "M3", "M4", "M5", "M6+"]
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		to_bucket: DF.Literal["M1", "M2", "M3", "M4", "M5", "M6+"]
	# end: auto-generated types
	pass
