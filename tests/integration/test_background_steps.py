"""Large cycles run their long steps as background jobs on the long queue, one job per cycle and step."""

from unittest.mock import patch

import frappe

from postloan_performance import api
from postloan_performance.services import cycle as cycle_service
from tests.integration.factories import make_company, make_cycle, make_employee, make_team, make_user


def test_large_cycle_steps_are_enqueued_and_the_job_runs(monkeypatch):
	make_company()
	members = [make_employee(f"_Test PL Bulk {i:03d}") for i in range(12)]
	team = make_team("_Test PL Bulk Team", "Collection", members=[(e, "2025-01-01", None) for e in members])
	cycle = make_cycle("_Test PL Bulk Cycle", [team], layers=("Collection",))
	cycle_service.open_cycle(cycle)
	frappe.set_user(make_user("bulk-manager@plp.test", ["PL Performance Manager"]))

	# pretend the cycle is large and we are not in a test: the step must be queued, not run
	monkeypatch.setattr(cycle_service, "BACKGROUND_THRESHOLD", 5)
	monkeypatch.setattr(frappe.flags, "in_test", False)
	with patch.object(frappe, "enqueue") as enqueue:
		enqueue.return_value = frappe._dict(id="job-1")
		result = api.cycle_step(cycle, "create_appraisals")
	assert result == {"queued": True, "job_id": "job-1"}
	method = enqueue.call_args.args[0]
	kwargs = enqueue.call_args.kwargs
	assert method == "postloan_performance.services.cycle.create_appraisals"
	assert (
		kwargs["queue"] == "long"
		and kwargs["deduplicate"]
		and kwargs["job_id"] == f"pl-create_appraisals-{cycle}"
	)
	assert kwargs["cycle_name"] == cycle and kwargs["publish_progress"] is True
	assert frappe.db.count("PL Appraisal", {"review_cycle": cycle}) == 0  # nothing ran inline

	# the worker runs the queued call: progress is published per chunk
	monkeypatch.setattr(cycle_service, "CHUNK", 5)
	with patch.object(frappe, "publish_progress") as progress:
		created = frappe.get_attr(method)(cycle_name=cycle, publish_progress=True)
	assert created["created"] == 12
	assert [round(c.args[0]) for c in progress.call_args_list] == [42, 83, 100]
	# and a second run (a retried job) creates nothing
	assert frappe.get_attr(method)(cycle_name=cycle)["created"] == 0

	with patch.object(frappe, "enqueue") as enqueue:
		api.cycle_step(cycle, "compute")
	assert enqueue.call_args.args[0] == "postloan_performance.api.compute_cycle_job"
	with patch.object(frappe, "publish_progress") as progress:
		result = api.compute_cycle_job(cycle_name=cycle, publish_progress=True)
	assert result["appraisals"] == 12
	assert progress.call_args_list[-1].args[0] == 100


def test_cycle_steps_are_for_the_scheme_owner_only():
	"""Role checks hold in tests too (frappe.only_for is skipped while frappe.flags.in_test is set)."""
	import pytest

	make_company()
	team = make_team(
		"_Test PL Roles Team", "Collection", members=[(make_employee("_Test PL Roles A"), "2025-01-01", None)]
	)
	cycle = make_cycle("_Test PL Roles Cycle", [team], layers=("Collection",))
	for user, roles in (
		("roles-lead@plp.test", ["PL Team Leader"]),
		("roles-exec@plp.test", ["PL Executive"]),
		("roles-staff@plp.test", ["PL Appraisee"]),
	):
		frappe.set_user("Administrator")
		frappe.set_user(make_user(user, roles))
		with pytest.raises(frappe.PermissionError):
			api.cycle_step(cycle, "open")
		with pytest.raises(frappe.PermissionError):
			api.compute_appraisal("PLA-does-not-matter")
	assert frappe.db.get_value("PL Review Cycle", cycle, "status") == "Draft"
	frappe.set_user("roles-exec@plp.test")
	assert api.calibration_view(cycle) == []  # executives may read the calibration view
