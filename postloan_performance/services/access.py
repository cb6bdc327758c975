"""Who the user is to the app: his roles, his employee, the teams he leads, the people and teams he may see,
and the checks whitelisted methods and services make. The one place for these rules: the permission hooks
(``permissions.py``), the services, the reports and the API all call them.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import getdate, nowdate

from postloan_performance.engine.names import PUBLISHED_STATES, SELF_REVIEW

MANAGER_ROLES = {"System Manager", "PL Performance Manager"}
EXECUTIVE_ROLE = "PL Executive"
TEAM_LEADER_ROLE = "PL Team Leader"
APPRAISEE_ROLE = "PL Appraisee"
OFFICER_ROLE = "PL Post-Loan Officer"
PL_ROLES = (
	*sorted(MANAGER_ROLES - {"System Manager"}),
	EXECUTIVE_ROLE,
	TEAM_LEADER_ROLE,
	APPRAISEE_ROLE,
	OFFICER_ROLE,
)

# The appraisee reads his own appraisal while he writes his self-assessment and once it is
# published; a trial cycle's results are never published to him.
# What the appraisee may do, by the state the appraisal is in (in the database): in Self Review,
# write his self-assessment and send it on (any next state the workflow allows him); once
# published, only acknowledge or appeal it. Saving a submitted document needs "submit" in Frappe.
APPRAISEE_WRITES = {
	SELF_REVIEW: {"ptypes": ("write",), "next": None},
	"Published": {"ptypes": ("write", "submit"), "next": PUBLISHED_STATES},
	# appealing needs an open PL Appeal (PL Appraisal.before_update_after_submit checks it)
	"Acknowledged": {"ptypes": ("write", "submit"), "next": ("Appealed",)},
}


def current_user(user: str | None) -> str:
	return user or frappe.session.user


def roles_of(user: str | None = None) -> set[str]:
	return set(frappe.get_roles(current_user(user)))


def is_manager(user: str | None = None) -> bool:
	user = current_user(user)
	return user == "Administrator" or bool(roles_of(user) & MANAGER_ROLES)


def reads_all_results(user: str | None = None) -> bool:
	user = current_user(user)
	return is_manager(user) or EXECUTIVE_ROLE in roles_of(user)


def sees_trial_results(user: str | None = None) -> bool:
	"""Whether the user reads results of trial cycles: all but a plain appraisee (a trial's results are
	never published to him) do; a team leader sees his teams' trial appraisals."""
	user = current_user(user)
	return reads_all_results(user) or bool(led_teams(user))


def employee_of(user: str | None = None) -> str | None:
	"""The Employee linked to a user (Employee.user_id)."""
	return frappe.db.get_value("Employee", {"user_id": current_user(user)}, "name")


def led_teams(user: str | None = None) -> list[str]:
	"""Teams whose team lead is the user's employee, with all their descendants (nested set)."""
	user = current_user(user)
	if TEAM_LEADER_ROLE not in roles_of(user):
		return []
	employee = employee_of(user)
	if not employee:
		return []
	team = frappe.qb.DocType("PL Team")
	parent = frappe.qb.DocType("PL Team").as_("parent")
	rows = (
		frappe.qb.from_(team)
		.join(parent)
		.on((team.lft >= parent.lft) & (team.rgt <= parent.rgt))
		.where(parent.team_lead == employee)
		.select(team.name)
		.distinct()
	).run(pluck=True)
	return sorted(rows)


def in_list(values) -> str:
	return ", ".join(frappe.db.escape(v) for v in values)


DATA_IMPORT_ROLES = ("PL Post-Loan Officer", "PL Performance Manager", "System Manager")
READ_PTYPES = (None, "read", "report", "export", "print", "email", "select")


def may_import_data(user: str | None = None) -> bool:
	"""Whether the user may load post-loan data files (wizard, API, history)."""
	user = current_user(user)
	return user == "Administrator" or bool(roles_of(user) & set(DATA_IMPORT_ROLES))


def require_data_import(user: str | None = None) -> None:
	if not may_import_data(user):
		frappe.throw(
			_("Only post-loan officers and the scheme owner may load post-loan data."),
			frappe.PermissionError,
		)


def require_roles(*roles: str, message: str | None = None) -> None:
	"""Refuse the session user unless he is Administrator or has one of ``roles``.

	Unlike ``frappe.only_for``, this also applies while ``frappe.flags.in_test`` is set, so the tests
	exercise the same check as production.
	"""
	if frappe.session.user != "Administrator" and not roles_of() & set(roles):
		frappe.throw(
			message or _("You need one of these roles: {0}").format(", ".join(_(r) for r in roles)),
			frappe.PermissionError,
		)


def has_pl_role(user: str | None = None) -> bool:
	"""Whether the user holds a role of the app (or is a System Manager)."""
	return bool(roles_of(user) & (set(PL_ROLES) | {"System Manager"}))


def require_pl_role() -> None:
	if not has_pl_role():
		frappe.throw(
			_("Only users with a post-loan performance role can see these figures."), frappe.PermissionError
		)


def employee_details(employees, fields: tuple[str, ...] = ("employee_name", "user_id")) -> dict[str, dict]:
	"""Employee name -> the given fields, in one query and whatever the session user may read. Forms copy
	names and users from Employee on the server, not by a fetch in the browser: the scheme owner may
	select employees but not read them, and a fetch would stop his form with "You need Read permission"."""
	names = sorted({e for e in employees if e})
	if not names:
		return {}
	rows = frappe.get_all("Employee", filters={"name": ("in", names)}, fields=["name", *fields])
	return {row.pop("name"): row for row in rows}


# ---------------------------------------------------------------- people and teams in view
def team_members_on(teams: list[str], start, end) -> list[dict]:
	"""Members of ``teams`` whose membership overlaps [start, end], one row per membership: the one
	definition of "member of a team on a date"."""
	if not teams:
		return []
	member = frappe.qb.DocType("PL Team Member")
	return (
		frappe.qb.from_(member)
		.select(member.parent.as_("team"), member.employee, member.from_date, member.to_date)
		.where(
			(member.parenttype == "PL Team")
			& member.parent.isin(teams)
			& (member.from_date <= end)
			& (member.to_date.isnull() | (member.to_date >= start))
		)
		.orderby(member.parent)
		.orderby(member.employee)
	).run(as_dict=True)


def visible_employees(user: str | None = None, start=None, end=None) -> set[str] | None:
	"""Employees whose post-loan work a user may see in reports over [start, end] (default: today);
	None means everyone.

	The scheme owner, executives and post-loan officers see everyone; a team leader sees the people who
	were members of the teams he leads (and their sub-teams) at some time in the period, by their
	membership dates, so somebody who left before the period or joins after it is not in view; anybody
	else sees only himself.
	"""
	user = current_user(user)
	if reads_all_results(user) or OFFICER_ROLE in roles_of(user):
		return None
	start = getdate(start or nowdate())
	end = getdate(end or start)
	employees = {m.employee for m in team_members_on(led_teams(user), start, end)}
	own = employee_of(user)
	if own:
		employees.add(own)
	return employees


def visible_teams(user: str | None = None) -> set[str] | None:
	"""Teams a user may see in team-level reports; None means all."""
	user = current_user(user)
	if reads_all_results(user) or OFFICER_ROLE in roles_of(user):
		return None
	return set(led_teams(user))
