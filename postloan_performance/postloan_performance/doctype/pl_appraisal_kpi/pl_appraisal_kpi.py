# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe

from postloan_performance.child_document import PLChildDocument


class PLAppraisalKPI(PLChildDocument):
	def apply_fieldlevel_read_permissions(self):
		"""A single KPI line read on its own: its results are hidden as on its appraisal."""
		from postloan_performance.privacy import blank_results, results_hidden

		super().apply_fieldlevel_read_permissions()
		if self.parenttype == "PL Appraisal" and self.parent:
			appraisal = frappe.db.get_value(
				"PL Appraisal",
				self.parent,
				("appraisee_user", "status", "is_trial", "pl_team"),
				as_dict=True,
			)
			if results_hidden(appraisal):
				blank_results(self)
