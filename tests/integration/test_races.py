"""Races and crashes (issue 18): every cycle step called by N = 2, 4, 8 callers at once happens exactly
once; a step killed at any point and run again ends as an uninterrupted run; two officers closing the
same alert; an appeal filed while the cycle is being published; a Manual KPI value or a self-assessment
saved while compute is half-way; the daily jobs in parallel, and each killed mid-run then run again
(with the notices it sends).

The callers are REST requests of the scheme owner (threads of the real WSGI app, each with its own
connection) or worker processes (race_worker.py). The assertions are outcomes, never timings: how many
callers were refused depends on the machine; that the work was done once does not.
"""

from __future__ import annotations

import json
import threading
import uuid

import pytest

import frappe
from frappe.model.naming import parse_naming_series

from postloan_performance.services.appraisal import score_appraisal
from postloan_performance.services.cycle_steps import STEPS
from tests.integration import races
from tests.integration.factories import (
	COMPANY,
	PASSWORD,
	make_cycle,
	make_employee,
	make_team,
	make_user,
)

TEAM = "_Test PL Race Team"
MEMBERS = 6
# the steps before each step, run once in-process to bring a new cycle to it
BEFORE = {step: STEPS[:i] for i, step in enumerate(STEPS)}
CONFLICT_STATUSES = {409, 417}  # already running / wrong step for a late caller


@pytest.fixture(scope="module")
def race_org(world):
	"""A committed team of six appraisees (each with a user) and two post-loan officers."""
	frappe.set_user("Administrator")
	people = []
	for i in range(1, MEMBERS + 1):
		user = make_user(f"race{i}@plp.test", ["PL Appraisee"])
		people.append(make_employee(f"_Test PL Racer {i}", user=user))
	team = make_team(TEAM, "Collection", members=[(e, "2025-01-01", None) for e in people])
	officer2 = make_user("officer2@plp.test", ["PL Post-Loan Officer"])
	frappe.db.commit()
	yield frappe._dict(people=people, team=team, officer2=officer2, manager=world.users.manager)
	frappe.db.rollback()
	_drop_cycles(frappe.get_all("PL Review Cycle", {"cycle_name": ("like", "_Test PL Race %")}, pluck="name"))


@pytest.fixture(scope="module")
def managers(race_org):
	return races.rest_clients(race_org.manager, PASSWORD, 8)


def _drop_cycles(cycles: list[str]) -> None:
	if not cycles:
		return
	appraisals = frappe.get_all("PL Appraisal", {"review_cycle": ("in", cycles)}, pluck="name")
	if appraisals:
		feedback = frappe.get_all("PL Feedback", {"appraisal": ("in", appraisals)}, pluck="name")
		appeals = frappe.get_all("PL Appeal", {"appraisal": ("in", appraisals)}, pluck="name")
		for doctype, filters in (
			("PL Appeal Line", {"parent": ("in", appeals or [""])}),
			("PL Appeal", {"appraisal": ("in", appraisals)}),
			("PL Feedback Rating", {"parent": ("in", feedback or [""])}),
			("ToDo", {"reference_type": "PL Feedback", "reference_name": ("in", feedback or [""])}),
			("PL Feedback", {"appraisal": ("in", appraisals)}),
			("PL Appraisal KPI", {"parent": ("in", appraisals)}),
			("Version", {"ref_doctype": "PL Appraisal", "docname": ("in", appraisals)}),
			("PL Appraisal", {"name": ("in", appraisals)}),
		):
			frappe.db.delete(doctype, filters)
	frappe.db.delete("PL Metric Value", {"review_cycle": ("in", cycles)})
	frappe.db.delete("PL Review Cycle Team", {"parent": ("in", cycles)})
	frappe.db.delete("PL Review Cycle Template", {"parent": ("in", cycles)})
	frappe.db.delete("Version", {"ref_doctype": "PL Review Cycle", "docname": ("in", cycles)})
	frappe.db.delete("PL Review Cycle", {"name": ("in", cycles)})
	frappe.db.commit()


def new_cycle(race_org, label: str) -> str:
	name = make_cycle(f"_Test PL Race {label} {uuid.uuid4().hex[:8]}", [race_org.team])
	frappe.db.commit()
	return name


def advance(cycle: str, steps) -> None:
	"""Run steps in-process as the Administrator, committed; appraisals are moved to Calibration by hand
	where the workflow would take them (that part is not a cycle step)."""
	from postloan_performance import api

	for step in steps:
		if step == "start_calibration":
			_reviewed(cycle)
		api.cycle_step(cycle, step)
		frappe.db.commit()


def _reviewed(cycle: str) -> None:
	"""Every appraisal past the reviews (the workflow's part, not a cycle step), committed."""
	frappe.db.sql("update `tabPL Appraisal` set `status` = 'Calibration' where `review_cycle` = %s", cycle)
	frappe.db.commit()


def appraisal_rows(cycle: str) -> list:
	return frappe.db.sql(
		"""select `name`, `employee`, `status`, `docstatus` from `tabPL Appraisal`
		where `review_cycle` = %s and `docstatus` < 2 order by `employee`""",
		cycle,
		as_dict=True,
	)


def status_versions(names: list[str], old: str, new: str) -> dict[str, int]:
	"""How many Versions record the status change old -> new, per appraisal."""
	counts = dict.fromkeys(names, 0)
	for name, data in frappe.db.sql(
		"select `docname`, `data` from `tabVersion` where `ref_doctype` = 'PL Appraisal' and `docname` in %s",
		[tuple(names) or ("",)],
	):
		if f'["status", "{old}", "{new}"]' in data:
			counts[name] += 1
	return counts


def _check_answers(answers, step: str) -> list[dict]:
	"""Every caller got 200, "already running" (409) or, when he came after the step, "wrong step";
	returns the bodies of the successful ones."""
	ok = []
	for status, body in answers:
		if status == 200:
			ok.append(body["message"])
		else:
			assert status in CONFLICT_STATUSES, (step, status, body)
			if status == 409:
				assert races.exc_type(body) == "AlreadyRunning", body
	assert ok, answers
	return ok


# ---------------------------------------------------------------- every step x N concurrent callers
@pytest.mark.parametrize("n", (2, 4, 8))
@pytest.mark.parametrize("step", STEPS)
def test_step_runs_once_under_concurrent_callers(race_org, managers, step, n):
	cycle = new_cycle(race_org, f"{step} {n}")
	advance(cycle, BEFORE[step])
	if step == "start_calibration":
		_reviewed(cycle)
	before = appraisal_rows(cycle)
	answers = races.post_together(
		managers[:n], "/api/method/postloan_performance.api.cycle_step", {"cycle": cycle, "step": step}
	)
	ok = _check_answers(answers, step)
	after = appraisal_rows(cycle)
	names = [a.name for a in after]
	status = frappe.db.get_value("PL Review Cycle", cycle, "status")

	if step == "create_appraisals":
		assert len(after) == MEMBERS, f"{len(after)} appraisals for {MEMBERS} employees"
		assert len({a.employee for a in after}) == MEMBERS
		assert sum(r["created"] for r in ok) == MEMBERS
		lines = frappe.db.sql(
			"select `parent`, count(*) from `tabPL Appraisal KPI` where `parent` in %s group by `parent`",
			[tuple(names)],
		)
		assert len(lines) == MEMBERS and len({c for _p, c in lines}) == 1  # every header has its lines
	elif step == "start_self_review":
		assert sum(r["moved"] for r in ok) == MEMBERS
		assert set(status_versions(names, "Draft", "Self Review").values()) == {1}
	elif step == "approve_all":
		assert sum(r["approved"] for r in ok) == MEMBERS
		assert {(a.status, a.docstatus) for a in after} == {("Approved", 1)}
		assert set(status_versions(names, "Calibration", "Approved").values()) == {1}
	elif step == "publish":
		assert len(ok) == 1 and ok[0]["published"] == MEMBERS
		assert {a.status for a in after} == {"Published"}
		assert set(status_versions(names, "Approved", "Published").values()) == {1}
	elif step == "compute":
		assert len(after) == len(before)
		assert {r["appraisals"] for r in ok} == {MEMBERS}
	else:  # a status change: exactly one caller made it
		assert len(ok) == 1, answers
		assert status == ok[0]["status"]
	if step != "compute":
		assert len(after) == (MEMBERS if step != "open" else 0)


def test_request_feedback_runs_once(race_org, managers):
	cycle = new_cycle(race_org, "feedback")
	advance(cycle, ("open", "create_appraisals"))
	answers = races.post_together(
		managers[:4], "/api/method/postloan_performance.api.request_feedback", {"cycle": cycle}
	)
	ok = _check_answers(answers, "request_feedback")
	pairs = frappe.db.sql(
		"""select f.`appraisal`, f.`reviewer`, count(*) from `tabPL Feedback` f
		join `tabPL Appraisal` a on a.`name` = f.`appraisal` where a.`review_cycle` = %s
		group by f.`appraisal`, f.`reviewer`""",
		cycle,
	)
	assert pairs and {c for _a, _r, c in pairs} == {1}
	assert sum(r["created"] for r in ok) == len(pairs)


def test_create_appraisals_in_processes(race_org):
	"""Eight worker processes, each its own connection, calling the step itself (the job's body)."""
	cycle = new_cycle(race_org, "processes")
	advance(cycle, ("open",))
	answers = races.run_processes(
		8, "postloan_performance.api.cycle_step", {"cycle": cycle, "step": "create_appraisals"}
	)
	created = [a["ok"]["created"] for a in answers if "ok" in a]
	assert all("ok" in a or a.get("status") == 409 for a in answers), answers
	assert sum(created) == MEMBERS
	assert len(appraisal_rows(cycle)) == MEMBERS


# ---------------------------------------------------------------- crashes
def signature(cycle: str) -> list[tuple]:
	"""What a cycle's appraisals hold, without names and timestamps: per employee its state, scores,
	grades and lines."""
	headers = frappe.db.sql(
		"""select `name`, `employee`, `pl_team`, `layer`, `template`, `status`, `docstatus`,
		`quantitative_score`, `qualitative_score`, `total_score`, `grade`, `final_grade`
		from `tabPL Appraisal` where `review_cycle` = %s and `docstatus` < 2 order by `employee`""",
		cycle,
		as_dict=True,
	)
	out = []
	for h in headers:
		lines = frappe.db.sql(
			"""select `idx`, `kpi`, `weight`, `target`, `actual`, `no_data`, `score`, `weighted_score`
			from `tabPL Appraisal KPI` where `parent` = %s order by `idx`""",
			h.name,
		)
		out.append((*[v for k, v in h.items() if k != "name"], tuple(tuple(line) for line in lines)))
	return out


def orphan_lines() -> int:
	return frappe.db.sql(
		"""select count(*) from `tabPL Appraisal KPI` k left join `tabPL Appraisal` a on a.`name` = k.`parent`
		where k.`parenttype` = 'PL Appraisal' and a.`name` is null"""
	)[0][0]


def _killed_then_rerun(cycle: str, step: str, point: str) -> list[tuple]:
	"""Kill a worker running the step at ``point``, then run the step again in a new worker; returns the
	cycle's signature as the kill left it."""
	call, kwargs = "postloan_performance.api.cycle_step", {"cycle": cycle, "step": step}
	killed = races.run_processes(1, call, kwargs, env={"PLP_KILL_AT": point})
	assert killed == [{"killed": True}], killed
	left = signature(cycle)
	rerun = races.run_processes(1, call, kwargs)  # the lock died with the killed worker
	assert "ok" in rerun[0], rerun
	return left


@pytest.mark.parametrize("point", ("after_header_insert", "after_first_chunk", "before_commit"))
def test_create_appraisals_killed_then_rerun(race_org, point):
	reference, cycle = new_cycle(race_org, "reference"), new_cycle(race_org, f"killed {point}")
	advance(reference, ("open", "create_appraisals"))
	advance(cycle, ("open",))
	left = _killed_then_rerun(cycle, "create_appraisals", point)
	assert left == []  # nothing half-written survives the kill
	assert orphan_lines() == 0
	assert signature(cycle) == signature(reference)


@pytest.mark.parametrize("step", ("compute", "start_self_review", "approve_all", "publish"))
def test_step_killed_before_commit_then_rerun(race_org, step):
	reference, cycle = new_cycle(race_org, "reference"), new_cycle(race_org, f"killed {step}")
	advance(reference, BEFORE[step] + (step,))
	advance(cycle, BEFORE[step])
	before = signature(cycle)
	left = _killed_then_rerun(cycle, step, "before_commit")
	assert left == before  # no partial scores, grades or statuses
	after = signature(cycle)
	assert after == signature(reference)
	if step != "compute":
		assert after != before  # the re-run did the work


def test_killed_step_leaves_nothing_half_done(race_org):
	"""The state right after the kill equals the state before the step (no partial grades)."""
	cycle = new_cycle(race_org, "half")
	advance(cycle, BEFORE["approve_all"])
	before = signature(cycle)
	killed = races.run_processes(
		1,
		"postloan_performance.api.cycle_step",
		{"cycle": cycle, "step": "approve_all"},
		env={"PLP_KILL_AT": "before_commit"},
	)
	assert killed == [{"killed": True}]
	assert signature(cycle) == before
	assert frappe.db.sql("select is_free_lock(%s)", _lock(cycle))[0][0] == 1


def _lock(cycle: str) -> str:
	from postloan_performance.services.locks import lock_name

	return lock_name("cycle", cycle)


# ---------------------------------------------------------------- people on the same records
def test_two_officers_close_the_same_alert(race_org, world):
	name = f"_Test PL Race Alert {uuid.uuid4().hex[:8]}"
	frappe.db.sql(  # a bare loan row: the alert links to it
		"""insert ignore into `tabPL Loan` (`name`, `creation`, `modified`, `owner`, `modified_by`)
		values ('_Test PL Race Loan', now(6), now(6), 'Administrator', 'Administrator')"""
	)
	frappe.db.sql(
		"""insert into `tabPL Risk Alert` (`name`, `creation`, `modified`, `owner`, `modified_by`,
		`reference`, `loan`, `rule`, `severity`, `raised_on`, `outcome`)
		values (%s, now(6), now(6), 'Administrator', 'Administrator', %s, '_Test PL Race Loan', %s, 'High',
		curdate(), 'Pending')""",
		(name, name, name),
	)
	frappe.db.commit()
	try:
		clients = races.rest_clients(world.users.officer, PASSWORD, 1) + races.rest_clients(
			race_org.officer2, PASSWORD, 1
		)
		modified = str(frappe.db.get_value("PL Risk Alert", name, "modified"))
		answers = []
		for outcome, client in zip(("Confirmed", "False Alarm"), clients, strict=True):
			answers += races.post_together(
				[client],
				"/api/method/postloan_performance.api.close_risk_alert",
				{"alert": name, "outcome": outcome, "modified": modified},
			)
		assert answers[0][0] == 200
		assert races.exc_type(answers[1][1]) == "TimestampMismatchError", answers[1]
		assert frappe.db.get_value("PL Risk Alert", name, "outcome") == "Confirmed"  # not overwritten
		# at the same moment: one closes it, the other gets the conflict
		frappe.db.set_value("PL Risk Alert", name, "outcome", "Pending")
		frappe.db.commit()
		modified = str(frappe.db.get_value("PL Risk Alert", name, "modified"))
		both = races.post_together(
			clients,
			"/api/method/postloan_performance.api.close_risk_alert",
			{"alert": name, "outcome": "Confirmed", "modified": modified},
		)
		assert sorted(s for s, _b in both) == [200, 417], both
		loser = next(b for s, b in both if s != 200)
		assert races.exc_type(loser) == "TimestampMismatchError", loser
	finally:
		frappe.db.rollback()
		frappe.db.delete("PL Risk Alert", {"name": name})
		frappe.db.delete("Version", {"ref_doctype": "PL Risk Alert", "docname": name})
		frappe.db.delete("PL Loan", {"name": "_Test PL Race Loan"})
		frappe.db.commit()


def test_appeal_filed_during_publication(race_org, managers):
	"""Appeals filed while publication runs either wait for it and are filed on a published appraisal,
	or are refused as not published yet; publication never overwrites an appeal's status."""
	cycle = new_cycle(race_org, "appeal")
	advance(cycle, BEFORE["publish"])
	rows = {a.employee: a.name for a in appraisal_rows(cycle)}
	users = {e: frappe.db.get_value("Employee", e, "user_id") for e in rows}
	# the year's first appeals would race on creating their naming series row (a Frappe deadlock that
	# has nothing to do with publication): let it exist
	frappe.db.sql(
		"insert ignore into `tabSeries` (`name`, `current`) values (%s, 0)",
		parse_naming_series("PLAP-.YYYY.-"),
	)
	frappe.db.commit()
	appellants = [races.rest_clients(users[e], PASSWORD, 1)[0] for e in race_org.people[:3]]

	barrier = threading.Barrier(len(appellants) + 1)
	results = {}

	def appeal(employee, client):
		barrier.wait()
		response = client.client.post(
			"/api/resource/PL Appeal",
			data=json.dumps({"appraisal": rows[employee], "reason": "race"}),
			content_type="application/json",
		)
		results[employee] = response.status_code

	def publish():
		barrier.wait()
		response = managers[0].client.post(
			"/api/method/postloan_performance.api.cycle_step", data={"cycle": cycle, "step": "publish"}
		)
		results["publish"] = response.status_code

	threads = [
		threading.Thread(target=appeal, args=(e, c))
		for e, c in zip(race_org.people[:3], appellants, strict=True)
	]
	threads.append(threading.Thread(target=publish))
	for t in threads:
		t.start()
	for t in threads:
		t.join(timeout=120)
	frappe.db.rollback()
	assert results["publish"] == 200
	for employee in race_org.people[:3]:
		status = frappe.db.get_value("PL Appraisal", rows[employee], "status")
		appeals = frappe.db.count("PL Appeal", {"appraisal": rows[employee]})
		if results[employee] == 200:
			assert appeals == 1 and status == "Appealed", (employee, status)
		else:
			assert results[employee] == 417 and appeals == 0 and status == "Published", (employee, status)


# ---------------------------------------------------------------- forms saved while compute runs
MANUAL_KPI = "_TEST-RACE-MANUAL"
MANUAL_TEMPLATE = "_Test PL Race Manual Template"
LED_TEAM = "_Test PL Race Led Team"


@pytest.fixture(scope="module")
def led_org(race_org):
	"""A team with a leader (a user) and two appraisees, scored by a template with a Manual KPI."""
	frappe.set_user("Administrator")
	leader_user = make_user("raceleader@plp.test", ["PL Team Leader", "PL Appraisee"])
	leader = make_employee("_Test PL Race Leader", user=leader_user)
	people = []
	for i in (1, 2):
		user = make_user(f"raceled{i}@plp.test", ["PL Appraisee"])
		people.append(make_employee(f"_Test PL Race Led {i}", user=user))
	team = make_team(
		LED_TEAM, "Collection", members=[(e, "2025-01-01", None) for e in people], team_lead=leader
	)
	if not frappe.db.exists("PL KPI", MANUAL_KPI):
		frappe.get_doc(
			{
				"doctype": "PL KPI",
				"kpi_code": MANUAL_KPI,
				"kpi_name": "Race File Quality",
				"layer": "Collection",
				"category": "Quantitative",
				"unit": "points",
				"direction": "Higher is Better",
				"subject": "Employee",
				"method": "Manual",
			}
		).insert(ignore_permissions=True)
	if not frappe.db.exists("PL KPI Template", MANUAL_TEMPLATE):
		template = frappe.copy_doc(frappe.get_doc("PL KPI Template", "Collection - Default"))
		template.template_name = MANUAL_TEMPLATE
		template.company = ""
		template.is_default = template.is_standard = 0
		first = template.items[0]
		template.set("items", [])
		for kpi, weight, threshold, target, stretch in (
			(first.kpi, 50, first.threshold, first.target, first.stretch),
			(MANUAL_KPI, 50, 50.0, 80.0, 100.0),
		):
			template.append(
				"items",
				{
					"kpi": kpi,
					"weight": weight,
					"scoring_method": "Linear",
					"threshold": threshold,
					"target": target,
					"use_stretch": 1 if stretch else 0,
					"stretch": stretch,
				},
			)
		template.insert(ignore_permissions=True)
	frappe.db.commit()
	return frappe._dict(people=people, team=team, leader=leader_user)


def manual_cycle(led_org, label: str) -> str:
	"""A cycle of the led team, Open, its appraisals created and in Self Review; one built-in line of
	each appraisal holds a value from an earlier computation (the data changed since), so that compute
	has something to write."""
	name = f"_Test PL Race {label} {uuid.uuid4().hex[:8]}"
	frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": name,
			"company": COMPANY,
			"period_start": "2026-01-01",
			"period_end": "2026-03-31",
			"baseline_start": "2025-10-03",
			"baseline_end": "2025-12-31",
			"templates": [{"layer": "Collection", "template": MANUAL_TEMPLATE}],
			"teams": [{"pl_team": led_org.team}],
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	advance(name, ("open", "create_appraisals", "start_self_review"))
	stale_built_in_values(name)
	return name


def stale_built_in_values(cycle: str) -> None:
	"""Built-in lines as an earlier computation left them (a value, scored): compute has to change them."""
	frappe.db.sql(
		"""update `tabPL Appraisal KPI` k join `tabPL Appraisal` a on a.`name` = k.`parent`
		set k.`actual` = 55, k.`no_data` = 0 where a.`review_cycle` = %s and k.`kpi` != %s""",
		(cycle, MANUAL_KPI),
	)
	for name in frappe.get_all("PL Appraisal", {"review_cycle": cycle}, pluck="name"):
		doc = frappe.get_doc("PL Appraisal", name)
		score_appraisal(doc)
		frappe.db.set_value(
			"PL Appraisal",
			name,
			{f: doc.get(f) for f in ("quantitative_score", "qualitative_score", "total_score", "grade")},
			update_modified=False,
		)
	frappe.db.commit()


def scores_match_lines(name: str) -> bool:
	"""The stored header scores are those its stored lines give (nothing computed from older values)."""
	doc = frappe.get_doc("PL Appraisal", name)
	stored = [doc.get(f) for f in ("quantitative_score", "total_score", "grade")]
	score_appraisal(doc)
	return stored == [doc.get(f) for f in ("quantitative_score", "total_score", "grade")]


def _save_form_during_compute(cycle: str, client, doc: dict) -> tuple[int, dict, list[dict]]:
	"""Run the cycle's compute in a worker that stops after reading and scoring, before writing; save
	the form ``doc`` (as loaded before) meanwhile, then let compute go on. Returns the save's HTTP status
	and body and compute's answer."""
	pause = races.Pause("before_write")
	started = races.start_processes(
		1, "postloan_performance.api.cycle_step", {"cycle": cycle, "step": "compute"}, env=pause.env
	)
	try:
		assert pause.wait_reached(), "compute never reached its write"
		result = {}

		def save():
			response = client.client.post(
				"/api/method/frappe.desk.form.save.savedocs",
				data={"doc": json.dumps(doc, default=str), "action": "Save"},
			)
			result["status"] = response.status_code
			result["body"] = json.loads(response.get_data(as_text=True) or "{}")

		thread = threading.Thread(target=save)
		thread.start()
		thread.join(timeout=5)  # done at once without a lock; waiting while compute holds the rows
	finally:
		pause.release()
	answers = races.collect(started)
	thread.join(timeout=120)
	pause.cleanup()
	frappe.db.rollback()
	return result["status"], result["body"], answers


def _loaded_form(client, name: str) -> dict:
	response = client.get(f"/api/resource/PL Appraisal/{name}")
	assert response.status_code == 200, response.get_data(as_text=True)
	return response.get_json()["data"]


def test_manual_kpi_value_saved_while_compute_runs(led_org):
	"""A team leader saves a Manual KPI value while compute of the cycle is half-way (read, not written):
	either his save waits and then gets the "document modified" conflict, or it stands whole; compute
	never writes scores computed from the value read before his."""
	cycle = manual_cycle(led_org, "manual")
	name = frappe.db.get_value("PL Appraisal", {"review_cycle": cycle, "employee": led_org.people[0]})
	frappe.db.set_value("PL Appraisal", name, "status", "Manager Review", update_modified=False)
	frappe.db.commit()
	leader = races.rest_clients(led_org.leader, PASSWORD, 1)[0]
	form = _loaded_form(leader, name)
	line = next(row for row in form["kpis"] if row["kpi"] == MANUAL_KPI)
	assert line["no_data"] == 1
	line.update(actual=90, no_data=0, note="file audit")

	status, body, answers = _save_form_during_compute(cycle, leader, form)
	assert "ok" in answers[0], answers
	stored = frappe.db.get_value(
		"PL Appraisal KPI", {"parent": name, "kpi": MANUAL_KPI}, ["actual", "no_data"], as_dict=True
	)
	if status == 200:  # his save came first and compute read it
		assert (stored.actual, stored.no_data) == (90, 0)
	else:  # compute came first: he is told, nothing of his is half-kept
		assert races.exc_type(body) == "TimestampMismatchError", (status, body)
		assert stored.no_data == 1
	assert scores_match_lines(name), "header scores computed from a Manual value that was replaced"
	# a second compute changes nothing: the stored scores are already those of the stored lines
	assert (
		races.run_processes(1, "postloan_performance.api.cycle_step", {"cycle": cycle, "step": "compute"})[0][
			"ok"
		]["changed_appraisals"]
		== 0
	)


def test_self_assessment_saved_while_compute_runs(led_org):
	"""An appraisee saves his self-assessment while compute runs: it is kept, or he gets the conflict;
	compute's scores are written either way."""
	cycle = manual_cycle(led_org, "self")
	name = frappe.db.get_value("PL Appraisal", {"review_cycle": cycle, "employee": led_org.people[1]})
	user = frappe.db.get_value("Employee", led_org.people[1], "user_id")
	appraisee = races.rest_clients(user, PASSWORD, 1)[0]
	form = _loaded_form(appraisee, name)
	form["self_assessment"] = "I met my targets."

	status, body, answers = _save_form_during_compute(cycle, appraisee, form)
	assert "ok" in answers[0], answers
	stored = frappe.db.get_value("PL Appraisal", name, "self_assessment")
	if status == 200:
		assert stored == "I met my targets."
	else:
		assert races.exc_type(body) == "TimestampMismatchError", (status, body)
		assert not stored
	assert scores_match_lines(name)
	assert (
		frappe.db.get_value("PL Appraisal KPI", {"parent": name, "kpi": ("!=", MANUAL_KPI)}, "no_data") == 1
	)


@pytest.mark.parametrize("point", ("before_write", "after_partial_write", "before_commit"))
def test_compute_killed_mid_write_then_rerun(led_org, point):
	"""Compute killed after scoring, after writing the lines but not their headers, or in its commit:
	nothing of it stays; run again, it equals an uninterrupted run (same lines, scores, grades)."""
	reference, cycle = manual_cycle(led_org, "compute reference"), manual_cycle(led_org, f"compute {point}")
	advance(reference, ("compute",))
	before = signature(cycle)
	left = _killed_then_rerun(cycle, "compute", point)
	assert left == before  # no line and no score of the killed run
	after = signature(cycle)
	assert after != before  # the re-run did the work
	assert after == signature(reference)


# ---------------------------------------------------------------- daily jobs
@pytest.mark.parametrize("job", ("classification", "collection", "early_warning"))
def test_daily_job_in_parallel_runs_once(job):
	from postloan_performance.services.daily_jobs import THROUGH_FIELD

	answers = races.run_processes(
		4,
		"postloan_performance.services.daily_jobs.run_job",
		{"job": job, "day": frappe.utils.nowdate(), "publish": False},
	)
	assert all("ok" in a or a.get("status") == 409 for a in answers), answers
	dates = [d for a in answers if "ok" in a for d in a["ok"]["dates"]]
	assert len(dates) == len(set(dates))  # no date processed twice
	through = frappe.db.get_single_value("PL Post-Loan Settings", THROUGH_FIELD[job])
	if dates:
		assert str(through) == max(dates)


DAILY_TEAMS, DAILY_ROWS = "_Test PLK ", "PLK-"
DAILY_START, DAILY_BEFORE = "2017-01-01", "2016-12-31"  # dates no other data on the site has
DAILY_RULE = "_Test PLK Overdue"
DAILY_FIELDS = {  # what each job writes, compared between runs (no names of people, no timestamps)
	"PL Loan Snapshot": ("name", "bucket", "proposed_classification", "classification"),
	"PL Collection Case": (
		"name",
		"loan",
		"collector",
		"pl_team",
		"status",
		"opened_on",
		"closed_on",
		"entry_bucket",
		"current_bucket",
		"current_overdue_amount",
		"escalation_count",
		"escalated_on",
		"strategy_rule",
		"assignment_note",
		"last_evaluated_on",
	),
	"PL Risk Alert": ("name", "loan", "rule", "severity", "raised_on", "outcome", "officer"),
}


@pytest.fixture(scope="module")
def daily_data():
	"""Four months of generated snapshots (120 loans, their teams and people), committed, in dates of
	their own; the settings' "processed through" marks are restored afterwards."""
	from postloan_performance.services.daily_jobs import SETTINGS, SUMMARY_FIELD, THROUGH_FIELD
	from tests.integration import daily_jobs_data as data

	frappe.set_user("Administrator")
	saved = {
		f: frappe.db.get_single_value(SETTINGS, f) for f in (*THROUGH_FIELD.values(), *SUMMARY_FIELD.values())
	}
	ds = data.generated(5, 120, 4, DAILY_TEAMS, DAILY_ROWS, start=DAILY_START)
	for frame in ("events", "assessments", "tickets"):
		setattr(ds, frame, getattr(ds, frame).iloc[0:0].copy())
	data.load(ds, DAILY_ROWS)
	if not frappe.db.exists("PL Warning Rule", DAILY_RULE):
		frappe.get_doc(
			{
				"doctype": "PL Warning Rule",
				"rule_name": DAILY_RULE,
				"expression": "dpd > 0",
				"severity": "High",
			}
		).insert(ignore_permissions=True)
	frappe.db.commit()
	yield frappe._dict(dates=[str(d) for d in data.month_ends(ds)])
	frappe.db.rollback()
	_reset_daily()
	like = DAILY_ROWS + "%"
	frappe.db.delete("PL Loan Snapshot", {"loan": ("like", like)})
	frappe.db.delete("PL Loan", {"name": ("like", like)})
	frappe.db.delete("PL Warning Rule", {"name": DAILY_RULE})
	frappe.db.delete("PL Team Member", {"parent": ("like", DAILY_TEAMS + "%")})
	frappe.db.delete("PL Team", {"name": ("like", DAILY_TEAMS + "%")})
	frappe.db.delete("Employee", {"name": ("like", like)})
	frappe.db.set_single_value(SETTINGS, saved)
	frappe.db.commit()


def _reset_daily() -> None:
	"""Back to the state before any daily job ran on the data: no classification, case or alert, the
	summary rows of its dates gone, every job's "processed through" before its first date."""
	from postloan_performance.services.daily_jobs import SETTINGS, THROUGH_FIELD

	like = DAILY_ROWS + "%"
	frappe.db.sql(
		"""update `tabPL Loan Snapshot` set `bucket` = null, `proposed_classification` = null,
		`classification` = null where `loan` like %s""",
		like,
	)
	frappe.db.delete("PL Collection Case", {"loan": ("like", like)})
	frappe.db.delete("PL Risk Alert", {"loan": ("like", like)})
	frappe.db.sql(
		"delete from `tabPL Portfolio Month` where `month` >= %s and `month` < '2018-01-01'", DAILY_START
	)
	frappe.db.set_single_value(SETTINGS, {field: DAILY_BEFORE for field in THROUGH_FIELD.values()})
	frappe.db.commit()


def daily_state(job: str) -> dict:
	"""Everything the daily jobs wrote on the data, and the job's "processed through" mark."""
	from postloan_performance.services.daily_jobs import SETTINGS, THROUGH_FIELD

	like = DAILY_ROWS + "%"
	out = {}
	for doctype, fields in DAILY_FIELDS.items():
		column = "name" if doctype == "PL Loan Snapshot" else "loan"
		columns = ", ".join(f"`{f}`" for f in fields)
		out[doctype] = frappe.db.sql(
			f"select {columns} from `tab{doctype}` where `{column}` like %s order by `name`",  # nosemgrep
			like,
		)
	out["PL Portfolio Month"] = frappe.db.sql(
		"""select `kind`, `month`, `month_end`, `previous_month_end`, `company`, `managing_team`, `product`,
		`previous_bucket`, `bucket`, `classification`, `loans`, `loans_with_outstanding`, `outstanding`,
		`active_cases`, `entry_overdue_amount`, `recovered`
		from `tabPL Portfolio Month` where `month` >= %s and `month` < '2018-01-01'
		order by `kind`, `month_end`, `month`, `company`, `managing_team`, `product`, `previous_bucket`,
		`bucket`, `classification`""",
		DAILY_START,
	)
	out["through"] = frappe.db.sql(  # not get_single_value: its cached value
		"select `value` from `tabSingles` where `doctype` = %s and `field` = %s",
		(SETTINGS, THROUGH_FIELD[job]),
	)[0][0]
	return out


def _run_daily(job: str, dates: list[str], env: dict | None = None) -> dict:
	return races.run_processes(
		1,
		"postloan_performance.services.daily_jobs.run_job",
		{"job": job, "day": dates[-1], "publish": False},
		env=env,
	)[0]


@pytest.mark.parametrize("point", ("after_partial_write", "before_commit", "after_first_chunk"))
@pytest.mark.parametrize("job", ("classification", "collection", "early_warning"))
def test_daily_job_killed_mid_run_then_rerun(daily_data, job, point):
	"""A daily job killed with a date half-written (after its first write), in the commit of its first
	date, or after its first date committed; run again it processes each date once and ends as an
	uninterrupted run: the same snapshots' classes, cases, alerts, summary rows, mark."""
	dates = daily_data.dates
	_reset_daily()
	empty = daily_state(job)
	reference = _run_daily(job, dates)
	assert reference["ok"]["dates"] == dates, reference
	expected = daily_state(job)
	assert expected[job_doctype(job)] != empty[job_doctype(job)], "the job wrote nothing: proves nothing"

	_reset_daily()
	assert _run_daily(job, dates, env={"PLP_KILL_AT": point}) == {"killed": True}
	left = daily_state(job)
	if point == "after_first_chunk":  # the first date committed with its mark, nothing of the others
		assert left["through"] == dates[0]
		assert left != empty
	else:
		assert left == empty  # nothing of the half-done date
	rerun = _run_daily(job, dates)
	done_before = dates[:1] if point == "after_first_chunk" else []
	assert [*done_before, *rerun["ok"]["dates"]] == dates  # each date processed once
	assert daily_state(job) == expected
	assert _run_daily(job, dates)["ok"]["dates"] == []  # nothing left to do


def _notices(drop: bool = False) -> list[tuple[str, str]]:
	"""(subject, user) of every notice about the data's warning rule: still queued, or made into a
	Notification Log by a worker (another process on the bench may run the queue)."""
	from frappe.utils.background_jobs import get_queue

	from tests.integration.conftest import SITE

	out = []
	for job in get_queue("default").get_jobs():
		try:
			kwargs = job.kwargs or {}
		except Exception:  # a job this process cannot unpickle: not ours
			continue
		doc = (kwargs.get("kwargs") or {}).get("doc") or {}
		if kwargs.get("site") == SITE and doc.get("document_name") == DAILY_RULE:
			out += [(doc.get("subject"), user) for user in kwargs["kwargs"].get("users") or []]
			if drop:
				job.delete()
	logs = {"document_type": "PL Warning Rule", "document_name": DAILY_RULE}
	out += [tuple(r) for r in frappe.get_all("Notification Log", logs, ["subject", "for_user"], as_list=True)]
	if drop:
		frappe.db.delete("Notification Log", logs)
		frappe.db.commit()
	return sorted(out)


def test_killed_daily_job_notifies_once(daily_data):
	"""The early-warning job killed in the commit of its first date (alerts raised, officers notified,
	nothing committed), then run again: every notice once, as after an uninterrupted run."""
	dates = daily_data.dates
	frappe.db.set_value("PL Warning Rule", DAILY_RULE, "notify_role", "PL Post-Loan Officer")
	make_user("dailyofficer@plp.test", ["PL Post-Loan Officer"])
	frappe.db.commit()
	try:
		_reset_daily()
		_notices(drop=True)
		assert "ok" in _run_daily("early_warning", dates)
		expected = _notices(drop=True)
		assert expected and len({s for s, _u in expected}) == len(dates)  # one notice per date
		_reset_daily()
		assert _run_daily("early_warning", dates, env={"PLP_KILL_AT": "before_commit"}) == {"killed": True}
		assert _notices() == []  # nobody told about alerts that were rolled back
		assert "ok" in _run_daily("early_warning", dates)
		assert _notices() == expected
	finally:
		_notices(drop=True)
		frappe.db.set_value("PL Warning Rule", DAILY_RULE, "notify_role", None)
		frappe.db.commit()


def job_doctype(job: str) -> str:
	return {
		"classification": "PL Loan Snapshot",
		"collection": "PL Collection Case",
		"early_warning": "PL Risk Alert",
	}[job]


# ---------------------------------------------------------------- imports
IMPORT_PREFIX = "_TPLR"


@pytest.fixture
def loans_file(world, tmp_path):
	import pandas as pd

	rows = [
		{
			"loan_no": f"{IMPORT_PREFIX}-L{i:03d}",
			"customer": f"Customer {i}",
			"company": world.company,
			"managing_team": world.teams.north,
			"disbursed_on": "2025-01-15",
			"principal": "100000",
			"maturity_date": "2028-01-15",
		}
		for i in range(1, 51)
	]
	path = tmp_path / "loans.csv"
	pd.DataFrame(rows).to_csv(path, index=False)
	yield str(path)
	frappe.db.rollback()
	frappe.db.delete("PL Loan", {"name": ("like", f"{IMPORT_PREFIX}-%")})
	frappe.db.commit()


def _loans() -> int:
	return frappe.db.count("PL Loan", {"name": ("like", f"{IMPORT_PREFIX}-%")})


def test_same_file_imported_in_parallel_once(loans_file):
	call = "postloan_performance.services.post_loan_data.import_file"
	answers = races.run_processes(4, call, {"doctype": "PL Loan", "file_path_or_file_url": loans_file})
	assert all("ok" in a or a.get("status") == 409 for a in answers), answers
	assert sum(a["ok"]["inserted"] for a in answers if "ok" in a) == 50
	assert _loans() == 50


def test_import_killed_mid_file_leaves_nothing(loans_file):
	call, kwargs = (
		"postloan_performance.services.post_loan_data.import_file",
		{
			"doctype": "PL Loan",
			"file_path_or_file_url": loans_file,
		},
	)
	killed = races.run_processes(1, call, kwargs, env={"PLP_KILL_AT": "after_first_chunk"})
	assert killed == [{"killed": True}]
	assert _loans() == 0
	again = races.run_processes(1, call, kwargs)
	assert again[0]["ok"]["inserted"] == 50 and _loans() == 50
