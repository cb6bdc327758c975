# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe

from postloan_performance.child_document import PLChildDocument


class PLAppraisalKPI(PLChildDocument):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		achievement: DF.Percent
		actual: DF.Float
		bands: DF.SmallText | None
		data_date: DF.Date | None
		direction: DF.Data | None
		kpi: DF.Link
		kpi_name: DF.Data | None
		method: DF.Data | None
		no_data: DF.Check
		note: DF.SmallText | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		score: DF.Float
		scoring_method: DF.Data | None
		stretch: DF.Float
		target: DF.Float
		threshold: DF.Float
		unit: DF.Data | None
		use_stretch: DF.Check
		weight: DF.Float
		weighted_score: DF.Float

	# end: auto-generated types
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
