"""Who may run and read a scheme what-if, over REST as real users (the committed world of world.py).

The scheme owner runs a what-if of "Collection - Default" over the world's cycle; an executive reads its
summary and the report's counts but not the per-person results; a team leader and an appraisee can do
none of it (the methods, the document, its list and the report all refuse them).
"""

import json
from urllib.parse import quote

import pytest

import frappe

from tests.integration.world import CYCLE

TEMPLATE = "PL KPI Template"
WHAT_IF = "PL Scheme What-If"
REPORT = "Scheme What-If Comparison"
SOURCE = "Collection - Default"


def doc_method(client, doctype: str, name: str, method: str, **args):
	return client.post(
		"/api/method/frappe.handler.run_doc_method",
		data={"dt": doctype, "dn": name, "method": method, "args": json.dumps(args)},
	)


def report(client, **filters):
	return client.post(
		"/api/method/frappe.desk.query_report.run",
		data={"report_name": REPORT, "filters": json.dumps(filters)},
	)


@pytest.fixture
def manager_run(world, rest):
	"""A what-if run over REST by the scheme owner (committed; deleted afterwards)."""
	before = set(frappe.get_all(WHAT_IF, pluck="name"))
	response = doc_method(rest(world.users.manager), TEMPLATE, SOURCE, "what_if", review_cycle=CYCLE)
	assert response.status_code == 200, response.get_data(as_text=True)
	name = response.json["message"]["name"]
	yield name
	for created in set(frappe.get_all(WHAT_IF, pluck="name")) - before:
		frappe.delete_doc(WHAT_IF, created, force=True, ignore_permissions=True)
	frappe.db.commit()


def test_team_leaders_and_appraisees_can_neither_run_nor_read(world, rest, manager_run):
	count = frappe.db.count(WHAT_IF)
	appraisals = frappe.db.count("PL Appraisal")
	for user in (world.users.lena, world.users.rui, world.users.ada):
		client = rest(user)
		response = doc_method(client, TEMPLATE, SOURCE, "what_if", review_cycle=CYCLE)
		assert response.status_code == 403, (user, response.get_data(as_text=True))
		response = doc_method(client, TEMPLATE, SOURCE, "apply_suggested_targets", review_cycle=CYCLE)
		assert response.status_code == 403, (user, response.get_data(as_text=True))
		assert doc_method(client, WHAT_IF, manager_run, "run_what_if").status_code == 403
		assert client.get(f"/api/resource/{quote(WHAT_IF)}/{quote(manager_run)}").status_code == 403
		assert client.get(f"/api/resource/{quote(WHAT_IF)}").status_code == 403
		response = report(client, what_if=manager_run, view="Grade Moves")
		assert response.status_code == 403, (user, response.get_data(as_text=True))
	assert frappe.db.count(WHAT_IF) == count
	assert frappe.db.count("PL Appraisal") == appraisals


def test_the_scheme_owner_reads_names_an_executive_only_the_summary(world, rest, manager_run):
	manager, executive = rest(world.users.manager), rest(world.users.executive)
	path = f"/api/resource/{quote(WHAT_IF)}/{quote(manager_run)}"
	owned = manager.get(path)
	assert owned.status_code == 200
	doc = owned.json["data"]
	assert doc["status"] == "Completed" and doc["subjects"] >= 2
	rows = json.loads(doc["results"]) if isinstance(doc["results"], str) else doc["results"]
	assert {r["employee"] for r in rows} >= {world.employees.ada, world.employees.bo}

	read = executive.get(path)
	assert read.status_code == 200
	assert read.json["data"]["subjects"] == doc["subjects"]
	assert not read.json["data"].get("results")  # the per-person rows are level 1: scheme owner only
	listed = executive.get(f"/api/resource/{quote(WHAT_IF)}?fields={quote(json.dumps(['name', 'results']))}")
	assert listed.status_code == 200
	assert all(not r.get("results") for r in listed.json["data"])
	assert doc_method(executive, WHAT_IF, manager_run, "run_what_if").status_code == 403
	assert doc_method(executive, TEMPLATE, SOURCE, "what_if", review_cycle=CYCLE).status_code == 403

	moves = report(executive, what_if=manager_run, view="Grade Moves")
	assert moves.status_code == 200, moves.get_data(as_text=True)
	columns = {c["fieldname"] for c in moves.json["message"]["columns"]}
	assert "employee" not in columns and "people" in columns
	moves = report(manager, what_if=manager_run, view="Distribution")
	assert moves.status_code == 200
	assert sum(r["people"] for r in moves.json["message"]["result"] if r.get("pl_team")) == doc["subjects"]
