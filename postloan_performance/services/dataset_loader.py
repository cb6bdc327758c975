"""Write a generated dataset (postloan_performance.datagen) into the site.

Employees, teams and post-loan rows are written in bulk with deterministic names, so loading the
same dataset twice changes nothing. Used by the integration tests, the demo and the benchmark.
"""

from __future__ import annotations

import pandas as pd

import frappe
from frappe.utils import now_datetime

from postloan_performance.datagen.schema import COLUMNS, FRAME_DOCTYPES
from postloan_performance.engine import frames
from postloan_performance.engine.row_rules import SPECS
from postloan_performance.services import portfolio_months
from postloan_performance.services.bulk import insert_many

# dataset frame -> (DocType, columns written besides `name`): the importer's columns of the DocType that
# the generated frame holds (and the loans' company, set when loading), in the importer's order
POST_LOAN_FRAMES = {
	frame: (doctype, [c for c in SPECS[doctype].columns if c in COLUMNS[frame] or c == "company"])
	for frame, doctype in FRAME_DOCTYPES.items()
}
EMPLOYEE_COLUMNS = {
	"cases": ("collector",),
	"actions": ("collector",),
	"recoveries": ("collector",),
	"alerts": ("officer",),
	"events": ("handler",),
	"assessments": ("author", "reviewer"),
	"tickets": ("agent",),
	"customer_feedback": ("employee",),
}


def ensure_company(company: str, abbr: str) -> str:
	if frappe.db.exists("Company", company):
		return company
	if not frappe.db.exists("Warehouse Type", "Transit"):
		frappe.get_doc({"doctype": "Warehouse Type", "name": "Transit"}).insert(ignore_permissions=True)
	frappe.get_doc(
		{
			"doctype": "Company",
			"company_name": company,
			"abbr": abbr,
			"default_currency": "CNY",
			"country": "China",
			"create_chart_of_accounts_based_on": "Standard Template",
			"chart_of_accounts": "Standard",
		}
	).insert(ignore_permissions=True)
	return company


def load_employees(employees: pd.DataFrame, company: str) -> dict[str, str]:
	"""Create missing employees in bulk; return employee key -> Employee name."""
	existing = dict(
		frappe.get_all(
			"Employee",
			filters={"company": company, "first_name": ("in", list(employees["first_name"]))},
			fields=["first_name", "name"],
			as_list=True,
		)
	)
	todo = employees[~employees["first_name"].isin(existing)]
	if len(todo):
		if not frappe.db.exists("Gender", "Female"):
			frappe.get_doc({"doctype": "Gender", "gender": "Female"}).insert(ignore_permissions=True)
		from postloan_performance.services.cycle import reserve_names

		names = reserve_names("HR-EMP-", len(todo))
		now, user = now_datetime(), frappe.session.user
		# each new employee is a root of the Employee tree (no reports_to): numbered after the last one,
		# as Frappe's nested set numbers a parentless node it inserts (rebuilding the tree instead reads
		# every employee's children one query at a time: minutes at 20,000 employees)
		last = int(frappe.db.sql("select coalesce(max(rgt), 0) from `tabEmployee`")[0][0])
		fields = [
			"name",
			"employee",
			"naming_series",
			"first_name",
			"employee_name",
			"company",
			"status",
			"gender",
			"date_of_birth",
			"date_of_joining",
			"creation",
			"modified",
			"owner",
			"modified_by",
			"docstatus",
			"lft",
			"rgt",
		]
		rows = [
			[
				name,
				name,
				"HR-EMP-",
				first,
				first,
				company,
				"Active",
				"Female",
				"1990-01-01",
				"2020-01-01",
				now,
				now,
				user,
				user,
				0,
				last + 2 * index + 1,
				last + 2 * index + 2,
			]
			for index, (name, first) in enumerate(zip(names, todo["first_name"], strict=True))
		]
		insert_many("Employee", fields, rows)
		existing.update(dict(zip(todo["first_name"], names, strict=True)))
	return {
		key: existing[first] for key, first in zip(employees["key"], employees["first_name"], strict=True)
	}


def load_teams(ds, company: str, employee_of: dict[str, str]) -> None:
	"""Create the team tree (parents first) with memberships; existing teams are left alone."""
	members = ds.memberships.copy()
	remaining = frames.records(ds.teams)
	created = set(
		frappe.get_all("PL Team", filters={"name": ("in", [t["team_name"] for t in remaining])}, pluck="name")
	)
	while remaining:
		progressed = False
		for team in list(remaining):
			parent = team.get("parent_pl_team") or None
			if parent and parent not in created:
				continue
			remaining.remove(team)
			progressed = True
			if team["team_name"] in created:
				continue
			rows = members[members["team"] == team["team_name"]]
			frappe.get_doc(
				{
					"doctype": "PL Team",
					"team_name": team["team_name"],
					"layer": team["layer"],
					"company": company,
					"parent_pl_team": parent,
					"is_group": int(team.get("is_group") or 0),
					"team_lead": employee_of.get(team.get("lead_key")) if team.get("lead_key") else None,
					"members": [
						{
							"employee": employee_of[r["employee_key"]],
							"from_date": r["from_date"],
							"to_date": r["to_date"],
						}
						for r in frames.records(rows)
					],
				}
			).insert(ignore_permissions=True)
			created.add(team["team_name"])
		if not progressed:
			raise ValueError("team tree has a cycle or a missing parent")


def load_post_loan(ds, company: str, employee_of: dict[str, str], chunk_size: int = 10_000) -> dict[str, int]:
	"""Bulk insert every post-loan frame; rows whose name exists are skipped (INSERT IGNORE)."""
	now, user = now_datetime(), frappe.session.user
	counts = {}
	for frame_name, (doctype, columns) in POST_LOAN_FRAMES.items():
		frame = getattr(ds, frame_name).copy()
		if frame_name == "loans":
			frame["company"] = company
		for column in EMPLOYEE_COLUMNS.get(frame_name, ()):
			frame[column] = frame[column].map(
				lambda key: employee_of.get(key) if isinstance(key, str) else None
			)
		if "name" not in frame.columns:
			frame["name"] = frame["reference"]
		columns = [c for c in columns if c in frame.columns]
		fields = ["name", *columns, "creation", "modified", "owner", "modified_by", "docstatus"]
		values = (
			(*row, now, now, user, user, 0)
			for row in frame[["name", *columns]].itertuples(index=False, name=None)
		)
		insert_many(doctype, fields, values, ignore_duplicates=True, chunk_size=chunk_size)
		counts[doctype] = len(frame)
	# loans, snapshots, cases and recoveries: the Portfolio Quality Trend summary is rebuilt when read
	portfolio_months.invalidate_all()
	return counts


def load_dataset(ds, company: str = "_Test PL Company", abbr: str = "_TPL") -> dict:
	"""Load a generated dataset; returns the employee key -> Employee name map and row counts."""
	ensure_company(company, abbr)
	employee_of = load_employees(ds.employees, company)
	load_teams(ds, company, employee_of)
	counts = load_post_loan(ds, company, employee_of)
	return {"employees": employee_of, "counts": counts}
