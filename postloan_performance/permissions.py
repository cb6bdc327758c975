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
from postloan_performance.services.access import (
	APPRAISEE_ROLE,
	APPRAISEE_WRITES,
	READ_PTYPES,
	current_user,
	has_pl_role,
	in_list,
	is_manager,
	led_teams,
	may_import_data,
	reads_all_results,
	roles_of,
)


# ---------------------------------------------------------------- PL Appraisal
def appraisal_query(user: str | None = None, doctype: str | None = None) -> str:
	user = current_user(user)
	if reads_all_results(user):
		return ""
	conditions = []
	teams = led_teams(user)
	if teams:
		conditions.append(
			f"(`tabPL Appraisal`.`pl_team` in ({in_list(teams)})"
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
			f" or (`tabPL Appraisal`.`status` in ({in_list(PUBLISHED_STATES)})"
			" and `tabPL Appraisal`.`is_trial` = 0)))"
		)
	return "(" + " or ".join(conditions) + ")" if conditions else "1=0"


def appraisal_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	user = current_user(user)
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
	user = current_user(user)
	if is_manager(user):
		return ""
	return f"(`tabPL Feedback`.`reviewer_user` = {frappe.db.escape(user)})"


def feedback_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	user = current_user(user)
	if is_manager(user):
		return None
	if ptype == "create":
		return None  # PL Feedback.validate refuses feedback in someone else's name
	return doc.get("reviewer_user") == user


# ---------------------------------------------------------------- PL Appeal
def appeal_query(user: str | None = None, doctype: str | None = None) -> str:
	user = current_user(user)
	if reads_all_results(user):
		return ""
	conditions = [f"`tabPL Appeal`.`appraisee_user` = {frappe.db.escape(user)}"]
	teams = led_teams(user)
	if teams:
		conditions.append(f"`tabPL Appeal`.`pl_team` in ({in_list(teams)})")
	return "(" + " or ".join(conditions) + ")"


def appeal_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	user = current_user(user)
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
	user = current_user(user)
	if user == "Administrator" or "System Manager" in roles_of(user):
		return ""
	return f"(`tabPL Satisfaction Survey`.`respondent_user` = {frappe.db.escape(user)})"


def survey_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	user = current_user(user)
	if user == "Administrator" or "System Manager" in roles_of(user):
		return None
	if ptype == "create":
		return None  # PL Satisfaction Survey.validate refuses answers in someone else's name
	return doc.get("respondent_user") == user


# ---------------------------------------------------------------- PL Data Import
def data_import_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Row rule of PL Data Import lists: every import for those who may import, none for anybody else."""
	return "" if may_import_data(user) else "1=0"


def data_import_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	"""Row rule of a PL Data Import: read by those who may import; changed by its owner or a System
	Manager."""
	user = current_user(user)
	if not may_import_data(user):
		return False
	if ptype in READ_PTYPES or ptype == "create":
		return None
	if user == "Administrator" or "System Manager" in roles_of(user) or doc.get("owner") in (None, user):
		return None
	return False


def has_app_permission() -> bool:
	return has_pl_role()
