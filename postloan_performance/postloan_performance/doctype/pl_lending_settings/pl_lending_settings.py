# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from frappe.model.document import Document

from postloan_performance.services.lending import connector_status


class PLLendingSettings(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from postloan_performance.postloan_performance.doctype.pl_lending_team_map.pl_lending_team_map import (
			PLLendingTeamMap,
		)

		backfill_from: DF.Date | None
		companies: DF.SmallText | None
		connector_status: DF.Data | None
		enable_daily_sync: DF.Check
		last_result: DF.SmallText | None
		last_run: DF.Datetime | None
		loan_products: DF.SmallText | None
		team_map: DF.Table[PLLendingTeamMap]

	# end: auto-generated types
	@property
	def connector_status(self) -> str:
		return connector_status()
