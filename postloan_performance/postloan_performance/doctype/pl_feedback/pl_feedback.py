# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint

from postloan_performance.services.access import is_manager
from postloan_performance.services.feedback import check_feedback_request

# A rating of 0 marks a criterion as not rated yet (feedback requests are created with every criterion
# at 0); ratings are 1-5 once given.
NOT_RATED = 0


class PLFeedback(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from postloan_performance.postloan_performance.doctype.pl_feedback_rating.pl_feedback_rating import (
			PLFeedbackRating,
		)

		amended_from: DF.Link | None
		appraisal: DF.Link
		appraisee: DF.Link | None
		appraisee_name: DF.Data | None
		comment: DF.SmallText | None
		naming_series: DF.Literal["PLF-.YYYY.-"]
		ratings: DF.Table[PLFeedbackRating]
		relationship: DF.Literal["Self", "Manager", "Peer", "Subordinate"]
		review_cycle: DF.Link | None
		reviewer: DF.Link
		reviewer_user: DF.Link | None

	# end: auto-generated types
	def validate(self):
		appraisal = frappe.db.get_value(
			"PL Appraisal",
			self.appraisal,
			["employee", "template", "docstatus", "review_cycle"],
			as_dict=True,
		)
		self.appraisee = appraisal.employee
		self.review_cycle = appraisal.review_cycle
		self.reviewer_user = frappe.db.get_value("Employee", self.reviewer, "user_id")
		if appraisal.docstatus == 2:
			frappe.throw(_("Appraisal {0} is cancelled.").format(frappe.bold(self.appraisal)))
		self.validate_reviewer()
		self.validate_relationship(appraisal)
		check_feedback_request(self)
		self.validate_duplicate()
		self.validate_ratings(appraisal.template)

	def validate_reviewer(self):
		if not is_manager() and self.reviewer_user != frappe.session.user:
			frappe.throw(
				_("You can only give feedback as yourself."), frappe.PermissionError, title=_("Not Allowed")
			)

	def validate_relationship(self, appraisal):
		is_self = self.reviewer == appraisal.employee
		if (self.relationship == "Self") != is_self:
			frappe.throw(
				_("Relationship Self is for the appraisee's own feedback only."),
				title=_("Invalid Relationship"),
			)

	def validate_duplicate(self):
		existing = frappe.db.exists(
			"PL Feedback",
			{
				"appraisal": self.appraisal,
				"reviewer": self.reviewer,
				"docstatus": ("<", 2),
				"name": ("!=", self.name or ""),
			},
		)
		if existing:
			frappe.throw(
				_("You have already given feedback on this appraisal ({0}).").format(existing),
				title=_("Duplicate Feedback"),
			)

	def validate_ratings(self, template):
		criteria = frappe.get_all(
			"PL Feedback Criterion",
			filters={"parent": template, "parenttype": "PL KPI Template"},
			pluck="criterion",
			order_by="idx asc",
		)
		seen, rated = set(), set()
		for row in self.ratings:
			if row.criterion not in criteria:
				frappe.throw(
					_("Row {0}: {1} is not a feedback criterion of template {2}.").format(
						row.idx, frappe.bold(row.criterion), frappe.bold(template)
					),
					title=_("Unknown Criterion"),
				)
			if row.criterion in seen:
				frappe.throw(_("Row {0}: {1} is rated twice.").format(row.idx, frappe.bold(row.criterion)))
			seen.add(row.criterion)
			rating = cint(row.rating)
			if rating == NOT_RATED:
				continue  # a draft may keep criteria unrated; before_submit refuses them
			if not 1 <= rating <= 5:
				frappe.throw(
					_("Row {0}: ratings must be between 1 and 5.").format(row.idx), title=_("Invalid Rating")
				)
			rated.add(row.criterion)
		self.flags.unrated = [c for c in criteria if c not in rated]

	def before_submit(self):
		if self.flags.unrated:
			frappe.throw(
				_("Rate every criterion before submitting: {0}").format(", ".join(self.flags.unrated)),
				title=_("Missing Ratings"),
			)

	def on_submit(self):
		self.set_todo_status("Closed")

	def on_cancel(self):
		self.set_todo_status("Cancelled")

	def set_todo_status(self, status: str):
		"""Close (or cancel) the reviewer's open ToDo for this feedback, made by the feedback request."""
		filters = {"reference_type": self.doctype, "reference_name": self.name, "status": "Open"}
		if self.reviewer_user:
			filters["allocated_to"] = self.reviewer_user
		for name in frappe.get_all("ToDo", filters=filters, pluck="name"):
			todo = frappe.get_doc("ToDo", name)
			todo.status = status
			todo.save(ignore_permissions=True)
