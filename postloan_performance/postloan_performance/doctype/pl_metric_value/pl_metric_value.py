# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class PLMetricValue(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		computed_on: DF.Datetime | None
		from_date: DF.Date | None
		metric: DF.Data
		period: DF.Literal["Baseline Period", "Scheme Period"]
		review_cycle: DF.Link
		scope: DF.Data
		subject: DF.Data
		survey_cycle: DF.Link | None
		to_date: DF.Date | None
		value: DF.Data | None
	# end: auto-generated types
	"""A stored per-subject metric value of the Scheme Effect Evaluation (services.evaluation writes them
	set-wise; nobody edits them)."""


def on_doctype_update():
	# the evaluation reads, replaces and orders a cycle's values by (review_cycle, idx)
	frappe.db.add_index("PL Metric Value", ["review_cycle", "idx"])
