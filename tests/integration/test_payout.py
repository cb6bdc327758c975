"""Incentive payout runs on a site with HRMS: from published grades to draft Additional Salary.

The organisation of these tests (made in each test's transaction, rolled back after it):

    _Test PL Pay Alpha (Collection): A1 (grade S, 95, whole period), A2 (grade B, 75, from 2026-02-15)
    _Test PL Pay Beta  (Collection): B1 (grade A, 85), B2 (grade C, 40; no salary structure)

Cycle 2026-01-01 .. 2026-03-31 (90 days; A2 was a member 45 of them), published 2026-04-01 with a
7-day appeal window. Plan: a fixed pool of 10,000.00 CNY weighted by team score, floor 0.5, cap 1.1.

Worked by hand: full-time equivalents Alpha 1 + 0.5 = 1.5, Beta 2; equal shares 10,000 × 1.5/3.5 =
4,285.71.. and 5,714.28..; weighted by mean score (Alpha 85 × 1.5 = 127.5, Beta 62.5 × 2 = 125) Alpha
would get 5,049.50, over its cap 1.1 × 4,285.71.. = 4,714.2857: pinned there, Beta takes the rest
5,285.7143. Cents by largest remainder: Alpha 4,714.29 (.57 > .43), Beta 5,285.71.
Alpha by coefficient × days: A1 1.5 × 1, A2 1.0 × 0.5 -> 3/4 and 1/4 of 4,714.29 = 3,535.7175 and
1,178.5725 -> 3,535.72 and 1,178.57. Beta: B1 1.2, B2 0.7 of 5,285.71 -> 3,338.3432 and 1,947.3668 ->
3,338.34 and 1,947.37 (.68 > .32). Total 10,000.00.
"""

import json
from unittest.mock import patch
from urllib.parse import quote, unquote

import pytest

import frappe
from frappe.utils import now_datetime

from postloan_performance import api
from postloan_performance.services import payout as service
from postloan_performance.services import payout_plan
from tests.integration.factories import (
	COMPANY,
	make_appraisal,
	make_cycle,
	make_employee,
	make_team,
	make_user,
)

LINE = "/api/resource/" + quote("PL Payout Line")
RUN = "/api/resource/" + quote("PL Payout Run")
TEAM = "/api/resource/" + quote("PL Payout Team")
COMPONENT = "_Test PL Incentive"
BASIC = "_Test PL Basic"
STRUCTURE = "_Test PL Pay Structure"
EXPECTED = {"A1": 3535.72, "A2": 1178.57, "B1": 3338.34, "B2": 1947.37}


# ---------------------------------------------------------------- makers
def make_salary_setup(employees: list[str], company: str = COMPANY) -> None:
	for name, abbr in ((COMPONENT, "TPLI"), (BASIC, "TPLB")):
		if not frappe.db.exists("Salary Component", name):
			frappe.get_doc(
				{
					"doctype": "Salary Component",
					"salary_component": name,
					"salary_component_abbr": abbr,
					"type": "Earning",
				}
			).insert(ignore_permissions=True)
	if not frappe.db.exists("Salary Structure", STRUCTURE):
		structure = frappe.get_doc(
			{
				"doctype": "Salary Structure",
				"name": STRUCTURE,
				"company": company,
				"payroll_frequency": "Monthly",
				"currency": "CNY",
				"is_active": "Yes",
				"earnings": [{"salary_component": BASIC, "abbr": "TPLB", "amount": 5000}],
			}
		)
		structure.insert(ignore_permissions=True)
		structure.submit()
	for employee in employees:
		if frappe.db.exists("Salary Structure Assignment", {"employee": employee, "docstatus": 1}):
			continue
		assignment = frappe.get_doc(
			{
				"doctype": "Salary Structure Assignment",
				"employee": employee,
				"salary_structure": STRUCTURE,
				"company": company,
				"currency": "CNY",
				"from_date": "2025-01-01",
				"base": 5000,
			}
		)
		assignment.insert(ignore_permissions=True)
		assignment.submit()


def publish(appraisal: str, grade: str, score: float, published_on="2026-04-01 09:00:00") -> None:
	doc = frappe.get_doc("PL Appraisal", appraisal)
	if doc.docstatus == 0:
		doc.flags.ignore_permissions = True
		doc.submit()
	frappe.db.set_value(
		"PL Appraisal",
		appraisal,
		{"status": "Published", "published_on": published_on, "total_score": score, "final_grade": grade},
		update_modified=False,
	)


def make_plan(name: str = "_Test PL Pay Plan", company: str = COMPANY, **values) -> str:
	if frappe.db.exists("PL Incentive Plan", name):
		return name
	frappe.get_doc(
		{
			"doctype": "PL Incentive Plan",
			"plan_name": name,
			"company": company,
			"effective_from": "2025-01-01",
			"pool_basis": "Fixed Amount",
			"pool_amount": 10000,
			"team_split": "Weighted by Team Score",
			"team_floor": 0.5,
			"team_cap": 1.1,
			"salary_component": COMPONENT,
			"payroll_date_rule": "Last Day of Next Month",
			**values,
		}
	).insert(ignore_permissions=True)
	return name


def make_run(plan: str, cycle: str) -> str:
	existing = frappe.db.get_value(
		"PL Payout Run", {"plan": plan, "review_cycle": cycle, "status": ("!=", "Cancelled")}
	)
	if existing:
		return existing
	return frappe.get_doc({"doctype": "PL Payout Run", "plan": plan, "review_cycle": cycle}).insert().name


@pytest.fixture
def pay(world):
	"""The organisation of the module docstring, in the test's transaction."""
	return make_pay_org()


def make_pay_org(salary_setup: bool = True) -> frappe._dict:
	"""The organisation of the module docstring; without `salary_setup` (a site without HRMS) nobody gets a
	salary structure."""
	appellant = make_user("pay-a2@plp.test", ["PL Appraisee"])
	emp = frappe._dict(
		{
			key: make_employee(f"_Test PL Pay {key}", user=appellant if key == "A2" else None)
			for key in ("A1", "A2", "B1", "B2")
		}
	)
	alpha = make_team(
		"_Test PL Pay Alpha",
		"Collection",
		members=[(emp.A1, "2025-01-01", None), (emp.A2, "2026-02-15", None)],
	)
	beta = make_team(
		"_Test PL Pay Beta",
		"Collection",
		members=[(emp.B1, "2025-01-01", None), (emp.B2, "2025-01-01", None)],
	)
	cycle = make_cycle("_Test PL Pay Cycle", [alpha, beta])
	appraisals = frappe._dict(
		{key: make_appraisal(emp[key], alpha if key.startswith("A") else beta, cycle) for key in emp}
	)
	for key, grade, score in (("A1", "S", 95), ("A2", "B", 75), ("B1", "A", 85), ("B2", "C", 40)):
		publish(appraisals[key], grade, score)
	frappe.db.set_value("PL Review Cycle", cycle, {"status": "Published", "appeal_window_days": 7})
	if salary_setup:
		make_salary_setup([emp.A1, emp.A2, emp.B1])
	plan = make_plan()
	return frappe._dict(
		employees=emp,
		appraisals=appraisals,
		cycle=cycle,
		plan=plan,
		run=make_run(plan, cycle),
		appellant=appellant,
	)


def file_appeal(pay, reason: str):
	"""A2 appeals (as himself; the appeal window reopened for it)."""
	frappe.db.set_value(
		"PL Appraisal", pay.appraisals.A2, "published_on", now_datetime(), update_modified=False
	)
	frappe.set_user(pay.appellant)
	try:
		return frappe.get_doc(
			{"doctype": "PL Appeal", "appraisal": pay.appraisals.A2, "reason": reason}
		).insert()
	finally:
		frappe.set_user("Administrator")


def amounts(run: str) -> dict[str, float]:
	rows = frappe.get_all("PL Payout Line", filters={"payout_run": run}, fields=["employee_name", "amount"])
	return {r.employee_name.rsplit(" ", 1)[-1]: r.amount for r in rows}


def lines(run: str) -> dict[str, frappe._dict]:
	rows = frappe.get_all("PL Payout Line", filters={"payout_run": run}, fields=["*"])
	return {r.employee_name.rsplit(" ", 1)[-1]: r for r in rows}


def drafts(run: str) -> list[frappe._dict]:
	names = [r.additional_salary for r in lines(run).values() if r.additional_salary]
	return frappe.get_all(
		"Additional Salary",
		filters={"name": ("in", names or [""])},
		fields=[
			"name",
			"employee",
			"amount",
			"docstatus",
			"disabled",
			"salary_component",
			"payroll_date",
			"ref_doctype",
			"ref_docname",
		],
	)


# ---------------------------------------------------------------- computing
def test_prepare_splits_the_pool_with_cap_and_pro_rating_to_exact_cents(pay):
	result = api.payout_step(pay.run, "prepare")
	assert result["status"] == "Prepared" and result["lines"] == 4
	assert amounts(pay.run) == EXPECTED
	by_person = lines(pay.run)
	assert by_person["A2"].days == 45 and by_person["A1"].days == 90
	assert (by_person["A1"].coefficient, by_person["B2"].coefficient) == (1.5, 0.7)
	run = frappe.get_doc("PL Payout Run", pay.run)
	assert (run.pool, run.total_amount, run.unallocated) == (10000, 10000, 0)
	assert {t.pl_team: t.amount for t in run.teams} == {
		"_Test PL Pay Alpha": 4714.29,
		"_Test PL Pay Beta": 5285.71,
	}
	assert str(run.payroll_date) == "2026-04-30"  # last day of the month after the period
	# preparing again computes the same lines
	api.payout_step(pay.run, "prepare")
	assert amounts(pay.run) == EXPECTED


def test_equal_split_without_weighting(pay):
	frappe.db.set_value("PL Incentive Plan", pay.plan, "team_split", "Equal per Head")
	api.payout_step(pay.run, "prepare")
	# Alpha 1.5/3.5 of 10,000 = 4,285.7143 -> 4,285.71 (.14 < .86: Beta takes the cent: 5,714.29);
	# A1 3/4 = 3,214.2825 -> 3,214.28, A2 1,071.4275 -> 1,071.43 (.75 > .25)
	got = amounts(pay.run)
	assert (got["A1"], got["A2"]) == (3214.28, 1071.43)
	assert round(sum(got.values()), 2) == 10000


def test_preview_report_totals_per_team_and_layer_against_the_pool(pay):
	from postloan_performance.postloan_performance.report.payout_preview.payout_preview import execute

	api.payout_step(pay.run, "prepare")
	columns, data, _message, _chart, summary = execute({"payout_run": pay.run})
	assert [c["fieldname"] for c in columns][:8] == [
		"employee",
		"employee_name",
		"pl_team",
		"layer",
		"grade",
		"coefficient",
		"days",
		"amount",
	]
	people = [r for r in data if r.get("employee")]
	assert len(people) == 4
	totals = {r["employee_name"]: r["amount"] for r in data if r.get("bold")}
	assert totals["Layer total"] == pytest.approx(10000)
	assert totals["Pool"] == 10000 and totals["Total"] == 10000
	assert {s["label"]: s["value"] for s in summary}["Unallocated"] == 0


# ---------------------------------------------------------------- refusals
def test_trial_and_unpublished_cycles_are_refused(pay):
	frappe.db.set_value("PL Review Cycle", pay.cycle, "is_trial", 1)
	with pytest.raises(frappe.ValidationError, match="trial"):
		api.payout_step(pay.run, "prepare")
	frappe.db.set_value("PL Review Cycle", pay.cycle, {"is_trial": 0, "status": "Calibration"})
	with pytest.raises(frappe.ValidationError, match="published cycle"):
		api.payout_step(pay.run, "prepare")
	assert not frappe.db.exists("PL Payout Line", {"payout_run": pay.run})


def test_refused_while_an_appeal_is_open_or_the_window_has_not_passed(pay):
	frappe.db.set_value(
		"PL Appraisal", pay.appraisals.A2, "published_on", now_datetime(), update_modified=False
	)
	with pytest.raises(frappe.ValidationError, match="appeal window"):
		api.payout_step(pay.run, "prepare")
	appeal = file_appeal(pay, "My days were miscounted.")
	frappe.db.set_value(
		"PL Appraisal", pay.appraisals.A2, "published_on", "2026-04-01", update_modified=False
	)
	with pytest.raises(frappe.ValidationError, match="still open"):
		api.payout_step(pay.run, "prepare")
	frappe.db.set_value("PL Appeal", appeal.name, "status", "Rejected")
	assert api.payout_step(pay.run, "prepare")["status"] == "Prepared"


# ---------------------------------------------------------------- drafts
def test_confirm_creates_drafts_lists_people_without_structure_and_is_idempotent(pay):
	api.payout_step(pay.run, "prepare")
	result = api.payout_step(pay.run, "confirm")
	assert result["created"] == 3
	assert result["without_salary_structure"] == [f"{pay.employees.B2}: _Test PL Pay B2"]
	made = {d.employee: d for d in drafts(pay.run)}
	assert {e: d.amount for e, d in made.items()} == {
		pay.employees[k]: EXPECTED[k] for k in ("A1", "A2", "B1")
	}
	for key in ("A1", "A2", "B1"):
		draft = made[pay.employees[key]]
		assert (draft.docstatus, draft.disabled, draft.salary_component) == (0, 0, COMPONENT)
		assert (draft.ref_doctype, draft.ref_docname) == ("PL Appraisal", pay.appraisals[key])
		assert str(draft.payroll_date) == "2026-04-30"
	by_person = lines(pay.run)
	assert by_person["B2"].status == "No Salary Structure" and not by_person["B2"].additional_salary
	run = frappe.get_doc("PL Payout Run", pay.run)
	assert run.status == "Confirmed" and run.drafts_created == 3
	assert pay.employees.B2 in run.without_salary_structure
	# a real draft: HR can submit it as it stands
	frappe.get_doc("Additional Salary", made[pay.employees.A1].name).submit()

	before = frappe.db.count("Additional Salary", {"ref_doctype": "PL Appraisal"})
	again = api.payout_step(pay.run, "confirm")
	assert again["created"] == 0
	assert frappe.db.count("Additional Salary", {"ref_doctype": "PL Appraisal"}) == before
	assert amounts(pay.run) == EXPECTED
	with pytest.raises(frappe.ValidationError, match="Confirmed"):
		api.payout_step(pay.run, "prepare")


def test_people_whose_assignment_ended_or_starts_later_are_listed_without_structure(pay):
	"""On the payroll date (2026-04-30): A1 is relieved on 2026-04-15; A2's assignment starts on 2026-05-01;
	B1's assignment was replaced on 2026-03-01 by one to a structure no longer active. None of them has an
	active salary structure then, so all are listed with B2 and no draft is made."""
	employees = pay.employees
	frappe.db.set_value("Employee", employees.A1, "relieving_date", "2026-04-15")
	frappe.db.set_value(
		"Salary Structure Assignment", {"employee": employees.A2, "docstatus": 1}, "from_date", "2026-05-01"
	)
	old = frappe.get_doc(
		{
			"doctype": "Salary Structure",
			"name": "_Test PL Pay Structure Retired",
			"company": COMPANY,
			"payroll_frequency": "Monthly",
			"currency": "CNY",
			"is_active": "Yes",
			"earnings": [{"salary_component": BASIC, "abbr": "TPLB", "amount": 4000}],
		}
	).insert(ignore_permissions=True)
	old.submit()
	later = frappe.get_doc(
		{
			"doctype": "Salary Structure Assignment",
			"employee": employees.B1,
			"salary_structure": old.name,
			"company": COMPANY,
			"currency": "CNY",
			"from_date": "2026-03-01",
			"base": 4000,
		}
	).insert(ignore_permissions=True)
	later.submit()
	frappe.db.set_value("Salary Structure", old.name, "is_active", "No")
	# before A1's relieving date his assignment still counts: the check is on the date, not on the person
	assert service.employees_with_salary_structure([employees.A1], "2026-04-10", COMPANY) == {employees.A1}

	api.payout_step(pay.run, "prepare")
	result = api.payout_step(pay.run, "confirm")
	assert result["created"] == 0
	assert sorted(result["without_salary_structure"]) == sorted(
		f"{employees[k]}: _Test PL Pay {k}" for k in ("A1", "A2", "B1", "B2")
	)
	assert {line.status for line in lines(pay.run).values()} == {"No Salary Structure"}
	assert not drafts(pay.run)


def test_upheld_appeal_after_confirmation_recreates_only_the_affected_drafts(pay):
	api.payout_step(pay.run, "prepare")
	api.payout_step(pay.run, "confirm")
	old = {r.employee: r.additional_salary for r in lines(pay.run).values()}
	# a late appeal the scheme owner admits
	appeal = file_appeal(pay, "Two recoveries were missed.")
	appeal.status = "Upheld"
	appeal.revised_score = 95
	appeal.resolution = "Recoveries of March counted."
	appeal.save()
	grade = frappe.db.get_value("PL Appraisal", pay.appraisals.A2, "final_grade")
	assert grade != "B"
	coefficient = {"S": 1.5, "A": 1.2}[grade]
	# Alpha stays pinned at its cap (4,714.29); A1 1.5 : A2 coefficient × 0.5
	a1 = 4714.29 * 1.5 / (1.5 + coefficient * 0.5)
	by_person = lines(pay.run)
	assert by_person["A1"].amount == pytest.approx(a1, abs=0.01)
	assert round(by_person["A1"].amount + by_person["A2"].amount, 2) == 4714.29
	assert (by_person["B1"].amount, by_person["B2"].amount) == (EXPECTED["B1"], EXPECTED["B2"])
	# Beta's draft is untouched; Alpha's are disabled and replaced, with the reason recorded
	assert by_person["B1"].additional_salary == old[pay.employees.B1] and not by_person["B1"].revision_note
	for key in ("A1", "A2"):
		line = by_person[key]
		assert line.additional_salary and line.additional_salary != old[pay.employees[key]]
		assert appeal.name in line.revision_note and old[pay.employees[key]] in line.revision_note
		assert frappe.db.get_value("Additional Salary", old[pay.employees[key]], "disabled") == 1
		new = frappe.db.get_value(
			"Additional Salary", line.additional_salary, ["amount", "disabled", "docstatus"]
		)
		assert new == (line.amount, 0, 0)
	run = frappe.get_doc("PL Payout Run", pay.run)
	assert appeal.name in run.log and run.total_amount == 10000
	live = frappe.db.count(
		"Additional Salary",
		{"ref_doctype": "PL Appraisal", "ref_docname": ("in", list(pay.appraisals.values())), "disabled": 0},
	)
	assert live == 3


def test_cancel_deletes_the_drafts(pay):
	api.payout_step(pay.run, "prepare")
	api.payout_step(pay.run, "confirm")
	names = [d.name for d in drafts(pay.run)]
	assert api.payout_step(pay.run, "cancel") == {"status": "Cancelled", "deleted": 3}
	assert not frappe.db.exists("Additional Salary", {"name": ("in", names)})
	assert frappe.db.get_value("PL Payout Run", pay.run, "status") == "Cancelled"


# ---------------------------------------------------------------- without HRMS
def test_without_hrms_the_run_prepares_and_exports_but_makes_no_drafts(pay):
	with patch.object(service, "hrms_installed", return_value=False):
		api.payout_step(pay.run, "prepare")
		assert amounts(pay.run) == EXPECTED
		with pytest.raises(frappe.ValidationError, match="HRMS is not installed"):
			api.payout_step(pay.run, "confirm")
		name, content = service.export(pay.run, "csv")
		assert name.endswith(".csv")
		text = content.decode("utf-8-sig")
		assert "3535.72" in text and "_Test PL Pay B2" in text and text.count("\n") == 5
		name, content = service.export(pay.run, "xlsx")
		assert name.endswith(".xlsx") and content[:2] == b"PK"
	assert frappe.db.get_value("PL Payout Run", pay.run, "status") == "Prepared"
	assert not drafts(pay.run)


# ---------------------------------------------------------------- plan versions
def test_plan_for_takes_the_latest_version_and_the_layer_first(pay):
	newer = make_plan("_Test PL Pay Plan 2026", effective_from="2026-01-01", pool_amount=20000)
	layer = make_plan("_Test PL Pay Plan Collection", effective_from="2025-06-01", layer="Collection")
	make_plan("_Test PL Pay Plan Later", effective_from="2026-06-01")
	assert payout_plan.plan_for(COMPANY, None, "2026-03-31") == newer
	assert payout_plan.plan_for(COMPANY, "Collection", "2026-03-31") == layer
	assert payout_plan.plan_for(COMPANY, "Risk Control", "2026-03-31") == newer
	with pytest.raises(frappe.ValidationError, match="already takes effect"):
		make_plan("_Test PL Pay Plan Twin", effective_from="2026-01-01")


# ---------------------------------------------------------------- one step of a run at a time
def test_a_step_is_refused_while_another_holds_the_run(pay):
	"""A second click (or a second HR manager) while a step of the same run runs gets 409, not a second
	run; once the first is done the step runs."""
	import pymysql

	from postloan_performance.services import locks

	other = pymysql.connect(
		host=frappe.conf.db_host or "127.0.0.1",
		port=int(frappe.conf.db_port or 3306),
		user=frappe.conf.db_user or frappe.conf.db_name,
		password=frappe.conf.db_password,
		database=frappe.conf.db_name,
	)
	try:
		with other.cursor() as cursor:
			cursor.execute("select get_lock(%s, 0)", (locks.lock_name("payout", pay.run),))
			assert cursor.fetchone()[0] == 1
		with pytest.raises(locks.AlreadyRunning):
			api.payout_step(pay.run, "prepare")
		assert not frappe.db.count("PL Payout Line", {"payout_run": pay.run})
		assert frappe.db.get_value("PL Payout Run", pay.run, "status") != "Prepared"
	finally:
		other.close()  # the server frees the lock with the session
	assert api.payout_step(pay.run, "prepare")["status"] == "Prepared"
	assert frappe.db.count("PL Payout Line", {"payout_run": pay.run}) == 4


# ---------------------------------------------------------------- who sees what (REST)
@pytest.fixture(scope="module")
def rest_run(world):
	"""A committed, confirmed run over the permission world (removed afterwards)."""
	frappe.set_user("Administrator")
	cycle = make_cycle("_Test PL Pay REST Cycle", [world.teams.north, world.teams.north1, world.teams.risk])
	emp, teams = world.employees, world.teams
	appraisals = {
		"ada": make_appraisal(emp.ada, teams.north1, cycle),
		"bo": make_appraisal(emp.bo, teams.north, cycle),
		"lena": make_appraisal(emp.lena, teams.north, cycle),
		"chen": make_appraisal(emp.chen, teams.risk, cycle),
	}
	for key, name in appraisals.items():
		publish(name, "B", 70 + len(key))
	frappe.db.set_value("PL Review Cycle", cycle, "status", "Published")
	make_salary_setup([])
	plan = make_plan("_Test PL Pay REST Plan", team_split="Equal per Head")
	run = make_run(plan, cycle)
	service.prepare(run)
	frappe.db.commit()
	yield frappe._dict(run=run, cycle=cycle, plan=plan, appraisals=appraisals)
	frappe.db.rollback()
	frappe.set_user("Administrator")
	frappe.db.delete("PL Payout Line", {"payout_run": run})
	frappe.db.delete("PL Payout Run", {"name": run})
	frappe.db.delete("PL Incentive Plan", {"name": plan})
	for name in appraisals.values():
		frappe.db.delete("PL Appraisal KPI", {"parent": name})
		frappe.db.delete("PL Appraisal", {"name": name})
	frappe.db.delete("PL Review Cycle Team", {"parent": cycle})
	frappe.db.delete("PL Review Cycle Template", {"parent": cycle})
	frappe.db.delete("PL Review Cycle", {"name": cycle})
	frappe.db.commit()


def rest_lines(client, run) -> set[str]:
	query = (
		f"?fields={quote(json.dumps(['employee']))}&filters={quote(json.dumps([['payout_run', '=', run]]))}"
	)
	response = client.get(LINE + query + "&limit_page_length=0")
	assert response.status_code == 200, response.get_data(as_text=True)[:300]
	return {row["employee"] for row in response.json["data"]}


def rest_team_rows(client, run) -> set[str]:
	"""The Teams rows of `run` that `client` reads, from the run document and from the child table's list
	(/api/resource/PL Payout Team?parent=PL Payout Run): both must agree."""
	document = client.get(f"{RUN}/{quote(run)}")
	assert document.status_code == 200, document.get_data(as_text=True)[:300]
	from_document = {row["pl_team"] for row in document.json["data"]["teams"]}
	query = (
		f"?parent={quote('PL Payout Run')}&fields={quote(json.dumps(['pl_team', 'amount', 'parent']))}"
		f"&filters={quote(json.dumps([['parent', '=', run]]))}&limit_page_length=0"
	)
	listed = client.get(TEAM + query)
	assert listed.status_code == 200, listed.get_data(as_text=True)[:300]
	from_list = {row["pl_team"] for row in listed.json["data"]}
	assert from_document == from_list
	return from_document


def test_roles_see_payout_rows_as_the_plan_allows(world, rest, rest_run):
	emp, users = world.employees, world.users
	manager, ada, lena, rui = (rest(users[k]) for k in ("manager", "ada", "lena", "rui"))
	assert rest_lines(manager, rest_run.run) == {emp.ada, emp.bo, emp.lena, emp.chen}
	# before confirmation nobody but the scheme owner sees a line
	assert rest_lines(ada, rest_run.run) == set()
	assert rest_lines(lena, rest_run.run) == set()
	# the scheme owner may not confirm; a team leader may not prepare
	assert (
		manager.post(
			"/api/method/postloan_performance.api.payout_step", json={"run": rest_run.run, "step": "confirm"}
		).status_code
		== 403
	)
	assert (
		lena.post(
			"/api/method/postloan_performance.api.payout_step", json={"run": rest_run.run, "step": "prepare"}
		).status_code
		== 403
	)

	service.confirm(rest_run.run)  # as Administrator (an HR Manager's step)
	frappe.db.commit()
	assert rest_lines(ada, rest_run.run) == {emp.ada}
	# Lena leads North and North 1; of the lines she reads only her own (their totals: Payout Preview)
	assert rest_lines(lena, rest_run.run) == {emp.lena}
	north, north1, risk = world.teams.north, world.teams.north1, world.teams.risk
	assert rest_team_rows(manager, rest_run.run) == {north, north1, risk}
	assert rest_team_rows(rest(users["executive"]), rest_run.run) == {north, north1, risk}
	# leaders and appraisees read no run: its Teams rows hold every team's total, and whoever reads a run
	# may join, filter and count its child rows (get_list with child fields), which no row rule can narrow
	child_fields = quote(
		json.dumps(["name", "`tabPL Payout Team`.`pl_team`", "`tabPL Payout Team`.`amount`"])
	)
	child_filter = quote(json.dumps([["PL Payout Team", "amount", ">", 0]]))
	for client in (lena, rui, ada):
		assert client.get(f"{RUN}/{quote(rest_run.run)}").status_code == 403
		assert client.get(f"{RUN}?fields={child_fields}").status_code == 403
		assert client.get(f"{TEAM}?parent={quote('PL Payout Run')}&fields={child_fields}").status_code == 403
		count = client.post(
			"/api/method/frappe.client.get_count",
			json={"doctype": "PL Payout Run", "filters": json.loads(unquote(child_filter))},
		)
		assert count.status_code == 403 or count.json.get("message") == 0
	assert emp.ada in manager.get(f"{RUN}/{quote(rest_run.run)}").json["data"]["without_salary_structure"]
	ada_line = frappe.db.get_value("PL Payout Line", {"payout_run": rest_run.run, "employee": emp.ada})
	assert rui.get(f"{LINE}/{quote(ada_line)}").status_code == 403
	assert lena.get(f"{LINE}/{quote(ada_line)}").status_code == 403
	assert ada.get(f"{LINE}/{quote(ada_line)}").status_code == 200

	# a plan that lets leaders see individual amounts: Lena sees her teams' people, not Risk's
	frappe.db.sql("update `tabPL Payout Line` set leader_visible = 1 where payout_run = %s", rest_run.run)
	frappe.db.commit()
	assert rest_lines(lena, rest_run.run) == {emp.ada, emp.bo, emp.lena}
	assert lena.get(f"{LINE}/{quote(ada_line)}").status_code == 200
	assert rest_lines(rui, rest_run.run) == {emp.chen}  # Rui leads Risk

	# the export is for the people who pay: the scheme owner gets the file, an appraisee a 403
	export = "/api/method/postloan_performance.api.export_payout"
	response = manager.get(f"{export}?run={quote(rest_run.run)}&file_format=csv")
	assert response.status_code == 200, response.get_data(as_text=True)[:300]
	assert "_Test" in response.get_data().decode("utf-8-sig")
	assert ada.get(f"{export}?run={quote(rest_run.run)}&file_format=csv").status_code == 403
	assert lena.get(f"{export}?run={quote(rest_run.run)}&file_format=xlsx").status_code == 403
	# the number card shows the last confirmed pool to whoever may read that run, and to nobody else
	card = "/api/method/postloan_performance.api.last_payout_pool"
	pool = frappe.db.get_value("PL Payout Run", rest_run.run, "pool")
	response = manager.get(card)
	assert response.status_code == 200 and response.json["message"]["value"] == pool
	assert rui.get(card).status_code == 403  # the run's pool is for those who read runs


def rest_report(client, run) -> list[dict]:
	response = client.post(
		"/api/method/frappe.desk.query_report.run",
		json={
			"report_name": "Payout Preview",
			"filters": json.dumps({"payout_run": run}),
			"are_default_filters": False,
		},
	)
	assert response.status_code == 200, response.get_data(as_text=True)[:300]
	return response.json["message"]["result"]


def report_view(rows: list[dict]) -> tuple[set[str], set[str], set[str]]:
	"""(people, teams with a total row, other total rows) of a Payout Preview result."""
	people = {row["employee"] for row in rows if row.get("employee")}
	teams = {row["pl_team"] for row in rows if row.get("bold") and row.get("pl_team")}
	others = {row["employee_name"] for row in rows if row.get("bold") and not row.get("pl_team")}
	return people, teams, others


def test_payout_preview_shows_leaders_their_teams_and_appraisees_their_line(world, rest, rest_run):
	emp, users = world.employees, world.users
	north, north1, risk = world.teams.north, world.teams.north1, world.teams.risk
	if frappe.db.get_value("PL Payout Run", rest_run.run, "status") != "Confirmed":
		service.confirm(rest_run.run)
	frappe.db.sql("update `tabPL Payout Line` set leader_visible = 0 where payout_run = %s", rest_run.run)
	frappe.db.commit()
	manager, lena, rui, ada = (rest(users[k]) for k in ("manager", "lena", "rui", "ada"))
	people, teams, others = report_view(rest_report(manager, rest_run.run))
	assert people == {emp.ada, emp.bo, emp.lena, emp.chen} and teams == {north, north1, risk}
	assert {"Total", "Pool"} <= others
	# a team leader: his teams' totals and his own line; no other team, no pool or grand total
	assert report_view(rest_report(lena, rest_run.run)) == ({emp.lena}, {north, north1}, set())
	assert report_view(rest_report(rui, rest_run.run)) == (set(), {risk}, set())
	# an appraisee: his own line only
	assert report_view(rest_report(ada, rest_run.run)) == ({emp.ada}, set(), set())
	# a plan that lets leaders see individual amounts: their teams' people, still not the others'
	frappe.db.sql("update `tabPL Payout Line` set leader_visible = 1 where payout_run = %s", rest_run.run)
	frappe.db.commit()
	assert report_view(rest_report(lena, rest_run.run))[0] == {emp.ada, emp.bo, emp.lena}
	assert report_view(rest_report(rui, rest_run.run))[0] == {emp.chen}
	assert report_view(rest_report(ada, rest_run.run))[0] == {emp.ada}
