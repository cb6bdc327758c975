"""Who sees which payout rows (wired in hooks.py for PL Payout Line and PL Payout Run).

- The scheme owner (PL Performance Manager), HR Manager, System Manager and Administrator: every run
  and line.
- An executive: every run (pool, team totals), no line.
- An appraisee: his own line once the run is confirmed; no run.
- A team leader: his teams' totals in the Payout Preview report; his teams' individual lines only when
  the plan lets team leaders see individual amounts, never other teams' lines; no run.

Team leaders and appraisees get no read permission on PL Payout Run at all: a run's Teams table holds
every team's total, and Frappe lets whoever reads a parent join, filter and count its child rows
(``get_list`` with child fields or child filters), so no row rule on the child could keep one team's
total from another team's leader. Their figures reach them through rules that can hold: their lines,
and the report, which filters rows itself. The people without a salary structure and the run's log
(they name people) are permlevel 1, for those who pay only.
"""

import frappe

from postloan_performance.services.access import (
	EXECUTIVE_ROLE,
	MANAGER_ROLES,
	READ_PTYPES,
	led_teams,
	roles_of,
)
from postloan_performance.services.access import current_user as _user
from postloan_performance.services.access import in_list as _in_list

PAYOUT_ADMIN_ROLES = {*MANAGER_ROLES, "HR Manager"}
PREPARE_ROLES = tuple(sorted(MANAGER_ROLES))
CONFIRM_ROLES = ("HR Manager", "System Manager")
READ_RUN_ROLES = (EXECUTIVE_ROLE,)


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
	return "1=0"


def payout_run_has_permission(doc, ptype: str | None = None, user: str | None = None) -> bool | None:
	user = _user(user)
	if sees_all_payouts(user):
		return None
	if ptype in READ_PTYPES and roles_of(user) & set(READ_RUN_ROLES):
		return None
	return False


def report_runs(user: str | None = None) -> list[str] | None:
	"""The runs whose figures Payout Preview shows ``user`` (None: every run he may read). A team leader's
	are the runs that pay his teams, an appraisee's those that hold his confirmed line; the report then
	shows him only his teams' totals and the lines he may read."""
	user = _user(user)
	if sees_all_payouts(user) or roles_of(user) & set(READ_RUN_ROLES):
		return None
	conditions = ["(`employee_user` = %(user)s and `confirmed` = 1)"]
	teams = led_teams(user)
	if teams:
		conditions.append(f"`pl_team` in ({_in_list(teams)})")
	return frappe.db.sql_list(
		f"select distinct `payout_run` from `tabPL Payout Line` where {' or '.join(conditions)}",  # nosemgrep
		{"user": user},
	)
