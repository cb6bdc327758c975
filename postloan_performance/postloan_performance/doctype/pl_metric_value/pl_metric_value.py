# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class PLMetricValue(Document):
	"""A stored per-subject metric value of the Scheme Effect Evaluation (services.evaluation writes them
	set-wise; nobody edits them)."""


def on_doctype_update():
	# the evaluation reads, replaces and orders a cycle's values by (review_cycle, idx)
	frappe.db.add_index("PL Metric Value", ["review_cycle", "idx"])
