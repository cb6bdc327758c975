"""The demo's users (scheme owner, executive, officer, team leaders, appraisees) and its briefing."""

from __future__ import annotations

import datetime as dt

import pandas as pd

import frappe
from frappe import _
from frappe.utils import add_days

from postloan_performance.datagen import Dataset
from postloan_performance.engine.names import LAYERS
from postloan_performance.services.demo.plan import DEMO_COMPANY, TEAM_PREFIX, USER_DOMAIN


# ---------------------------------------------------------------- users and briefing
def _email(name: str) -> str:
	return f"{name.lower().replace(' ', '.')}@{USER_DOMAIN}"


def _make_user(email: str, first_name: str, last_name: str, roles: list[str], password: str) -> str:
	from frappe.utils.password import update_password

	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": first_name,
				"last_name": last_name,
				"send_welcome_email": 0,
				"user_type": "System User",
			}
		)
		user.flags.no_welcome_mail = True
		user.append_roles(*roles)
		user.insert(ignore_permissions=True)
		if "System Manager" not in roles:
			# Frappe makes the first System User of a site without any System Manager (but
			# Administrator) a System Manager; a demo user must have his demo roles only.
			frappe.db.delete("Has Role", {"parent": email, "parenttype": "User", "role": "System Manager"})
			frappe.clear_cache(user=email)
	else:
		# a user left from an earlier demo (e.g. the app was uninstalled, which removes its roles)
		user = frappe.get_doc("User", email)
		missing = [role for role in roles if role not in {r.role for r in user.roles}]
		if missing:
			user.flags.ignore_permissions = True
			user.add_roles(*missing)
	update_password(email, password)
	# the desk's company filters and new forms start on the demo company, not the site's default one
	frappe.defaults.set_user_default("company", DEMO_COMPANY, email)
	return email


def _make_users(ds: Dataset, employee_of: dict[str, str], password: str) -> frappe._dict:
	"""The scheme owner, an executive, a post-loan officer, five team leads and three staff."""
	people = frappe._dict(listing=[], leads={}, staff=[])
	for key, first, last, role in (
		("manager", "Lin", "Yue", "PL Performance Manager"),
		("executive", "Gao", "Jian", "PL Executive"),
		("officer", "Xu", "Ping", "PL Post-Loan Officer"),
	):
		email = _make_user(f"{key}@{USER_DOMAIN}", first, last, [role], password)
		people[key] = email
		people.listing.append({"user": email, "role": _(role), "employee": None})

	employees = ds.employees.set_index("key")
	teams = ds.teams.set_index("team_name")
	lead_teams = [TEAM_PREFIX + n for n in ("Head Office", "North Region")] + [
		f"{TEAM_PREFIX}{layer} 01" for layer in LAYERS[1:]
	]
	for team in lead_teams:
		key = teams.loc[team, "lead_key"]
		people.leads[team] = _link_user(
			key, employees, employee_of, ["PL Team Leader", "PL Appraisee"], password
		)
		people.listing.append(
			{"user": people.leads[team], "role": _("PL Team Leader"), "employee": employee_of[key]}
		)
	# staff who stay in their team the whole time (their lead is their manager in every cycle)
	movers = set(ds.memberships["employee_key"][ds.memberships["employee_key"].duplicated()])
	for layer in LAYERS[1:]:
		team = f"{TEAM_PREFIX}{layer} 01"
		candidates = ds.employees[
			(ds.employees["team"] == team) & ~ds.employees["is_lead"] & ~ds.employees["key"].isin(movers)
		]
		key = candidates["key"].iloc[0]
		user = _link_user(key, employees, employee_of, ["PL Appraisee"], password)
		people.staff.append(frappe._dict(key=key, user=user, team=team, employee=employee_of[key]))
		people.listing.append({"user": user, "role": _("PL Appraisee"), "employee": employee_of[key]})
	return people


def _link_user(key: str, employees: pd.DataFrame, employee_of: dict, roles: list[str], password: str) -> str:
	name = employees.loc[key, "first_name"]
	surname, given = name.split(" ", 1)
	user = _make_user(_email(name), surname, given, roles, password)
	frappe.db.set_value("Employee", employee_of[key], "user_id", user, update_modified=False)
	return user


def _make_briefing(ds: Dataset, employee_of: dict, people, before: dt.date):
	users = dict(frappe.get_all("Employee", {"company": DEMO_COMPANY}, ["name", "user_id"], as_list=True))
	head = ds.teams[ds.teams["parent_pl_team"].isna()]["lead_key"].iloc[0]
	day = add_days(before, -14)
	frappe.get_doc(
		{
			"doctype": "PL Scheme Briefing",
			"title": _("Post-loan performance scheme: launch briefing"),
			"company": DEMO_COMPANY,
			"briefing_type": "Training",
			"briefing_date": day,
			"scheme_version": "1.0",
			"presenter": employee_of[head],
			"content": _(
				"KPIs per layer, the trial run, 360 feedback, calibration, publication and how to appeal."
			),
			"attendees": [
				{
					"employee": employee_of[key],
					"employee_name": first,
					"user_id": users.get(employee_of[key]),
					"acknowledged": 1,
					"acknowledged_on": f"{add_days(day, 1)} 10:00:00",
				}
				for key, first in zip(ds.employees["key"], ds.employees["first_name"], strict=True)
			],
		}
	).insert(ignore_permissions=True)
