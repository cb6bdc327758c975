"""Helpers shared by the report data functions."""

from __future__ import annotations

import frappe
from frappe import _

from postloan_performance.permissions import led_teams, reads_all_results


def visible_employees(user: str | None = None) -> set[str] | None:
	"""Employees whose post-loan work a user may see in reports; None means everyone.

	The scheme owner and executives see everyone; a team leader sees the members of the teams he
	leads (and their sub-teams); anybody else sees only himself.
	"""
	user = user or frappe.session.user
	if reads_all_results(user) or "PL Post-Loan Officer" in frappe.get_roles(user):
		return None
	teams = led_teams(user)
	employees = set()
	if teams:
		employees |= set(
			frappe.get_all(
				"PL Team Member",
				filters={"parenttype": "PL Team", "parent": ("in", teams)},
				pluck="employee",
			)
		)
	own = frappe.db.get_value("Employee", {"user_id": user}, "name")
	if own:
		employees.add(own)
	return employees


def visible_teams(user: str | None = None) -> set[str] | None:
	"""Teams a user may see in team-level reports; None means all."""
	user = user or frappe.session.user
	if reads_all_results(user) or "PL Post-Loan Officer" in frappe.get_roles(user):
		return None
	return set(led_teams(user))


def percent(numerator: float, denominator: float) -> float | None:
	return numerator * 100.0 / denominator if denominator else None


def bar_chart(labels: list, datasets: list[dict], title: str | None = None, colors=None) -> dict:
	chart = {"data": {"labels": labels, "datasets": datasets}, "type": "bar"}
	if title:
		chart["title"] = title
	if colors:
		chart["colors"] = colors
	return chart


def summary_item(value, label: str, datatype: str = "Float", indicator: str = "Blue") -> dict:
	return {"value": value, "label": label, "datatype": datatype, "indicator": indicator}


def require(filters: dict, *names: str) -> None:
	for name in names:
		if not filters.get(name):
			frappe.throw(_("Set the filter {0}.").format(_(frappe.unscrub(name))), title=_("Missing Filter"))
