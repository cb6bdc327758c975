"""Removing exactly what the demo made, and nothing else."""

from __future__ import annotations

import frappe
from frappe import _

from postloan_performance.services import portfolio_months
from postloan_performance.services.demo.inventory import _chunks, _delete, _Scope, demo_counts
from postloan_performance.services.demo.plan import DEMO_COMPANY
from postloan_performance.services.demo.scheme_trial import remove_what_ifs


# ---------------------------------------------------------------- remove
def remove_demo(publish_progress: bool = False) -> dict:
	"""Delete everything the demo created: post-loan rows, scheme records, users, employees and, when
	nothing else uses it, the company. Set-wise deletes; does not commit (the caller does)."""
	scope = _Scope()
	removed = demo_counts()
	portfolio_months.invalidate_all()  # the Portfolio Quality Trend summary of the demo's loans
	remove_what_ifs(scope.cycles)  # before the cycles: a what-if links its cycle
	for doctype, column, values in (
		# child tables first, then their parents
		("PL Appraisal KPI", "parent", scope.appraisals),
		("PL Feedback Rating", "parent", scope.feedback),
		("PL Appeal Line", "parent", scope.appeals),
		("PL Review Cycle Template", "parent", scope.cycles),
		("PL Review Cycle Team", "parent", scope.cycles),
		("PL Briefing Attendee", "parent", scope.briefings),
		("PL Payout Line", "payout_run", scope.payouts),
		("PL Payout Team", "parent", scope.payouts),
		("PL Incentive Grade", "parent", scope.plans),
		("PL Payout Run", "name", scope.payouts),
		("PL Incentive Plan", "name", scope.plans),
		("PL Team Member", "parent", scope.teams),
		("PL Metric Value", "review_cycle", scope.cycles),  # the cycles' stored Scheme Effect values
		("PL Appeal", "name", scope.appeals),
		("PL Feedback", "name", scope.feedback),
		("PL Satisfaction Survey", "name", scope.surveys),
		("PL Appraisal", "name", scope.appraisals),
		("PL Review Cycle", "name", scope.cycles),
		("PL Scheme Briefing", "name", scope.briefings),
	):
		_delete(doctype, column, values)
	if publish_progress:
		frappe.publish_progress(30, title=_("Removing the demo"), description=_("Review cycles removed"))

	_delete("PL Collection Action", "collection_case", scope.cases)
	for doctype, column, values in (
		("PL Customer Feedback", "collection_case", scope.cases),
		("PL Customer Feedback", "ticket", scope.tickets),
		("PL Customer Feedback", "employee", scope.employees),
		("PL Recovery", "collection_case", scope.cases),
		("PL Recovery", "loan", scope.loans),
		("PL Risk Alert", "loan", scope.loans),
		("PL Risk Event", "loan", scope.loans),
		("PL Risk Assessment", "loan", scope.loans),
		("PL Risk Assessment", "portfolio", scope.teams),
		("PL Loan Snapshot", "loan", scope.loans),
	):
		_delete(doctype, column, values)
	_delete("PL Service Ticket", "name", scope.tickets)
	_delete("PL Collection Case", "name", scope.cases)
	_delete("PL Loan", "name", scope.loans)
	if publish_progress:
		frappe.publish_progress(70, title=_("Removing the demo"), description=_("Post-loan data removed"))

	# audit trail, assignments and notifications of the deleted documents
	deleted_docs = {
		"PL Appraisal": scope.appraisals,
		"PL Feedback": scope.feedback,
		"PL Appeal": scope.appeals,
		"PL Review Cycle": scope.cycles,
		"PL Team": scope.teams,
		"PL Scheme Briefing": scope.briefings,
		"PL Payout Run": scope.payouts,
		"PL Incentive Plan": scope.plans,
	}
	for doctype, names in deleted_docs.items():
		for chunk in _chunks(names):
			frappe.db.delete("Version", {"ref_doctype": doctype, "docname": ("in", chunk)})
			frappe.db.delete("ToDo", {"reference_type": doctype, "reference_name": ("in", chunk)})
			frappe.db.delete("Comment", {"reference_doctype": doctype, "reference_name": ("in", chunk)})
			frappe.db.delete("Notification Log", {"document_type": doctype, "document_name": ("in", chunk)})
	_delete_teams(scope.teams)

	for chunk in _chunks(scope.users):
		frappe.db.delete("Notification Log", {"for_user": ("in", chunk)})
		contacts = frappe.get_all("Contact", {"user": ("in", chunk)}, pluck="name")
		contacts += frappe.get_all("Contact Email", {"email_id": ("in", chunk)}, pluck="parent")
		for contact in sorted(set(contacts)):
			frappe.delete_doc("Contact", contact, ignore_permissions=True, force=True)
	_delete("Employee", "name", scope.employees)
	for user in scope.users:
		_delete_user(user)
	company_removed = _delete_company()
	if publish_progress:
		frappe.publish_progress(100, title=_("Removing the demo"), description=_("Done"))
	return {"removed": removed, "company_removed": company_removed}


def _delete_user(user: str):
	"""Delete a demo user. Frappe refuses to delete any user on a site where no one but Administrator is
	System Manager (a fresh site without the setup wizard); there the user's own clean-up is done here
	and the document is deleted without its on_trash check."""
	frappe.db.savepoint("pl_demo_user")
	try:
		frappe.delete_doc("User", user, ignore_permissions=True, force=True)
		return
	except frappe.ValidationError:
		if frappe.db.get_value("Role", "System Manager", "disabled") or _other_system_managers(user):
			raise
		frappe.db.rollback(save_point="pl_demo_user")
		frappe.clear_messages()
	for doctype, column in (
		("ToDo", "allocated_to"),
		("DocShare", "user"),
		("User Permission", "user"),
		("Notification Log", "for_user"),
		("DefaultValue", "parent"),
	):
		frappe.db.delete(doctype, {column: user})
	if frappe.db.exists("Notification Settings", user):
		frappe.delete_doc("Notification Settings", user, ignore_permissions=True, force=True)
	frappe.delete_doc("User", user, ignore_permissions=True, force=True, ignore_on_trash=True)
	frappe.clear_cache(user=user)


def _other_system_managers(user: str) -> bool:
	managers = frappe.get_all(
		"Has Role",
		filters={
			"role": "System Manager",
			"parenttype": "User",
			"parent": ("not in", ("Administrator", user)),
		},
		pluck="parent",
	)
	return bool(managers and frappe.db.exists("User", {"name": ("in", managers), "enabled": 1}))


def _delete_teams(teams: list[str]):
	_delete("PL Team", "name", teams)
	if teams:
		from frappe.utils.nestedset import rebuild_tree

		rebuild_tree("PL Team")


def _delete_company() -> bool:
	"""Delete the demo company unless something else still links to it."""
	if not frappe.db.exists("Company", DEMO_COMPANY):
		return False
	frappe.db.savepoint("pl_demo_company")
	try:
		frappe.delete_doc("Company", DEMO_COMPANY, ignore_permissions=True)
	except (frappe.LinkExistsError, frappe.ValidationError):
		frappe.db.rollback(save_point="pl_demo_company")
		frappe.clear_messages()
		return False
	return True
