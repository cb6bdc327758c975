"""Idempotent makers for integration tests: each returns the existing record when it is already there.

Names start with "_Test PL" / end in "@plp.test" so that they never collide with real data.
"""

import frappe
from frappe.utils import add_days, getdate
from frappe.utils.password import update_password

COMPANY = "_Test PL Company"
ABBR = "_TPL"
OTHER_COMPANY = "_Test PL Other Company"
PASSWORD = "Plp-Test-Pass-2026!"


def make_company(name: str = COMPANY, abbr: str = ABBR) -> str:
	if frappe.db.exists("Company", name):
		return name
	# A site whose setup wizard never ran lacks the fixtures a company's defaults link to.
	if not frappe.db.exists("Warehouse Type", "Transit"):
		frappe.get_doc({"doctype": "Warehouse Type", "name": "Transit"}).insert(ignore_permissions=True)
	frappe.get_doc(
		{
			"doctype": "Company",
			"company_name": name,
			"abbr": abbr,
			"default_currency": "CNY",
			"country": "China",
			"create_chart_of_accounts_based_on": "Standard Template",
			"chart_of_accounts": "Standard",
		}
	).insert(ignore_permissions=True)
	return name


def make_gender(name: str = "Female") -> str:
	if not frappe.db.exists("Gender", name):
		frappe.get_doc({"doctype": "Gender", "gender": name}).insert(ignore_permissions=True)
	return name


def make_user(email: str, roles: list[str] | tuple[str, ...] = (), first_name: str | None = None) -> str:
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": first_name or email.split("@")[0],
				"send_welcome_email": 0,
				"user_type": "System User",
			}
		)
		user.flags.no_welcome_mail = True
		user.insert(ignore_permissions=True)
	user = frappe.get_doc("User", email)
	missing = [r for r in roles if r not in {d.role for d in user.roles}]
	if missing:
		user.add_roles(*missing)
	update_password(email, PASSWORD)
	return email


def make_employee(first_name: str, company: str = COMPANY, user: str | None = None) -> str:
	existing = frappe.db.get_value("Employee", {"first_name": first_name, "company": company}, "name")
	if existing:
		if user and frappe.db.get_value("Employee", existing, "user_id") != user:
			frappe.db.set_value("Employee", existing, "user_id", user)
		return existing
	doc = frappe.get_doc(
		{
			"doctype": "Employee",
			"first_name": first_name,
			"company": company,
			"status": "Active",
			"gender": make_gender(),
			"date_of_birth": "1990-01-01",
			"date_of_joining": "2020-01-01",
			"user_id": user,
		}
	).insert(ignore_permissions=True)
	return doc.name


def make_team(
	team_name: str,
	layer: str,
	members: list[tuple[str, str, str | None]] = (),
	team_lead: str | None = None,
	parent: str | None = None,
	company: str = COMPANY,
	is_group: int = 0,
) -> str:
	"""members: (employee, from_date, to_date)."""
	if frappe.db.exists("PL Team", team_name):
		return team_name
	frappe.get_doc(
		{
			"doctype": "PL Team",
			"team_name": team_name,
			"layer": layer,
			"company": company,
			"team_lead": team_lead,
			"parent_pl_team": parent,
			"is_group": is_group,
			"members": [{"employee": e, "from_date": f, "to_date": t} for e, f, t in members],
		}
	).insert(ignore_permissions=True)
	return team_name


def make_cycle(
	cycle_name: str,
	teams: list[str],
	period_start: str = "2026-01-01",
	period_end: str = "2026-03-31",
	company: str = COMPANY,
	is_trial: int = 0,
	layers: tuple[str, ...] = ("Management", "Collection", "Risk Control", "Customer Service"),
) -> str:
	if frappe.db.exists("PL Review Cycle", cycle_name):
		return cycle_name
	frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": cycle_name,
			"company": company,
			"is_trial": is_trial,
			"period_start": period_start,
			"period_end": period_end,
			"baseline_start": add_days(getdate(period_start), -90),
			"baseline_end": add_days(getdate(period_start), -1),
			"templates": [{"layer": layer, "template": f"{layer} - Default"} for layer in layers],
			"teams": [{"pl_team": t} for t in teams],
		}
	).insert(ignore_permissions=True)
	return cycle_name


def make_appraisal(employee: str, team: str, cycle: str, template: str | None = None, **values) -> str:
	existing = frappe.db.get_value(
		"PL Appraisal", {"employee": employee, "review_cycle": cycle, "docstatus": ("<", 2)}, "name"
	)
	if existing:
		return existing
	layer = frappe.db.get_value("PL Team", team, "layer")
	doc = frappe.get_doc(
		{
			"doctype": "PL Appraisal",
			"employee": employee,
			"pl_team": team,
			"review_cycle": cycle,
			"template": template or f"{layer} - Default",
			**values,
		}
	).insert(ignore_permissions=True)
	return doc.name
