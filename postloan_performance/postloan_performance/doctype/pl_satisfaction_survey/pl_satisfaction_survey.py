# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint

RATING_FIELDS = ("fairness", "clarity", "motivation", "workload")


class PLSatisfactionSurvey(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		clarity: DF.Int
		fairness: DF.Int
		motivation: DF.Int
		naming_series: DF.Literal["PLSS-.YYYY.-"]
		pl_team: DF.Link | None
		respondent: DF.Link
		respondent_user: DF.Link | None
		review_cycle: DF.Link
		suggestion: DF.SmallText | None
		workload: DF.Int

	# end: auto-generated types
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
		# the respondent's team comes from his appraisal (or membership), never from the form: a chosen
		# team would let him move another leader's Team Satisfaction
		self.pl_team = respondent_team(self.respondent, self.review_cycle)
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


def respondent_team(employee: str, review_cycle: str) -> str | None:
	"""The team of the respondent's appraisal in the cycle, else his latest current team membership."""
	team = frappe.db.get_value(
		"PL Appraisal", {"employee": employee, "review_cycle": review_cycle}, "pl_team"
	)
	if team:
		return team
	rows = frappe.db.sql(
		"""select parent from `tabPL Team Member` where parenttype = 'PL Team' and employee = %s
		and (from_date is null or from_date <= curdate()) and (to_date is null or to_date >= curdate())
		order by from_date desc limit 1""",
		employee,
	)
	return rows[0][0] if rows else None
