# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class PLPayoutRun(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from postloan_performance.postloan_performance.doctype.pl_payout_team.pl_payout_team import (
			PLPayoutTeam,
		)

		company: DF.Link | None
		confirmed_by: DF.Link | None
		confirmed_on: DF.Datetime | None
		currency: DF.Link | None
		drafts_created: DF.Int
		layer: DF.Data | None
		line_count: DF.Int
		log: DF.LongText | None
		naming_series: DF.Literal["PLPO-.YYYY.-"]
		payroll_date: DF.Date | None
		plan: DF.Link
		pool: DF.Currency
		prepared_by: DF.Link | None
		prepared_on: DF.Datetime | None
		review_cycle: DF.Link
		status: DF.Literal["Draft", "Prepared", "Confirmed", "Cancelled"]
		teams: DF.Table[PLPayoutTeam]
		total_amount: DF.Currency
		unallocated: DF.Currency
		without_salary_structure: DF.SmallText | None
	# end: auto-generated types
	"""One incentive payout of a review cycle under a plan. Its steps (prepare, confirm, cancel) are in
	services.payout, reached through api.payout_step; the form only chooses the plan and the cycle."""

	def validate(self):
		plan = frappe.db.get_value(
			"PL Incentive Plan", self.plan, ["company", "layer", "currency"], as_dict=True
		)
		cycle_company = frappe.db.get_value("PL Review Cycle", self.review_cycle, "company")
		if plan.company != cycle_company:
			frappe.throw(
				_("Plan {0} is for company {1}; review cycle {2} is for {3}.").format(
					frappe.bold(self.plan), plan.company, frappe.bold(self.review_cycle), cycle_company
				),
				title=_("Wrong Company"),
			)
		self.company, self.layer, self.currency = plan.company, plan.layer, plan.currency
		if self.is_new():
			self.status = "Draft"
		other = frappe.db.get_value(
			"PL Payout Run",
			{
				"name": ("!=", self.name or ""),
				"plan": self.plan,
				"review_cycle": self.review_cycle,
				"status": ("!=", "Cancelled"),
			},
			"name",
		)
		if other:
			frappe.throw(
				_("Payout run {0} already pays this cycle under this plan.").format(frappe.bold(other)),
				title=_("Duplicate Payout Run"),
			)

	def on_trash(self):
		if self.status == "Confirmed":
			frappe.throw(_("Cancel a confirmed payout run before deleting it."), title=_("Not Allowed"))
		frappe.db.delete("PL Payout Line", {"payout_run": self.name})
