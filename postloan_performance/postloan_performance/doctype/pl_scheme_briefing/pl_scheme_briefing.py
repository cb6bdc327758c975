# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import now_datetime

from postloan_performance.services.access import employee_details
from postloan_performance.services.scheme_versions import change_log


class PLSchemeBriefing(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from postloan_performance.postloan_performance.doctype.pl_briefing_attendee.pl_briefing_attendee import (
			PLBriefingAttendee,
		)

		attendees: DF.Table[PLBriefingAttendee]
		briefing_date: DF.Date
		briefing_type: DF.Literal["Communication", "Training"]
		company: DF.Link
		content: DF.TextEditor | None
		naming_series: DF.Literal["PLSB-.YYYY.-"]
		presenter: DF.Link | None
		scheme_version: DF.Data | None
		title: DF.Data

	# end: auto-generated types
	def before_insert(self):
		"""A new briefing without content starts from the scheme versions adopted since the company's
		previous briefing (what it has to present)."""
		if self.content or not self.company:
			return
		previous = frappe.get_all(
			"PL Scheme Briefing",
			filters={"company": self.company},
			fields=["creation"],
			order_by="creation desc",
			limit=1,
		)
		self.content = change_log(self.company, previous[0].creation if previous else None)

	def validate(self):
		people = employee_details(row.employee for row in self.attendees)
		for row in self.attendees:
			person = people.get(row.employee) or {}
			row.employee_name, row.user_id = person.get("employee_name"), person.get("user_id")
		seen = set()
		for row in self.attendees:
			if row.employee in seen:
				frappe.throw(
					_("Row {0}: {1} is listed twice.").format(row.idx, frappe.bold(row.employee)),
					title=_("Duplicate Attendee"),
				)
			seen.add(row.employee)


@frappe.whitelist()
def acknowledge(briefing: str) -> dict:
	"""The signed-in attendee confirms he has read the scheme presented in a briefing."""
	doc = frappe.get_doc("PL Scheme Briefing", briefing)
	doc.check_permission("read")
	row = next((r for r in doc.attendees if r.user_id == frappe.session.user), None)
	if not row:
		frappe.throw(_("You are not an attendee of this briefing."), frappe.PermissionError)
	if not row.acknowledged:
		frappe.db.set_value(
			"PL Briefing Attendee", row.name, {"acknowledged": 1, "acknowledged_on": now_datetime()}
		)
	return {"acknowledged": 1}
