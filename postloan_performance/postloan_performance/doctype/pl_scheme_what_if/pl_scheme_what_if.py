# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document

from postloan_performance.services import scheme_whatif
from postloan_performance.services.access import MANAGER_ROLES, require_roles

RESULT_FIELDS = (
	"status",
	"run_by",
	"started_on",
	"finished_on",
	"run_seconds",
	"subjects",
	"moved_up",
	"moved_down",
	"mean_score_before",
	"mean_score_after",
	"error",
	"results",
)


class PLSchemeWhatIf(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		error: DF.SmallText | None
		finished_on: DF.Datetime | None
		layer: DF.Data | None
		mean_score_after: DF.Float
		mean_score_before: DF.Float
		moved_down: DF.Int
		moved_up: DF.Int
		naming_series: DF.Literal["PLWI-.YYYY.-"]
		results: DF.JSON | None
		review_cycle: DF.Link
		run_by: DF.Link | None
		run_seconds: DF.Float
		scheme_version: DF.Data | None
		started_on: DF.Datetime | None
		status: DF.Literal["Draft", "Queued", "Running", "Completed", "Failed"]
		subjects: DF.Int
		template: DF.Link
	# end: auto-generated types
	"""A what-if run of a scheme version over a past review cycle (services/scheme_whatif.py). It never
	creates or changes an appraisal; its per-person results (field ``results``, level 1) are for the
	scheme owner, its summary for executives too."""

	def validate(self):
		scheme_whatif.check(self.review_cycle, self.template)
		if self.is_new():
			self.status = "Draft"
		elif self.has_value_changed("template") or self.has_value_changed("review_cycle"):
			for field in RESULT_FIELDS:  # results of another version or cycle no longer apply
				self.set(field, None)
			self.status = "Draft"

	@frappe.whitelist()
	def run_what_if(self, background: bool = False) -> dict:
		"""Run (or re-run) the what-if: in the request when small, else on the long queue."""
		require_roles(*MANAGER_ROLES)
		self.check_permission("write")
		return scheme_whatif.run(self.name, background=True if background else None)
