# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint

RATING_FIELDS = ("fairness", "clarity", "motivation", "workload")


class PLSatisfactionSurvey(Document):
	def validate(self):
		self.respondent_user = frappe.db.get_value("Employee", self.respondent, "user_id")
		if (
			frappe.session.user != "Administrator"
			and "System Manager" not in frappe.get_roles()
			and self.respondent_user != frappe.session.user
		):
			frappe.throw(_("You can only answer the survey for yourself."), frappe.PermissionError)
		for field in RATING_FIELDS:
			if not 1 <= cint(self.get(field)) <= 5:
				frappe.throw(
					_("{0} must be rated between 1 and 5.").format(_(self.meta.get_label(field))),
					title=_("Invalid Rating"),
				)
		if not self.pl_team:
			self.pl_team = frappe.db.get_value(
				"PL Appraisal", {"employee": self.respondent, "review_cycle": self.review_cycle}, "pl_team"
			)
		existing = frappe.db.exists(
			"PL Satisfaction Survey",
			{
				"review_cycle": self.review_cycle,
				"respondent": self.respondent,
				"name": ("!=", self.name or ""),
			},
		)
		if existing:
			frappe.throw(
				_("You have already answered the survey for this cycle."), title=_("Duplicate Survey")
			)
