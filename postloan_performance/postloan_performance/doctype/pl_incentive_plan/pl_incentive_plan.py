# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt


class PLIncentivePlan(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from postloan_performance.postloan_performance.doctype.pl_incentive_grade.pl_incentive_grade import (
			PLIncentiveGrade,
		)

		company: DF.Link
		currency: DF.Link | None
		disabled: DF.Check
		effective_from: DF.Date
		grade_coefficients: DF.Table[PLIncentiveGrade]
		layer: DF.Literal["", "Management", "Collection", "Risk Control", "Customer Service"]
		leaders_see_individuals: DF.Check
		payroll_date: DF.Date | None
		payroll_date_rule: DF.Literal["Last Day of Next Month", "Last Day of Period", "Fixed Date"]
		plan_name: DF.Data
		pool_amount: DF.Currency
		pool_basis: DF.Literal["Fixed Amount", "Target per Employee"]
		salary_component: DF.Data | None
		target_amount: DF.Currency
		team_cap: DF.Float
		team_floor: DF.Float
		team_split: DF.Literal["Equal per Head", "Weighted by Team Score"]
	# end: auto-generated types
	"""How a review cycle's published grades become pay: the pool, its split over teams and members, and
	the salary component and payroll date of the drafts. Versioned like KPI templates: the plan of a
	cycle is the latest one in effect on the cycle's period end (services.payout_plan.plan_for)."""

	def validate(self):
		if not self.currency and self.company:
			self.currency = frappe.get_cached_value("Company", self.company, "default_currency")
		amount = self.pool_amount if self.pool_basis == "Fixed Amount" else self.target_amount
		if flt(amount) <= 0:
			frappe.throw(_("Set the pool amount or the target per employee."), title=_("Missing Pool"))
		if self.team_split == "Weighted by Team Score" and not (
			0 <= flt(self.team_floor) <= 1 <= flt(self.team_cap)
		):
			frappe.throw(
				_("The team floor must be between 0 and 1 and the team cap at least 1."),
				title=_("Invalid Floor or Cap"),
			)
		seen = set()
		for row in self.grade_coefficients:
			row.grade = (row.grade or "").strip()
			if row.grade in seen:
				frappe.throw(_("Grade {0} is listed twice.").format(frappe.bold(row.grade)))
			if flt(row.coefficient) < 0:
				frappe.throw(_("Row {0}: a coefficient cannot be negative.").format(row.idx))
			seen.add(row.grade)
		if self.payroll_date_rule == "Fixed Date" and not self.payroll_date:
			frappe.throw(_("Set the fixed payroll date."), title=_("Missing Payroll Date"))
		self.validate_salary_component()
		self.validate_version()

	def validate_salary_component(self):
		from postloan_performance.services.payout import hrms_installed

		if self.salary_component and hrms_installed():
			if not frappe.db.exists("Salary Component", self.salary_component):
				frappe.throw(
					_("Salary component {0} does not exist.").format(frappe.bold(self.salary_component)),
					title=_("Unknown Salary Component"),
				)

	def validate_version(self):
		"""One enabled plan per company, layer and effective date."""
		if self.disabled:
			return
		clash = frappe.get_all(
			"PL Incentive Plan",
			filters=[
				["name", "!=", self.name or ""],
				["company", "=", self.company],
				["layer", "=", self.layer] if self.layer else ["layer", "is", "not set"],
				["effective_from", "=", self.effective_from],
				["disabled", "=", 0],
			],
			pluck="name",
			limit=1,
		)
		clash = clash[0] if clash else None
		if clash:
			frappe.throw(
				_("Plan {0} already takes effect on this date for this company and layer.").format(
					frappe.bold(clash)
				),
				title=_("Duplicate Plan Version"),
			)
