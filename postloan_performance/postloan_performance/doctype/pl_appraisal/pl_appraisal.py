# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate, now_datetime

from postloan_performance.services.access import is_manager, led_teams
from postloan_performance.services.appraisal import (
	LINE_FIELDS_FROM_TEMPLATE,
	kpi_lines_from_template,
	score_appraisal,
)

# What people other than the scheme owner may change on an appraisal.
APPRAISEE_FIELDS = {"self_assessment"}
TEAM_LEADER_FIELDS = {"manager_comment"}
TEAM_LEADER_LINE_FIELDS = {"actual", "no_data", "note"}  # on Manual KPI lines only
# Set from links or recomputed on every save, so a value sent by the client never sticks.
DERIVED_FIELDS = {
	"employee_name",
	"appraisee_user",
	"layer",
	"company",
	"is_trial",
	"period_start",
	"period_end",
	"quantitative_score",
	"qualitative_score",
	"total_score",
	"grade",
	"final_grade",
	"computed_on",
	"status",  # moved by workflow actions, which Frappe validates against the workflow's transitions
}
LINE_INPUT_FIELDS = ("kpi", *LINE_FIELDS_FROM_TEMPLATE, "actual", "no_data", "note")
# States an appraisal leaves only by someone else's review: its appraisee may never move it on.
REVIEW_STATES = ("Manager Review", "Calibration", "Approved", "Appealed")
# After submission, what people other than the scheme owner may change (acknowledging).
AFTER_SUBMIT_APPRAISEE_FIELDS = {"status", "acknowledged_on"}


class PLAppraisal(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from postloan_performance.postloan_performance.doctype.pl_appraisal_kpi.pl_appraisal_kpi import (
			PLAppraisalKPI,
		)

		acknowledged_on: DF.Datetime | None
		amended_from: DF.Link | None
		appraisee_user: DF.Link | None
		calibrated_grade: DF.Data | None
		calibration_reason: DF.SmallText | None
		company: DF.Link | None
		computed_on: DF.Datetime | None
		employee: DF.Link
		employee_name: DF.Data | None
		final_grade: DF.Data | None
		grade: DF.Data | None
		is_trial: DF.Check
		kpis: DF.Table[PLAppraisalKPI]
		layer: DF.Literal["Management", "Collection", "Risk Control", "Customer Service"]
		manager_comment: DF.TextEditor | None
		naming_series: DF.Literal["PLA-.YYYY.-"]
		period_end: DF.Date | None
		period_start: DF.Date | None
		pl_team: DF.Link
		published_on: DF.Datetime | None
		qualitative_score: DF.Float
		quantitative_score: DF.Float
		review_cycle: DF.Link
		self_assessment: DF.TextEditor | None
		status: DF.Literal[
			"Draft",
			"Self Review",
			"Manager Review",
			"Calibration",
			"Approved",
			"Published",
			"Acknowledged",
			"Appealed",
			"Cancelled",
		]
		template: DF.Link
		total_score: DF.Float

	# end: auto-generated types
	def validate(self):
		self.set_context_fields()
		self.validate_not_own_review()
		self.restore_hidden_results()
		self.validate_editor()
		self.validate_company()
		self.validate_duplicate()
		self.validate_team_and_template()
		self.validate_membership()
		if not self.kpis and self.template:
			self.set("kpis", kpi_lines_from_template(self.template))
		score_appraisal(self)

	def before_submit(self):
		score_appraisal(self, enforce_policy=True)

	def set_context_fields(self):
		cycle = frappe.db.get_value(
			"PL Review Cycle",
			self.review_cycle,
			["company", "is_trial", "period_start", "period_end"],
			as_dict=True,
		)
		if cycle:
			self.company = cycle.company
			self.is_trial = cycle.is_trial
			self.period_start = cycle.period_start
			self.period_end = cycle.period_end
		self.layer = frappe.db.get_value("PL Team", self.pl_team, "layer")
		# set here, not fetched by the form: the scheme owner may select employees but not read them, and
		# a fetch from Employee would stop his new appraisal with "You need Read permission"
		employee = frappe.db.get_value("Employee", self.employee, ["employee_name", "user_id"], as_dict=True)
		self.employee_name = employee.employee_name if employee else None
		self.appraisee_user = employee.user_id if employee else None

	def validate_not_own_review(self):
		"""Nobody passes his own review: the appraisee (found through his Employee's user now, not the
		user stored when the appraisal was made) cannot move it out of a review state."""
		if self.is_new() or frappe.session.user == "Administrator":
			return
		# a locking read: the latest committed state (an appeal filed while publication commits must see
		# "Published", not the transaction's older snapshot)
		stored = frappe.db.get_value("PL Appraisal", self.name, "status", for_update=True)
		if stored == self.status or stored not in REVIEW_STATES:
			return
		own = frappe.db.get_value("Employee", {"user_id": frappe.session.user}, "name")
		if own and own == self.employee:
			frappe.throw(
				_("You cannot review your own appraisal."), frappe.PermissionError, title=_("Not Allowed")
			)

	def apply_fieldlevel_read_permissions(self):
		"""The appraisee reads his results only once published, and never in a trial cycle."""
		from postloan_performance.privacy import blank_results, results_hidden

		super().apply_fieldlevel_read_permissions()
		if results_hidden(self.as_dict(no_child_table_fields=True)):
			blank_results(self)

	def before_print(self, settings=None):
		"""A print (print view, PDF, e-mail attachment) shows the results as the form does: blank to the
		appraisee before publication and in a trial cycle."""
		from postloan_performance.privacy import blank_results, results_hidden

		if results_hidden(self.as_dict(no_child_table_fields=True)):
			blank_results(self)

	def restore_hidden_results(self):
		"""A form saved by an appraisee who saw blanked results keeps the stored ones."""
		from postloan_performance.privacy import RESULT_FIELDS, results_hidden

		before = None if self.is_new() else self.get_doc_before_save()
		if not before or not results_hidden(before.as_dict(no_child_table_fields=True)):
			return
		# only what came back blank: any other change is still judged (and refused) by validate_editor
		for fieldname in RESULT_FIELDS["PL Appraisal"]:
			if not self.get(fieldname):
				self.set(fieldname, before.get(fieldname))
		old_lines = {row.name: row for row in before.kpis}
		for row in self.kpis:
			if row.name in old_lines:
				for fieldname in RESULT_FIELDS["PL Appraisal KPI"]:
					if not row.get(fieldname):
						row.set(fieldname, old_lines[row.name].get(fieldname))

	def validate_editor(self):
		"""Appraisees and team leaders may change only their own parts of an appraisal."""
		if self.is_new() or self.flags.ignore_permissions or is_manager():
			return
		before = self.get_doc_before_save()
		if not before:
			return
		user = frappe.session.user
		allowed = set()
		line_fields = set()
		if user == self.appraisee_user:
			allowed |= APPRAISEE_FIELDS
		if self.pl_team in led_teams(user) and user != self.appraisee_user:
			allowed |= TEAM_LEADER_FIELDS
			line_fields = TEAM_LEADER_LINE_FIELDS

		changed = [
			df.label or df.fieldname
			for df in self.meta.fields
			if df.fieldtype not in ("Table", "Section Break", "Column Break", "Tab Break", "HTML", "Button")
			and df.fieldname not in allowed
			and df.fieldname not in DERIVED_FIELDS
			and (self.get(df.fieldname) or None) != (before.get(df.fieldname) or None)
		]
		old_lines = {row.name: row for row in before.kpis}
		if len(self.kpis) != len(before.kpis) or any(row.name not in old_lines for row in self.kpis):
			changed.append(_("KPI Lines"))
		else:
			for row in self.kpis:
				old = old_lines[row.name]
				editable = line_fields if row.method == "Manual" else set()
				fields = [f for f in LINE_INPUT_FIELDS if (row.get(f) or None) != (old.get(f) or None)]
				if any(f not in editable for f in fields):
					changed.append(_("KPI line {0}").format(row.idx))
				elif fields and not (row.note or "").strip():
					frappe.throw(
						_("KPI line {0}: explain the value you entered in the note.").format(row.idx),
						title=_("Note Required"),
					)
		if changed:
			frappe.throw(
				_("You cannot change: {0}").format(", ".join(_(c) for c in changed)),
				frappe.PermissionError,
				title=_("Not Allowed"),
			)

	def before_update_after_submit(self):
		"""A published appraisal changes only through the scheme owner, or its acknowledgement."""
		self.validate_not_own_review()
		if self.flags.ignore_permissions or is_manager():
			return
		before = self.get_doc_before_save()
		changed = [
			df.fieldname
			for df in self.meta.fields
			if df.allow_on_submit
			and df.fieldname not in AFTER_SUBMIT_APPRAISEE_FIELDS
			and (self.get(df.fieldname) or None) != (before.get(df.fieldname) or None)
		]
		acknowledging = before.status == "Published" and self.status == "Acknowledged"
		appealing = self.status == "Appealed" and before.status != "Appealed"
		if appealing and not frappe.db.exists(
			"PL Appeal", {"appraisal": self.name, "status": ("in", ("Open", "Under Review"))}
		):
			frappe.throw(_("To appeal, create an appeal with your reason."), title=_("Appeal Needs a Reason"))
		if (
			changed
			or (self.status != before.status and not (acknowledging or appealing))
			or frappe.session.user != self.appraisee_user
		):
			frappe.throw(
				_("You cannot change a published appraisal."), frappe.PermissionError, title=_("Not Allowed")
			)
		if acknowledging:
			self.acknowledged_on = now_datetime()

	def validate_company(self):
		employee_company = frappe.db.get_value("Employee", self.employee, "company")
		if self.company and employee_company != self.company:
			frappe.throw(
				_("Employee {0} belongs to company {1}, but the review cycle is for {2}.").format(
					frappe.bold(self.employee), employee_company, self.company
				),
				title=_("Wrong Company"),
			)

	def validate_duplicate(self):
		existing = frappe.db.get_value(
			"PL Appraisal",
			{
				"employee": self.employee,
				"review_cycle": self.review_cycle,
				"docstatus": ("<", 2),
				"name": ("!=", self.name or ""),
			},
			"name",
		)
		if existing:
			frappe.throw(
				_("Employee {0} already has appraisal {1} in review cycle {2}.").format(
					frappe.bold(self.employee), frappe.bold(existing), frappe.bold(self.review_cycle)
				),
				title=_("Duplicate Appraisal"),
			)

	def validate_team_and_template(self):
		cycle_teams = frappe.get_all(
			"PL Review Cycle Team",
			filters={"parent": self.review_cycle, "parenttype": "PL Review Cycle"},
			pluck="pl_team",
		)
		if self.pl_team not in cycle_teams:
			frappe.throw(
				_("Team {0} is not in the scope of review cycle {1}.").format(
					frappe.bold(self.pl_team), frappe.bold(self.review_cycle)
				),
				title=_("Team Not in Cycle"),
			)
		template_layer = frappe.db.get_value("PL KPI Template", self.template, "layer")
		if template_layer != self.layer:
			frappe.throw(
				_("Template {0} is for layer {1}, but team {2} is in layer {3}.").format(
					frappe.bold(self.template), _(template_layer), frappe.bold(self.pl_team), _(self.layer)
				),
				title=_("Wrong Template"),
			)

	def validate_membership(self):
		member = frappe.qb.DocType("PL Team Member")
		is_member = (
			frappe.qb.from_(member)
			.select(member.name)
			.where(
				(member.parenttype == "PL Team")
				& (member.parent == self.pl_team)
				& (member.employee == self.employee)
				& (member.from_date <= getdate(self.period_end))
				& (member.to_date.isnull() | (member.to_date >= getdate(self.period_start)))
			)
			.limit(1)
		).run()
		is_lead = frappe.db.get_value("PL Team", self.pl_team, "team_lead") == self.employee
		if not is_member and not is_lead:
			frappe.throw(
				_("Employee {0} is not a member of team {1} during the cycle's period.").format(
					frappe.bold(self.employee), frappe.bold(self.pl_team)
				),
				title=_("Not a Team Member"),
			)
