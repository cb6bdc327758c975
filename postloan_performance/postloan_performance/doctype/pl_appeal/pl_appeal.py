# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import add_days, flt, get_datetime, getdate, now_datetime, today

from postloan_performance.engine.names import PUBLISHED_STATES
from postloan_performance.services.access import is_manager
from postloan_performance.services.appeal import apply_decision, mark_appealed

APPEALABLE_STATES = PUBLISHED_STATES
DECIDED = ("Upheld", "Rejected")
UNDECIDED = ("Open", "Under Review")
NEW = "new"

# field -> (who may change it, in which states of the appeal). "appraisee" is the appealing employee,
# "owner" the scheme owner (PL Performance Manager / System Manager). Nothing is editable once decided.
FIELD_RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
	"appraisal": (("appraisee", "owner"), (NEW,)),
	"reason": (("appraisee", "owner"), (NEW, "Open")),
	"disputed_lines": (("appraisee", "owner"), (NEW, "Open")),
	"revised_score": (("owner",), UNDECIDED),
	"resolution": (("owner",), UNDECIDED),
	"status": (("owner",), UNDECIDED),
	# set by the app only: the score at filing, who decided and when
	"original_score": ((), ()),
	"resolved_by": ((), ()),
	"resolved_on": ((), ()),
}
SET_ON_INSERT = ("status", "original_score")


class PLAppeal(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from postloan_performance.postloan_performance.doctype.pl_appeal_line.pl_appeal_line import (
			PLAppealLine,
		)

		appraisal: DF.Link
		appraisee_user: DF.Link | None
		disputed_lines: DF.Table[PLAppealLine]
		employee: DF.Link | None
		employee_name: DF.Data | None
		naming_series: DF.Literal["PLAP-.YYYY.-"]
		original_score: DF.Float
		pl_team: DF.Link | None
		reason: DF.SmallText
		resolution: DF.SmallText | None
		resolved_by: DF.Link | None
		resolved_on: DF.Datetime | None
		review_cycle: DF.Link | None
		revised_score: DF.Float
		status: DF.Literal["Open", "Under Review", "Upheld", "Rejected"]

	# end: auto-generated types
	def validate(self):
		appraisal = frappe.db.get_value(
			"PL Appraisal",
			self.appraisal,
			[
				"employee",
				"appraisee_user",
				"pl_team",
				"review_cycle",
				"status",
				"docstatus",
				"published_on",
				"total_score",
			],
			as_dict=True,
			# a locking read: an appeal filed while the cycle is being published waits for the
			# publication to commit, then sees the appraisal as published (never half-way)
			for_update=True,
		)
		self.employee = appraisal.employee
		self.appraisee_user = appraisal.appraisee_user
		self.pl_team = appraisal.pl_team
		self.review_cycle = appraisal.review_cycle
		self.validate_field_rules()
		if self.is_new():
			self.original_score = appraisal.total_score
			self.validate_new(appraisal)
		self.validate_lines()
		self.validate_status_change()

	def _field_value(self, doc, field: str):
		if field == "disputed_lines":
			return [(r.kpi, flt(r.claimed_value), (r.comment or "").strip()) for r in doc.get(field) or []]
		if field in ("revised_score", "original_score"):
			return flt(doc.get(field))
		if field == "resolved_on":
			return str(doc.get(field)) if doc.get(field) else None
		value = doc.get(field)
		return (value.strip() if isinstance(value, str) else value) or None

	def validate_field_rules(self):
		"""FIELD_RULES: each changed field must be writable by the user's role in the appeal's state."""
		before = None if self.is_new() else self.get_doc_before_save()
		if before is None and not self.is_new():
			before = frappe.get_doc(self.doctype, self.name)
		state = NEW if before is None else before.status
		role = "owner" if is_manager() else "appraisee"
		for field, (roles, states) in FIELD_RULES.items():
			if before is None:
				if field in SET_ON_INSERT:
					continue  # validate_new sets them
				changed = self._field_value(self, field) not in (None, 0.0, [])
			else:
				changed = self._field_value(self, field) != self._field_value(before, field)
			if not changed or (role in roles and state in states):
				continue
			label = _(self.meta.get_label(field))
			if state in DECIDED:
				message = _("This appeal has already been decided; {0} cannot be changed.").format(label)
			else:
				message = _("You cannot change {0} of an appeal in state {1}.").format(
					label, _("New") if state == NEW else _(state)
				)
			frappe.throw(message, frappe.PermissionError, title=_("Not Allowed"))

	def validate_new(self, appraisal):
		if not is_manager() and frappe.session.user != appraisal.appraisee_user:
			frappe.throw(_("Only the appraisee can appeal his appraisal."), frappe.PermissionError)
		if appraisal.docstatus != 1 or appraisal.status not in APPEALABLE_STATES:
			frappe.throw(
				_("Appraisal {0} is not published yet; appeals open after publication.").format(
					frappe.bold(self.appraisal)
				),
				title=_("Not Published"),
			)
		if appraisal.published_on:
			window = frappe.db.get_value("PL Review Cycle", appraisal.review_cycle, "appeal_window_days")
			if window and getdate(today()) > getdate(add_days(get_datetime(appraisal.published_on), window)):
				frappe.throw(
					_("The appeal window of {0} days after publication has closed.").format(window),
					title=_("Appeal Window Closed"),
				)
		self.status = "Open"
		open_appeal = frappe.db.exists(
			"PL Appeal", {"appraisal": self.appraisal, "status": ("in", ("Open", "Under Review"))}
		)
		if open_appeal:
			frappe.throw(
				_("Appeal {0} on this appraisal is still open.").format(frappe.bold(open_appeal)),
				title=_("Duplicate Appeal"),
			)

	def validate_lines(self):
		kpis = set(
			frappe.get_all(
				"PL Appraisal KPI",
				filters={"parent": self.appraisal, "parenttype": "PL Appraisal"},
				pluck="kpi",
			)
		)
		for row in self.disputed_lines:
			if row.kpi not in kpis:
				frappe.throw(
					_("Row {0}: KPI {1} is not on appraisal {2}.").format(
						row.idx, frappe.bold(row.kpi), frappe.bold(self.appraisal)
					),
					title=_("Unknown KPI"),
				)

	def validate_status_change(self):
		before = self.get_doc_before_save()
		old_status = before.status if before else "Open"
		if old_status == self.status:
			return
		if not is_manager():
			frappe.throw(_("Only the PL Performance Manager can review an appeal."), frappe.PermissionError)
		if old_status in DECIDED:
			frappe.throw(_("This appeal has already been decided."), title=_("Not Allowed"))
		if self.status in DECIDED:
			if not (self.resolution or "").strip():
				frappe.throw(
					_("Write the resolution before deciding the appeal."), title=_("Missing Resolution")
				)
			if self.status == "Upheld" and flt(self.revised_score) <= 0:
				frappe.throw(_("An upheld appeal needs the revised score."), title=_("Missing Revised Score"))
			self.resolved_by = frappe.session.user
			self.resolved_on = now_datetime()

	def after_insert(self):
		mark_appealed(self.appraisal)

	def on_update(self):
		before = self.get_doc_before_save()
		if not before or before.status == self.status or self.status not in DECIDED:
			return
		apply_decision(self)
