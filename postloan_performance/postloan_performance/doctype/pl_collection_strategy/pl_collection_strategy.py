# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from frappe.model.document import Document

from postloan_performance.services.collection import validate_strategy


class PLCollectionStrategy(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from postloan_performance.postloan_performance.doctype.pl_collection_strategy_rule.pl_collection_strategy_rule import (
			PLCollectionStrategyRule,
		)

		company: DF.Link | None
		description: DF.SmallText | None
		enabled: DF.Check
		include_team_leads: DF.Check
		product: DF.Data | None
		rules: DF.Table[PLCollectionStrategyRule]
		strategy_name: DF.Data

	# end: auto-generated types
	def validate(self):
		# rules cover M1 … M6+ once; methods, floor and cap valid; one enabled strategy per company/product
		validate_strategy(self)
