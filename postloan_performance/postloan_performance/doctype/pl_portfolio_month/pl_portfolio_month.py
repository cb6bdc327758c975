# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class PLPortfolioMonth(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		active_cases: DF.Int
		bucket: DF.Literal["", "M0", "M1", "M2", "M3", "M4", "M5", "M6+"]
		classification: DF.Literal["", "Normal", "Special Mention", "Substandard", "Doubtful", "Loss"]
		closed_month: DF.Date | None
		company: DF.Data | None
		entry_overdue_amount: DF.Currency
		kind: DF.Literal["Snapshot", "Recovery", "Case"]
		loans: DF.Int
		loans_with_outstanding: DF.Int
		managing_team: DF.Data | None
		month: DF.Date | None
		month_end: DF.Date | None
		outstanding: DF.Currency
		previous_bucket: DF.Literal["", "M0", "M1", "M2", "M3", "M4", "M5", "M6+"]
		previous_month_end: DF.Date | None
		product: DF.Data | None
		recovered: DF.Currency
	# end: auto-generated types
	"""A row of the monthly portfolio summary (services/portfolio_months.py): written set-wise with one
	INSERT … SELECT per snapshot date or batch of months, deleted when its source rows change. Read-only."""

	pass


def on_doctype_update():
	# the report reads a kind's rows at a few dates; invalidation deletes by date ranges
	frappe.db.add_index("PL Portfolio Month", ["kind", "month_end", "previous_month_end"])
	frappe.db.add_index("PL Portfolio Month", ["kind", "month"])
	# the KPI readers' team sums (services/metric_frames.py), read from the index alone: NPL totals at two
	# dates, the recovery rate's cases
	frappe.db.add_index(
		"PL Portfolio Month", ["kind", "month_end", "managing_team", "classification", "outstanding"]
	)
	frappe.db.add_index(
		"PL Portfolio Month", ["kind", "managing_team", "month", "closed_month", "entry_overdue_amount"]
	)
