# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class PLPortfolioMonth(Document):
	"""A row of the monthly portfolio summary (services/portfolio_months.py): written set-wise with one
	INSERT … SELECT per snapshot date or batch of months, deleted when its source rows change. Read-only."""

	pass


def on_doctype_update():
	# the report reads a kind's rows at a few dates; invalidation deletes by date ranges
	frappe.db.add_index("PL Portfolio Month", ["kind", "month_end", "previous_month_end"])
	frappe.db.add_index("PL Portfolio Month", ["kind", "month"])
