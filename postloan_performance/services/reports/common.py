"""Helpers shared by the report data functions."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import getdate

from postloan_performance.engine import frames
from postloan_performance.services.metric_frames import _dates_as_datetime


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


def period(filters: dict) -> tuple:
	"""The report's (from_date, to_date) as dates; both filters are required and must be in order."""
	require(filters, "from_date", "to_date")
	start, end = getdate(filters["from_date"]), getdate(filters["to_date"])
	if start > end:
		frappe.throw(_("From Date must be on or before To Date."), title=_("Invalid Filter"))
	return start, end


def team_and_descendants(teams) -> list[str]:
	"""The teams and all their sub-teams (nested set), in one query."""
	teams = [t for t in ([teams] if isinstance(teams, str) else teams or []) if t]
	if not teams:
		return []
	team = frappe.qb.DocType("PL Team")
	parent = frappe.qb.DocType("PL Team").as_("parent")
	return sorted(
		frappe.qb.from_(team)
		.join(parent)
		.on((team.lft >= parent.lft) & (team.rgt <= parent.rgt))
		.where(parent.name.isin(teams))
		.select(team.name)
		.distinct()
		.run(pluck=True)
	)


def employee_names(employees) -> dict[str, str]:
	"""Employee -> employee_name for the given employees, in one query."""
	employees = sorted({e for e in employees if e})
	if not employees:
		return {}
	return dict(
		frappe.get_all(
			"Employee",
			filters={"name": ("in", employees)},
			fields=["name", "employee_name"],
			as_list=True,
			limit_page_length=0,
		)
	)


def clean(value, digits: int | None = None):
	"""A frame value for a report row: NaN/NaT -> None, numpy scalars -> python, optionally rounded."""
	if value is None:
		return None
	try:
		if value != value:  # NaN, NaT
			return None
	except (TypeError, ValueError):
		pass
	if hasattr(value, "item"):
		value = value.item()
	if digits is not None and isinstance(value, float):
		return round(value, digits)
	return value


def chart_number(value, digits: int = 2) -> float:
	"""Charts need a number for every label: no data is drawn as 0."""
	value = clean(value, digits)
	return value if value is not None else 0


def line_chart(labels: list, datasets: list[dict], title: str | None = None) -> dict:
	chart = {"data": {"labels": labels, "datasets": datasets}, "type": "line"}
	if title:
		chart["title"] = title
	return chart


def get_cycle(name: str, fields: list[str]) -> frappe._dict:
	cycle = frappe.db.get_value("PL Review Cycle", name, ["name", *fields], as_dict=True)
	if not cycle:
		frappe.throw(
			_("Review cycle {0} does not exist.").format(frappe.bold(name)), title=_("Invalid Filter")
		)
	return cycle


EMPLOYEE_DOCTYPE = {"employee_doctype": "Employee"}


def employee_column(label: str, fieldname: str = "employee", width: int = 120) -> dict:
	"""An Employee column that links to the employee without Frappe's report-level Link filtering.

	`query_report.run` filters the rows by the user permissions of every Link column's DocType and
	refuses the whole report when the user may not read that DocType: the PL roles have no Employee
	permission, and ERPNext gives each employee a User Permission on his own Employee record. The rows
	of these reports are already restricted by permissions.py (and the PL DocTypes ignore Employee user
	permissions), so an employee column is a Dynamic Link: put EMPLOYEE_DOCTYPE into every row.
	"""
	return {
		"label": label,
		"fieldname": fieldname,
		"fieldtype": "Dynamic Link",
		"options": "employee_doctype",
		"width": width,
	}


def person_columns(label: str, name_label: str, fieldname: str) -> list[dict]:
	"""The employee column of a report row that is a person, and his name beside it (`<fieldname>_name`)."""
	return [
		employee_column(label, fieldname),
		{"label": name_label, "fieldname": f"{fieldname}_name", "fieldtype": "Data", "width": 170},
	]


def group_by_of(filters: dict, choices: tuple[str, ...]) -> tuple[str, str]:
	"""The report's Group By (the filter's value when it is one of `choices`, else the first) and the row
	field it groups on (its lower case)."""
	group_by = filters.get("group_by") if filters.get("group_by") in choices else choices[0]
	return group_by, group_by.lower()


def group_rows(table, by: str, person: str):
	"""(row, record) for each group of `table` (indexed by group) in order: the row has the group under
	`by`; grouped by `person` (an employee field), also his name and the employee link's DocType."""
	names = employee_names(table.index) if by == person else {}
	for key, record in table.sort_index().iterrows():
		row = {by: key}
		if by == person:
			row[f"{person}_name"] = names.get(key)
			row.update(EMPLOYEE_DOCTYPE)
		yield row, record


def iso_text(column: str) -> str:
	"""A date or datetime column selected as ISO text, parsed by pandas in one call
	(`metric_frames._dates_as_datetime`) instead of one Python date per value by the database driver."""
	return f"cast({column} as {'char' if frappe.db.db_type == 'mariadb' else 'text'})"


def dated_frame(rows, columns: list[str], dates: tuple[str, ...]):
	"""Query rows as a frame, the `dates` columns (selected with `iso_text`) parsed to datetimes."""
	return _dates_as_datetime(frames.from_rows(rows, columns), dates)


def appraisal_columns(fieldname: str, name_width: int, layer_width: int) -> list[dict]:
	"""The head of a row about an appraisal (its link under `fieldname`): the appraisee, his team and layer."""
	return [
		{
			"label": _("Appraisal"),
			"fieldname": fieldname,
			"fieldtype": "Link",
			"options": "PL Appraisal",
			"width": 140,
		},
		employee_column(_("Employee")),
		{"label": _("Employee Name"), "fieldname": "employee_name", "fieldtype": "Data", "width": name_width},
		{"label": _("Team"), "fieldname": "pl_team", "fieldtype": "Link", "options": "PL Team", "width": 150},
		{"label": _("Layer"), "fieldname": "layer", "fieldtype": "Data", "width": layer_width},
	]
