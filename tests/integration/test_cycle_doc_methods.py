"""The review cycle's steps are methods of the PL Review Cycle document (called by the desk through
run_doc_method): performance managers may run them, other roles are refused and nothing changes."""

import pytest

import frappe

from tests.integration.factories import (
	PASSWORD,
	make_company,
	make_cycle,
	make_employee,
	make_team,
	make_user,
)

CYCLE_NAME = "_Test PL Doc Method Cycle"
USERS = {
	"doc-manager@plp.test": ["PL Performance Manager"],
	"doc-lead@plp.test": ["PL Team Leader"],
	"doc-exec@plp.test": ["PL Executive"],
	"doc-staff@plp.test": ["PL Appraisee"],
}


def _cleanup(cycle: str | None):
	frappe.set_user("Administrator")
	if cycle and frappe.db.exists("PL Review Cycle", cycle):
		for appraisal in frappe.get_all("PL Appraisal", {"review_cycle": cycle}, pluck="name"):
			frappe.db.delete("PL Appraisal KPI", {"parent": appraisal})
			frappe.db.delete("PL Appraisal", {"name": appraisal})
		frappe.db.delete("Notification Log", {"document_type": "PL Review Cycle", "document_name": cycle})
		frappe.delete_doc("PL Review Cycle", cycle, force=True, ignore_permissions=True)
	frappe.db.commit()


@pytest.fixture
def committed_cycle():
	"""A Draft cycle and the users, committed (a REST request reads committed data only)."""
	make_company()
	for user, roles in USERS.items():
		make_user(user, roles)
	team = make_team(
		"_Test PL Doc Method Team",
		"Collection",
		members=[(make_employee("_Test PL Doc Method A"), "2025-01-01", None)],
	)
	_cleanup(frappe.db.get_value("PL Review Cycle", {"cycle_name": CYCLE_NAME}, "name"))
	cycle = make_cycle(CYCLE_NAME, [team], layers=("Collection",))
	frappe.db.commit()
	yield cycle
	_cleanup(cycle)


def _run(user: str, cycle: str, method: str, http: str = "post"):
	from tests.integration.conftest import RestClient

	client = RestClient(user, PASSWORD)
	data = {"dt": "PL Review Cycle", "dn": cycle, "method": method}
	if http == "get":
		return client.get("/api/method/frappe.handler.run_doc_method", query_string=data)
	return client.post("/api/method/frappe.handler.run_doc_method", data=data)


def _status(cycle: str) -> str:
	return frappe.db.get_value("PL Review Cycle", cycle, "status")


def test_cycle_steps_through_the_document_methods(committed_cycle):
	cycle = committed_cycle
	for user in ("doc-lead@plp.test", "doc-exec@plp.test", "doc-staff@plp.test"):
		response = _run(user, cycle, "open_cycle")
		assert response.status_code == 403, (user, response.get_data(as_text=True)[:300])
		assert _status(cycle) == "Draft"
	# a step changes data: not through GET
	assert _run("doc-manager@plp.test", cycle, "open_cycle", http="get").status_code != 200
	assert _status(cycle) == "Draft"

	response = _run("doc-manager@plp.test", cycle, "open_cycle")
	assert response.status_code == 200, response.get_data(as_text=True)[:300]
	assert response.json["message"]["status"] == "Open"
	assert _status(cycle) == "Open"
	# out of order: refused by the service, status unchanged
	assert _run("doc-manager@plp.test", cycle, "start_calibration").status_code != 200
	assert _status(cycle) == "Open"
	response = _run("doc-manager@plp.test", cycle, "create_appraisals")
	assert response.status_code == 200, response.get_data(as_text=True)[:300]
	assert response.json["message"]["created"] == 1
	for method, status in (("start_self_review", None), ("compute_kpis", None), ("start_scoring", "Scoring")):
		response = _run("doc-manager@plp.test", cycle, method)
		assert response.status_code == 200, (method, response.get_data(as_text=True)[:300])
		if status:
			assert _status(cycle) == status
	# once a step ran, the others still refuse other roles
	assert _run("doc-lead@plp.test", cycle, "start_calibration").status_code == 403
	assert _status(cycle) == "Scoring"
	# the reviews (not cycle steps): skipped by the scheme owner through the appraisal's workflow
	from frappe.model.workflow import apply_workflow

	appraisal_name = frappe.db.get_value("PL Appraisal", {"review_cycle": cycle}, "name")
	frappe.set_user("doc-manager@plp.test")
	for action in ("Skip Self Review", "Skip Manager Review"):
		apply_workflow(frappe.get_doc("PL Appraisal", appraisal_name), action)
	frappe.set_user("Administrator")
	frappe.db.commit()
	# the rest of the cycle, each step refused to a team leader first
	for method, status in (
		("start_calibration", "Calibration"),
		("approve_all", None),
		("publish_cycle", "Published"),
		("close_cycle", "Closed"),
	):
		before = _status(cycle)
		assert _run("doc-lead@plp.test", cycle, method).status_code == 403, method
		assert _status(cycle) == before
		response = _run("doc-manager@plp.test", cycle, method)
		assert response.status_code == 200, (method, response.get_data(as_text=True)[:300])
		if status:
			assert _status(cycle) == status, method
	appraisal = frappe.db.get_value(
		"PL Appraisal", {"review_cycle": cycle}, ["status", "docstatus"], as_dict=True
	)
	assert appraisal.docstatus == 1 and appraisal.status in ("Published", "Acknowledged"), appraisal


def test_the_old_dotted_path_runs_the_same_step():
	from postloan_performance import api

	make_company()
	team = make_team(
		"_Test PL Doc Method Team",
		"Collection",
		members=[(make_employee("_Test PL Doc Method A"), "2025-01-01", None)],
	)
	cycle = make_cycle("_Test PL Doc Method Old Path", [team], layers=("Collection",))
	assert api.cycle_step(cycle, "open")["status"] == "Open"
	doc = frappe.get_doc("PL Review Cycle", cycle)
	assert doc.create_appraisals()["created"] == 1
	assert doc.close_cycle is not None and _status(cycle) == "Open"
