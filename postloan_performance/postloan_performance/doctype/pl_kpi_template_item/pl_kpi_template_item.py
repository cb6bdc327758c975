# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from postloan_performance.child_document import PLChildDocument


class PLKPITemplateItem(PLChildDocument):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		bands: DF.SmallText | None
		direction: DF.Data | None
		kpi: DF.Link
		kpi_name: DF.Data | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		scoring_method: DF.Literal["Linear", "Banded", "Binary", "Ratio"]
		stretch: DF.Float
		target: DF.Float
		threshold: DF.Float
		use_stretch: DF.Check
		weight: DF.Float
	# end: auto-generated types
	pass
