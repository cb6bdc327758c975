# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import now_datetime


class PLSchemeBriefing(Document):
	def validate(self):
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
