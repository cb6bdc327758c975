"""Row-level permissions for post-loan performance documents.

Role permissions (DocPerm) decide *what* a role may do with a DocType; the functions here decide
*which rows*. They are wired in hooks.py as `permission_query_conditions` (list views, reports,
`frappe.get_list`, REST list) and `has_permission` (single documents, REST by name), so both
paths apply the same rules:

- PL Performance Manager, System Manager and Administrator: every row.
- PL Executive: reads every appraisal and appeal (role permissions give read only).
- PL Team Leader: appraisals and appeals of the teams he leads and their sub-teams, except his own
  appraisal (that one belongs to the lead of the parent team).
- PL Appraisee: his own appraisal, only while it is in Self Review or once it is published; his
  own appeals; his own surveys.
- 360 feedback: a reviewer sees only the feedback he wrote; nobody but the scheme owner sees who
  rated whom, and the appraisee only sees aggregates on his appraisal.
- PL Data Import (the data loading wizard and its history): post-loan officers, the scheme owner (PL
  Performance Manager) and System Managers see every import; each changes only his own (a System
  Manager any); everybody else sees none. The same roles may load post-loan data files at all.
"""

import frappe

from postloan_performance.engine.names import PUBLISHED_STATES, SELF_REVIEW

MANAGER_ROLES = {"System Manager", "PL Performance Manager"}
EXECUTIVE_ROLE = "PL Executive"
TEAM_LEADER_ROLE = "PL Team Leader"
APPRAISEE_ROLE = "PL Appraisee"

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


def _user(user: str | None) -> str:
	return user or frappe.session.user


def roles_of(user: str | None = None) -> set[str]:
	return set(frappe.get_roles(_user(user)))


def is_manager(user: str | None = None) -> bool:
	user = _user(user)
	return user == "Administrator" or bool(roles_of(user) & MANAGER_ROLES)


def reads_all_results(user: str | None = None) -> bool:
	user = _user(user)
	return is_manager(user) or EXECUTIVE_ROLE in roles_of(user)


def sees_trial_results(user: str | None = None) -> bool:
	"""Whether the user reads results of trial cycles: all but a plain appraisee (a trial's results are
	never published to him) do; a team leader sees his teams' trial appraisals."""
	user = _user(user)
	return reads_all_results(user) or bool(led_teams(user))


def employee_of(user: str | None = None) -> str | None:
	"""The Employee linked to a user (Employee.user_id)."""
	return frappe.db.get_value("Employee", {"user_id": _user(user)}, "name")


def led_teams(user: str | None = None) -> list[str]:
	"""Teams whose team lead is the user's employee, with all their descendants (nested set)."""
	user = _user(user)
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


def _in_list(values) -> str:
	return ", ".join(frappe.db.escape(v) for v in values)


# ---------------------------------------------------------------- PL Appraisal
def appraisal_query(user: str | None = None, doctype: str | None = None) -> str:
	user = _user(user)
	if reads_all_results(user):
		return ""
	conditions = []
	teams = led_teams(user)
	if teams:
		conditions.append(
			f"(`tabPL Appraisal`.`pl_team` in ({_in_list(teams)})"
			f" and ifnull(`tabPL Appraisal`.`appraisee_user`, '') != {frappe.db.escape(user)})"
		)
	if APPRAISEE_ROLE in roles_of(user):
		from postloan_performance.privacy import asks_for_results

		# a list or count that names a result column sees only his published formal appraisals
		self_review = (
			"1=0" if asks_for_results() else f"`tabPL Appraisal`.`status` = {frappe.db.escape(SELF_REVIEW)}"
		)
		conditions.append(
			f"(`tabPL Appraisal`.`appraisee_user` = {frappe.db.escape(user)}"
			f" and ({self_review}"
			f" or (`tabPL Appraisal`.`status` in ({_in_list(PUBLISHED_STATES)})"
			" and `tabPL Appraisal`.`is_trial` = 0)))"
		)
	return "(" + " or ".join(conditions) + ")" if conditions else "1=0"


def appraisal_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	user = _user(user)
	if reads_all_results(user):
		return None  # role permissions decide (an executive has read only)
	if doc.get("appraisee_user") != user and doc.get("pl_team") in led_teams(user):
		return None
	if doc.get("appraisee_user") == user and APPRAISEE_ROLE in roles_of(user):
		if ptype in (None, "read", "print", "email", "export", "report"):
			return doc.get("status") == SELF_REVIEW or (
				doc.get("status") in PUBLISHED_STATES and not doc.get("is_trial")
			)
		if ptype in ("write", "submit"):
			# A workflow action sets the next state before it saves: judge by the stored state.
			stored = frappe.db.get_value("PL Appraisal", doc.name, "status") if doc.get("name") else None
			rule = APPRAISEE_WRITES.get(stored)
			if not rule or ptype not in rule["ptypes"]:
				return False
			return rule["next"] is None or doc.get("status") in rule["next"]
		return False
	return False


# ---------------------------------------------------------------- PL Feedback
def feedback_query(user: str | None = None, doctype: str | None = None) -> str:
	user = _user(user)
	if is_manager(user):
		return ""
	return f"(`tabPL Feedback`.`reviewer_user` = {frappe.db.escape(user)})"


def feedback_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	user = _user(user)
	if is_manager(user):
		return None
	if ptype == "create":
		return None  # PL Feedback.validate refuses feedback in someone else's name
	return doc.get("reviewer_user") == user


# ---------------------------------------------------------------- PL Appeal
def appeal_query(user: str | None = None, doctype: str | None = None) -> str:
	user = _user(user)
	if reads_all_results(user):
		return ""
	conditions = [f"`tabPL Appeal`.`appraisee_user` = {frappe.db.escape(user)}"]
	teams = led_teams(user)
	if teams:
		conditions.append(f"`tabPL Appeal`.`pl_team` in ({_in_list(teams)})")
	return "(" + " or ".join(conditions) + ")"


def appeal_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	user = _user(user)
	if reads_all_results(user):
		return None
	if doc.get("appraisee_user") == user:
		return None
	if doc.get("pl_team") in led_teams(user):
		return None
	if ptype == "create":
		return None  # PL Appeal.validate refuses an appeal on someone else's appraisal
	return False


# ---------------------------------------------------------------- PL Satisfaction Survey
def survey_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Survey answers are anonymous: each respondent sees only his own; reports aggregate."""
	user = _user(user)
	if user == "Administrator" or "System Manager" in roles_of(user):
		return ""
	return f"(`tabPL Satisfaction Survey`.`respondent_user` = {frappe.db.escape(user)})"


def survey_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	user = _user(user)
	if user == "Administrator" or "System Manager" in roles_of(user):
		return None
	if ptype == "create":
		return None  # PL Satisfaction Survey.validate refuses answers in someone else's name
	return doc.get("respondent_user") == user


# ---------------------------------------------------------------- PL Data Import
DATA_IMPORT_ROLES = ("PL Post-Loan Officer", "PL Performance Manager", "System Manager")
READ_PTYPES = (None, "read", "report", "export", "print", "email", "select")


def may_import_data(user: str | None = None) -> bool:
	"""Whether the user may load post-loan data files (wizard, API, history)."""
	user = _user(user)
	return user == "Administrator" or bool(roles_of(user) & set(DATA_IMPORT_ROLES))


def require_data_import(user: str | None = None) -> None:
	if not may_import_data(user):
		frappe.throw(
			frappe._("Only post-loan officers and the scheme owner may load post-loan data."),
			frappe.PermissionError,
		)


def data_import_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Row rule of PL Data Import lists: every import for those who may import, none for anybody else."""
	return "" if may_import_data(user) else "1=0"


def data_import_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	"""Row rule of a PL Data Import: read by those who may import; changed by its owner or a System
	Manager."""
	user = _user(user)
	if not may_import_data(user):
		return False
	if ptype in READ_PTYPES or ptype == "create":
		return None
	if user == "Administrator" or "System Manager" in roles_of(user) or doc.get("owner") in (None, user):
		return None
	return False


def require_roles(*roles: str) -> None:
	"""Refuse the session user unless he has one of `roles`.

	Unlike `frappe.only_for`, this also applies while `frappe.flags.in_test` is set, so the tests
	exercise the same check as production.
	"""
	if frappe.session.user != "Administrator" and not roles_of() & set(roles):
		frappe.throw(
			frappe._("You need one of these roles: {0}").format(", ".join(frappe._(r) for r in roles)),
			frappe.PermissionError,
		)


def has_app_permission() -> bool:
	return bool(
		roles_of()
		& (MANAGER_ROLES | {EXECUTIVE_ROLE, TEAM_LEADER_ROLE, APPRAISEE_ROLE, "PL Post-Loan Officer"})
	)
