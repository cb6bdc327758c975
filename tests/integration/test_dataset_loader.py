"""services.dataset_loader.load_employees: many employees in a few statements, a valid Employee tree."""

import pandas as pd
import pytest

frappe = pytest.importorskip("frappe")

from postloan_performance.services.dataset_loader import load_employees


def _employees(count: int) -> pd.DataFrame:
	return pd.DataFrame(
		{
			"key": [f"K{i:04d}" for i in range(count)],
			"first_name": [f"_Test DL Person {i:04d}" for i in range(count)],
		}
	)


def test_employees_load_set_wise_as_roots_of_the_tree(monkeypatch):
	company = frappe.get_all("Company", pluck="name", limit=1)[0]
	before = int(frappe.db.sql("select coalesce(max(rgt), 0) from `tabEmployee`")[0][0])
	statements = []
	original = frappe.db.sql

	def counted(query, *args, **kwargs):
		statements.append(str(query)[:60])
		return original(query, *args, **kwargs)

	monkeypatch.setattr(frappe.db, "sql", counted)
	mapping = load_employees(_employees(300), company)
	monkeypatch.setattr(frappe.db, "sql", original)

	# a fixed number of statements, not one per employee (rebuilding the tree read each one's children)
	assert len(statements) < 100, statements[:40]  # metadata reads included
	assert len(mapping) == 300 and len(set(mapping.values())) == 300
	rows = frappe.db.sql(
		"select name, lft, rgt, ifnull(reports_to, '') from `tabEmployee` where name in %s",
		(list(mapping.values()),),
	)
	assert all(reports_to == "" and rgt == lft + 1 and lft > before for _n, lft, rgt, reports_to in rows)
	bounds = frappe.db.sql("select lft, rgt from `tabEmployee`")
	flat = [b for pair in bounds for b in pair]
	assert len(flat) == len(set(flat))  # no two employees share a bound: a valid nested set

	# Frappe's own nested set goes on from there: a new employee reporting to a loaded one nests inside it
	manager = mapping["K0000"]
	child = frappe.get_doc(
		{
			"doctype": "Employee",
			"first_name": "_Test DL Reports",
			"company": company,
			"gender": "Female",
			"date_of_birth": "1990-01-01",
			"date_of_joining": "2020-01-01",
			"reports_to": manager,
		}
	).insert(ignore_permissions=True)
	parent = frappe.db.get_value("Employee", manager, ["lft", "rgt"])
	inside = frappe.db.get_value("Employee", child.name, ["lft", "rgt"])
	assert parent[0] < inside[0] < inside[1] < parent[1]

	# loading the same staff again creates nobody
	assert load_employees(_employees(300), company) == mapping
