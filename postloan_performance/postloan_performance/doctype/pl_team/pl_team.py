# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.utils import getdate
from frappe.utils.nestedset import NestedSet

from postloan_performance.services.access import employee_details
from postloan_performance.services.teams import find_membership_overlaps


class PLTeam(NestedSet):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from postloan_performance.postloan_performance.doctype.pl_team_member.pl_team_member import (
			PLTeamMember,
		)

		company: DF.Link
		department: DF.Link | None
		disabled: DF.Check
		is_group: DF.Check
		layer: DF.Literal["Management", "Collection", "Risk Control", "Customer Service"]
		lft: DF.Int
		members: DF.Table[PLTeamMember]
		old_parent: DF.Link | None
		parent_pl_team: DF.Link | None
		rgt: DF.Int
		team_lead: DF.Link | None
		team_lead_name: DF.Data | None
		team_lead_user: DF.Link | None
		team_name: DF.Data
	# end: auto-generated types
	nsm_parent_field = "parent_pl_team"

	def validate(self):
		self.set_people_names()
		self.validate_parent()
		self.validate_company_of_people()
		self.validate_member_dates()
		self.validate_overlaps()

	def set_people_names(self):
		people = employee_details([self.team_lead, *(m.employee for m in self.members)])
		lead = people.get(self.team_lead) or {}
		self.team_lead_name, self.team_lead_user = lead.get("employee_name"), lead.get("user_id")
		for member in self.members:
			member.employee_name = (people.get(member.employee) or {}).get("employee_name")

	def validate_parent(self):
		if self.parent_pl_team and self.parent_pl_team == self.name:
			frappe.throw(_("A team cannot be its own parent."), title=_("Invalid Parent Team"))
		if self.parent_pl_team:
			parent_company = frappe.db.get_value("PL Team", self.parent_pl_team, "company")
			if parent_company and parent_company != self.company:
				frappe.throw(
					_("Parent team {0} belongs to company {1}, not {2}.").format(
						frappe.bold(self.parent_pl_team), parent_company, self.company
					),
					title=_("Invalid Parent Team"),
				)

	def validate_company_of_people(self):
		employees = {m.employee for m in self.members if m.employee}
		if self.team_lead:
			employees.add(self.team_lead)
		if not employees:
			return
		companies = dict(
			frappe.get_all(
				"Employee",
				filters={"name": ("in", list(employees))},
				fields=["name", "company"],
				as_list=True,
			)
		)
		wrong = sorted(e for e in employees if companies.get(e) != self.company)
		if wrong:
			frappe.throw(
				_("These employees do not belong to company {0}: {1}").format(
					frappe.bold(self.company), ", ".join(wrong)
				),
				title=_("Wrong Company"),
			)

	def validate_member_dates(self):
		for row in self.members:
			if row.to_date and getdate(row.to_date) < getdate(row.from_date):
				frappe.throw(
					_("Row {0}: To Date {1} is before From Date {2}.").format(
						row.idx, frappe.format(row.to_date, "Date"), frappe.format(row.from_date, "Date")
					),
					title=_("Invalid Membership Dates"),
				)

	def validate_overlaps(self):
		"""An employee may not be in two teams of the same layer at the same time (nor twice in one)."""
		overlaps = find_membership_overlaps(self.name, self.layer, self.members)
		if overlaps:
			lines = [
				_("{0} is already in team {1} from {2} to {3}").format(
					frappe.bold(o["employee"]),
					frappe.bold(o["team"]),
					frappe.format(o["from_date"], "Date"),
					frappe.format(o["to_date"], "Date") if o["to_date"] else _("open end"),
				)
				for o in overlaps
			]
			frappe.throw(
				_("Overlapping team membership in layer {0}:").format(_(self.layer))
				+ "<br>"
				+ "<br>".join(lines),
				title=_("Overlapping Membership"),
			)

	def on_update(self):
		super().on_update()

	def on_trash(self):
		super().on_trash(allow_root_deletion=True)
