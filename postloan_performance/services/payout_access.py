"""Who sees which payout rows (wired in hooks.py for PL Payout Line and PL Payout Run).

- The scheme owner (PL Performance Manager), HR Manager, System Manager and Administrator: every row.
- An appraisee: his own line once the run is confirmed, and the runs that hold it.
- A team leader: the runs that pay his teams (their team totals); his teams' individual lines only when
  the plan lets team leaders see individual amounts, never other teams' lines.
- Everybody else (an executive included): the runs' totals through role permissions, no lines.

A run's Teams rows (PL Payout Team) follow the same rule: every row for those who see all payouts and
for executives, the rows of his own teams for a team leader, none for anybody else; the list of people
without a salary structure and the run's log (they name people) only for those who see all payouts.
Filtered on the document (PLPayoutRun.apply_fieldlevel_read_permissions: REST and desk reads) and on
the child table's own list (/api/resource/PL Payout Team?parent=PL Payout Run).
"""

import frappe

from postloan_performance.permissions import READ_PTYPES, _in_list, _user, led_teams, roles_of

PAYOUT_ADMIN_ROLES = {"System Manager", "PL Performance Manager", "HR Manager"}
PREPARE_ROLES = ("PL Performance Manager", "System Manager")
CONFIRM_ROLES = ("HR Manager", "System Manager")
READ_RUN_ROLES = ("PL Executive",)


def sees_all_payouts(user: str | None = None) -> bool:
	user = _user(user)
	return user == "Administrator" or bool(roles_of(user) & PAYOUT_ADMIN_ROLES)


def payout_line_query(user: str | None = None, doctype: str | None = None) -> str:
	user = _user(user)
	if sees_all_payouts(user):
		return ""
	line = "`tabPL Payout Line`"
	conditions = [f"({line}.`employee_user` = {frappe.db.escape(user)} and {line}.`confirmed` = 1)"]
	teams = led_teams(user)
	if teams:
		conditions.append(f"({line}.`pl_team` in ({_in_list(teams)}) and {line}.`leader_visible` = 1)")
	return "(" + " or ".join(conditions) + ")"


def payout_line_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	user = _user(user)
	if sees_all_payouts(user):
		return None
	if ptype not in READ_PTYPES:
		return False
	if doc.get("employee_user") == user and doc.get("confirmed"):
		return None
	if doc.get("leader_visible") and doc.get("pl_team") in led_teams(user):
		return None
	return False


def payout_run_query(user: str | None = None, doctype: str | None = None) -> str:
	user = _user(user)
	if sees_all_payouts(user) or roles_of(user) & set(READ_RUN_ROLES):
		return ""
	lines = "select `payout_run` from `tabPL Payout Line` where "
	conditions = [
		f"`tabPL Payout Run`.`name` in ({lines}`employee_user` = {frappe.db.escape(user)} and `confirmed` = 1)"
	]
	teams = led_teams(user)
	if teams:
		conditions.append(f"`tabPL Payout Run`.`name` in ({lines}`pl_team` in ({_in_list(teams)}))")
	return "(" + " or ".join(conditions) + ")"


def payout_run_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	user = _user(user)
	if sees_all_payouts(user):
		return None
	if ptype not in READ_PTYPES:
		return False
	if roles_of(user) & set(READ_RUN_ROLES):
		return None
	if not doc.get("name"):
		return False
	if frappe.db.exists("PL Payout Line", {"payout_run": doc.name, "employee_user": user, "confirmed": 1}):
		return None
	teams = led_teams(user)
	if teams and frappe.db.exists("PL Payout Line", {"payout_run": doc.name, "pl_team": ("in", teams)}):
		return None
	return False


def visible_payout_teams(user: str | None = None) -> list[str] | None:
	"""The PL Teams whose row of a run's Teams table `user` may read; None: every team."""
	user = _user(user)
	if sees_all_payouts(user) or roles_of(user) & set(READ_RUN_ROLES):
		return None
	return led_teams(user)


def payout_team_query(user: str | None = None, doctype: str | None = None) -> str:
	teams = visible_payout_teams(user)
	if teams is None:
		return ""
	if not teams:
		return "1=0"
	return f"`tabPL Payout Team`.`pl_team` in ({_in_list(teams)})"
