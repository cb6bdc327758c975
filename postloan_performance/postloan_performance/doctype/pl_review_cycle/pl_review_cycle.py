# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate

from postloan_performance.services import scheme_versions
from postloan_performance.services.bulk import by_name


class PLReviewCycle(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from postloan_performance.postloan_performance.doctype.pl_review_cycle_team.pl_review_cycle_team import (
			PLReviewCycleTeam,
		)
		from postloan_performance.postloan_performance.doctype.pl_review_cycle_template.pl_review_cycle_template import (
			PLReviewCycleTemplate,
		)

		appeal_window_days: DF.Int
		baseline_end: DF.Date | None
		baseline_start: DF.Date | None
		company: DF.Link
		compare_with: DF.Link | None
		cycle_name: DF.Data
		feedback_deadline: DF.Date | None
		is_trial: DF.Check
		manager_review_deadline: DF.Date | None
		period_end: DF.Date
		period_start: DF.Date
		self_review_deadline: DF.Date | None
		status: DF.Literal["Draft", "Open", "Scoring", "Calibration", "Published", "Closed"]
		teams: DF.TableMultiSelect[PLReviewCycleTeam]
		templates: DF.Table[PLReviewCycleTemplate]

	# end: auto-generated types
	def validate(self):
		self.validate_status_unchanged()
		self.validate_periods()
		self.validate_templates()
		self.validate_teams()

	def validate_status_unchanged(self):
		"""Status moves only through the cycle's own steps, never by editing the field."""
		if self.is_new():
			self.status = "Draft"
			return
		before = self.get_doc_before_save()
		if before and before.status != self.status and not self.flags.status_change:
			frappe.throw(
				_("The status of a review cycle changes only through its action buttons."),
				title=_("Not Allowed"),
			)

	def validate_periods(self):
		if getdate(self.period_end) < getdate(self.period_start):
			frappe.throw(_("Period End cannot be before Period Start."), title=_("Invalid Period"))
		if bool(self.baseline_start) != bool(self.baseline_end):
			frappe.throw(
				_("Set both Baseline Start and Baseline End, or neither."), title=_("Invalid Baseline")
			)
		if self.baseline_start:
			if getdate(self.baseline_end) < getdate(self.baseline_start):
				frappe.throw(_("Baseline End cannot be before Baseline Start."), title=_("Invalid Baseline"))
			if getdate(self.baseline_end) >= getdate(self.period_start):
				frappe.throw(
					_("The baseline must end before the period starts."), title=_("Invalid Baseline")
				)
		if self.compare_with and self.compare_with == self.name:
			frappe.throw(_("A cycle cannot be compared with itself."))

	def validate_templates(self):
		layers = [row.layer for row in self.templates]
		if len(set(layers)) != len(layers):
			frappe.throw(_("Choose one template per layer."), title=_("Duplicate Layer"))
		if self.status == "Draft":
			self.use_versions_active_at_start()
		templates = by_name(
			"PL KPI Template",
			[r.template for r in self.templates],
			["layer", "disabled", "company", "version_status"],
		)
		for row in self.templates:
			tpl = templates.get(row.template)
			if not tpl:
				continue  # link validation reports it
			if tpl.version_status == "Draft" and not self.is_trial:
				frappe.throw(
					_(
						"Row {0}: template {1} is a draft version; adopt it first or use it in a trial cycle."
					).format(row.idx, frappe.bold(row.template)),
					title=_("Draft Version"),
				)
			if tpl.layer != row.layer:
				frappe.throw(
					_("Row {0}: template {1} is for layer {2}, not {3}.").format(
						row.idx, frappe.bold(row.template), _(tpl.layer), _(row.layer)
					),
					title=_("Wrong Template"),
				)
			if tpl.disabled:
				frappe.throw(
					_("Row {0}: template {1} is disabled.").format(row.idx, frappe.bold(row.template))
				)
			if tpl.company and tpl.company != self.company:
				frappe.throw(
					_("Row {0}: template {1} belongs to company {2}.").format(
						row.idx, frappe.bold(row.template), tpl.company
					)
				)

	def use_versions_active_at_start(self):
		"""Each layer uses the version of its chosen scheme that is active at the period start; a draft
		version chosen for a trial cycle stays as chosen."""
		if not self.period_start:
			return
		drafts = set(
			frappe.get_all(
				"PL KPI Template",
				filters={"name": ("in", [r.template for r in self.templates]), "version_status": "Draft"},
				pluck="name",
			)
		)
		for row in self.templates:
			if (
				row.template
				and row.template not in drafts
				and frappe.db.exists("PL KPI Template", row.template)
			):
				row.template = scheme_versions.active_version(row.template, self.period_start)

	def validate_teams(self):
		names = [row.pl_team for row in self.teams]
		if len(set(names)) != len(names):
			frappe.throw(_("Each team may be listed only once."), title=_("Duplicate Team"))
		teams = frappe.get_all(
			"PL Team", filters={"name": ("in", names)}, fields=["name", "company", "layer", "disabled"]
		)
		wrong_company = sorted(t.name for t in teams if t.company != self.company)
		if wrong_company:
			frappe.throw(
				_("These teams do not belong to company {0}: {1}").format(
					frappe.bold(self.company), ", ".join(wrong_company)
				),
				title=_("Wrong Company"),
			)
		covered = {row.layer for row in self.templates}
		missing = sorted({t.layer for t in teams} - covered)
		if missing:
			frappe.throw(
				_("Choose a KPI template for layer(s): {0}").format(", ".join(_(m) for m in missing)),
				title=_("Missing Template"),
			)

	def template_for_layer(self, layer: str) -> str | None:
		return next((row.template for row in self.templates if row.layer == layer), None)

	# ------------------------------------------------------------ the cycle's steps (desk buttons)
	def _run_step(self, step: str) -> dict:
		"""A step for the performance managers with write permission on this cycle."""
		from postloan_performance.services.access import MANAGER_ROLES, require_roles
		from postloan_performance.services.cycle_steps import run_step

		require_roles(*sorted(MANAGER_ROLES))
		self.check_permission("write")
		return run_step(self.name, step)

	@frappe.whitelist(methods=["POST"])
	def open_cycle(self) -> dict:
		return self._run_step("open")

	@frappe.whitelist(methods=["POST"])
	def create_appraisals(self) -> dict:
		return self._run_step("create_appraisals")

	@frappe.whitelist(methods=["POST"])
	def start_self_review(self) -> dict:
		return self._run_step("start_self_review")

	@frappe.whitelist(methods=["POST"])
	def compute_kpis(self) -> dict:
		return self._run_step("compute")

	@frappe.whitelist(methods=["POST"])
	def start_scoring(self) -> dict:
		return self._run_step("start_scoring")

	@frappe.whitelist(methods=["POST"])
	def start_calibration(self) -> dict:
		return self._run_step("start_calibration")

	@frappe.whitelist(methods=["POST"])
	def approve_all(self) -> dict:
		return self._run_step("approve_all")

	@frappe.whitelist(methods=["POST"])
	def publish_cycle(self) -> dict:
		return self._run_step("publish")

	@frappe.whitelist(methods=["POST"])
	def close_cycle(self) -> dict:
		return self._run_step("close")
