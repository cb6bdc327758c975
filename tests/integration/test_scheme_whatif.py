"""Scheme what-if over generated data: a draft version run against a past cycle gives the results a real
trial cycle with that version gives on the same period and data, leaves every appraisal alone, runs in
the background when large, and feeds the comparison report; KPI Health's targets go onto a draft.

Generated data (postloan_performance.datagen, seed 11): a past cycle for 2026 Q1 computed with the default
templates and then closed; a draft version of "Collection - Default" with other grade bands and weights;
a trial cycle for the same quarter using the draft for Collection, computed. Nothing is committed: the data
is built once per module, each test rolls back to a savepoint. Access over REST is in
test_scheme_whatif_access.py.
"""

from __future__ import annotations

import pytest

import frappe
from frappe.desk import query_report

from postloan_performance import api
from postloan_performance.datagen import generate
from postloan_performance.services import scheme_whatif, whatif_payout
from postloan_performance.services.dataset_loader import load_dataset
from tests.integration.factories import COMPANY, make_user

TEMPLATE = "PL KPI Template"
WHAT_IF = "PL Scheme What-If"
REPORT = "Scheme What-If Comparison"
PAST, TRIAL = "_Test PL WI Q1", "_Test PL WI Q1 Trial"
LAYERS = ("Management", "Collection", "Risk Control", "Customer Service")
PERIOD = ("2026-01-01", "2026-03-31")
BASELINE = ("2025-10-01", "2025-12-31")
SAVEPOINT = "plp_whatif_test"
LOCK_ERRORS = (frappe.QueryTimeoutError, frappe.QueryDeadlockError)


def make_cycle(name: str, is_trial: int, templates: dict[str, str], teams: list[str]) -> str:
	cycle = frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": name,
			"company": COMPANY,
			"is_trial": is_trial,
			"period_start": PERIOD[0],
			"period_end": PERIOD[1],
			"baseline_start": BASELINE[0],
			"baseline_end": BASELINE[1],
			"templates": [{"layer": layer, "template": templates[layer]} for layer in LAYERS],
			"teams": [{"pl_team": t} for t in teams],
		}
	).insert()
	for step in ("open", "create_appraisals", "start_self_review", "compute"):
		api.cycle_step(cycle.name, step)
	return cycle.name


def draft_version() -> str:
	"""A draft of Collection - Default that grades differently: lower grade bands, other weights."""
	v2 = frappe.get_doc(TEMPLATE, frappe.get_doc(TEMPLATE, "Collection - Default").new_version())
	for band in v2.grade_bands:
		band.min_score = {"S": 85, "A": 70, "B": 50, "C": 40}.get(band.grade, band.min_score)
	heavy, light = v2.items[0], v2.items[-1]
	shift = min(10, light.weight - 5)
	heavy.weight += shift
	light.weight -= shift
	v2.save()
	return v2.name


def build() -> frappe._dict:
	frappe.set_user("Administrator")
	ds = generate(seed=11, start="2025-07-01", months=12, n_loans=300)
	load_dataset(ds, COMPANY)
	teams = list(ds.teams.team_name)
	defaults = {layer: f"{layer} - Default" for layer in LAYERS}
	past = make_cycle(PAST, 0, defaults, teams)
	frappe.db.set_value("PL Review Cycle", past, "status", "Closed")  # a past cycle: no recompute allowed
	version = draft_version()
	trial = make_cycle(TRIAL, 1, {**defaults, "Collection": version}, teams)
	users = frappe._dict(
		manager=make_user("wi-manager@plp.test", ["PL Performance Manager"]),
		executive=make_user("wi-executive@plp.test", ["PL Executive"]),
	)
	return frappe._dict(past=past, trial=trial, version=version, users=users)


@pytest.fixture(scope="module")
def data(site):
	frappe.db.rollback()
	for attempt in range(3):
		try:
			built = build()
			break
		except LOCK_ERRORS:
			frappe.db.rollback()
			if attempt == 2:
				raise
	yield built
	frappe.db.rollback()
	frappe.set_user("Administrator")


@pytest.fixture(autouse=True)
def rollback(site):
	"""Overrides the conftest's: roll back to a savepoint, so that the module's data outlives each test."""
	frappe.set_user("Administrator")
	frappe.db.savepoint(SAVEPOINT)
	yield
	frappe.db.rollback(save_point=SAVEPOINT)
	frappe.set_user("Administrator")


def appraisal_state() -> dict:
	"""Every appraisal and KPI line with its results and modified stamp."""
	headers = frappe.get_all(
		"PL Appraisal",
		fields=["name", "modified", "total_score", "grade", "final_grade", "status"],
		limit_page_length=0,
	)
	lines = frappe.get_all(
		"PL Appraisal KPI",
		filters={"parenttype": "PL Appraisal"},
		fields=["name", "modified", "actual", "score"],
		limit_page_length=0,
	)
	return {"headers": {h.name: h for h in headers}, "lines": {line.name: line for line in lines}}


def run_what_if(data, template: str | None = None) -> str:
	frappe.set_user(data.users.manager)
	try:
		result = frappe.get_doc(TEMPLATE, template or data.version).what_if(data.past)
	finally:
		frappe.set_user("Administrator")
	assert result["status"] == "Completed"
	return result["name"]


def test_what_if_equals_a_trial_cycle_with_the_version_and_touches_no_appraisal(data):
	before = appraisal_state()
	name = run_what_if(data)
	assert appraisal_state() == before  # no appraisal created, changed or recomputed

	rows = scheme_whatif.results(name)
	trial = {
		a.employee: a
		for a in frappe.get_all(
			"PL Appraisal",
			filters={"review_cycle": data.trial, "layer": "Collection"},
			fields=["name", "employee", "quantitative_score", "total_score", "grade"],
		)
	}
	past = {
		a.employee: a
		for a in frappe.get_all(
			"PL Appraisal",
			filters={"review_cycle": data.past, "layer": "Collection"},
			fields=["employee", "total_score", "grade", "final_grade"],
		)
	}
	assert len(rows) == len(trial) == len(past) > 5
	trial_lines = {
		(line.parent, line.kpi): line
		for line in frappe.get_all(
			"PL Appraisal KPI",
			filters={"parent": ("in", [a.name for a in trial.values()])},
			fields=["parent", "kpi", "actual", "no_data", "score"],
		)
	}
	for row in rows:
		real = trial[row["employee"]]
		assert row["score"] == pytest.approx(real.total_score, abs=1e-6), row["employee"]
		assert row["quantitative_score"] == pytest.approx(real.quantitative_score, abs=1e-6)
		assert row["grade"] == real.grade, row["employee"]
		for k in row["kpis"]:
			line = trial_lines[(real.name, k["kpi"])]
			assert (k["actual"] is None) == bool(line.no_data)
			if k["actual"] is not None:
				assert k["actual"] == pytest.approx(line.actual, abs=1e-6)
				assert k["score"] == pytest.approx(line.score, abs=1e-6)
		# the baseline is the past cycle's stored results
		assert row["baseline_score"] == pytest.approx(past[row["employee"]].total_score, abs=1e-6)
		assert row["baseline_grade"] == past[row["employee"]].grade
	# the version changes grades for somebody, so the comparison is not vacuous
	assert any(r["grade"] != r["baseline_grade"] for r in rows), [
		(r["baseline_score"], r["baseline_grade"], r["score"], r["grade"]) for r in rows
	]
	doc = frappe.get_doc(WHAT_IF, name)
	assert (doc.status, doc.subjects, doc.layer, doc.run_by) == (
		"Completed",
		len(rows),
		"Collection",
		data.users.manager,
	)
	assert doc.moved_up + doc.moved_down == sum(r["grade"] != r["baseline_grade"] for r in rows)
	assert doc.run_seconds > 0
	# forced distribution: the version uses it, so each person has a proposed grade by rank
	assert all(r["forced_grade"] for r in rows)


def test_large_runs_are_queued_and_the_job_stores_the_results(data, monkeypatch):
	queued = []
	monkeypatch.setattr(scheme_whatif, "SYNC_LIMIT", 0)
	monkeypatch.setattr(frappe, "enqueue", lambda method, **kwargs: queued.append((method, kwargs)))
	frappe.set_user(data.users.manager)
	result = frappe.get_doc(TEMPLATE, data.version).what_if(data.past)
	frappe.set_user("Administrator")
	queued = [q for q in queued if q[0].startswith("postloan_performance.services.scheme_whatif")]
	assert result["status"] == "Queued" and len(queued) == 1
	method, kwargs = queued[0]
	assert method == "postloan_performance.services.scheme_whatif.execute"
	assert kwargs["job_id"] == scheme_whatif.job_id(result["name"]) and kwargs["queue"] == "long"
	assert frappe.db.get_value(WHAT_IF, result["name"], "status") == "Queued"
	assert not scheme_whatif.results(result["name"])

	published = []
	monkeypatch.setattr(frappe, "publish_progress", lambda percent, **kw: published.append(percent))
	scheme_whatif.execute(result["name"], publish_progress=True)  # what the worker runs (without commits)
	assert frappe.db.get_value(WHAT_IF, result["name"], "status") == "Completed"
	assert len(scheme_whatif.results(result["name"])) == result["subjects"]
	assert published and published[-1] == 100


def run_report(user: str, **filters) -> frappe._dict:
	frappe.set_user(user)
	try:
		return frappe._dict(query_report.run(REPORT, filters=filters))
	finally:
		frappe.set_user("Administrator")


def test_the_comparison_report_rows(data):
	name = run_what_if(data)
	rows = scheme_whatif.results(name)
	order = scheme_whatif.grade_order(data.version)

	dist = run_report(data.users.manager, what_if=name, view="Distribution").result
	total = next(r for r in dist if not r["pl_team"])
	assert total["people"] == len(rows)
	for grade in order:
		assert total[f"before_{grade}"] == sum(r["baseline_grade"] == grade for r in rows)
		assert total[f"after_{grade}"] == sum(r["grade"] == grade for r in rows)
		assert total[f"forced_{grade}"] == sum(r["forced_grade"] == grade for r in rows)
	team_rows = [r for r in dist if r["pl_team"]]
	assert sum(r["people"] for r in team_rows) == len(rows)
	for team_row in team_rows:
		members = [r for r in rows if r["pl_team"] == team_row["pl_team"]]
		assert team_row["mean_after"] == pytest.approx(sum(r["score"] for r in members) / len(members))

	moved = [r for r in rows if r["grade"] != r["baseline_grade"]]
	named = run_report(data.users.manager, what_if=name, view="Grade Moves").result
	assert sorted(r["employee"] for r in named) == sorted(r["employee"] for r in moved)
	assert all(r["employee_name"] for r in named)

	counted = run_report(data.users.executive, what_if=name, view="Grade Moves")
	assert sum(r["people"] for r in counted.result) == len(moved)
	fields = {c["fieldname"] for c in counted.columns}
	assert not fields & {"employee", "employee_name"}
	assert not any("employee" in r for r in counted.result)

	kpi_rows = run_report(data.users.manager, what_if=name, view="KPIs").result
	version_kpis = {i.kpi for i in frappe.get_doc(TEMPLATE, data.version).items}
	assert {r["kpi"] for r in kpi_rows} == version_kpis
	for r in kpi_rows:
		assert r["stops_discriminating"] == int(
			bool(r["discriminates_before"]) and not r["discriminates_after"]
		)


def make_incentive_plan(name: str, coefficients: dict[str, float] | None = None, **values) -> str:
	"""A Collection plan of the test company (inside the test's savepoint)."""
	doc = frappe.get_doc(
		{
			"doctype": "PL Incentive Plan",
			"plan_name": name,
			"company": COMPANY,
			"layer": "Collection",
			"effective_from": "2025-01-01",
			"pool_basis": "Fixed Amount",
			"pool_amount": 10000,
			"team_split": "Weighted by Team Score",
			"team_floor": 0,
			"team_cap": 10,
			"payroll_date_rule": "Last Day of Next Month",
			"grade_coefficients": [
				{"grade": grade, "coefficient": value} for grade, value in (coefficients or {}).items()
			],
			**values,
		}
	).insert(ignore_permissions=True)
	return doc.name


def amounts(result) -> dict[str, float]:
	return {t["team"]: round(float(t["amount"]), 2) for t in result.teams.to_dict("records")}


def test_payout_after_a_what_if_is_the_payout_of_a_trial_cycle_with_the_version(data):
	"""With every grade worth the same, a team's share follows its mean score only: the what-if's payout
	(after) is the trial cycle's payout, and its payout before is the past cycle's."""
	frappe.db.set_value("PL Incentive Plan", {"company": COMPANY}, "disabled", 1)
	plan = make_incentive_plan("_Test PL WI Plan Flat", {g: 1 for g in ("S", "A", "B", "C", "D")})
	name = run_what_if(data)
	assert whatif_payout.plan_for(data.past, "Collection") == plan
	result = whatif_payout.effect(data.past, "Collection", scheme_whatif.results(name), plan)
	before = {t["team"]: round(t["amount_before"], 2) for t in result["teams"]}
	after = {t["team"]: round(t["amount_after"], 2) for t in result["teams"]}
	assert before == amounts(whatif_payout.cycle_payout(data.past, plan))
	assert after == amounts(whatif_payout.cycle_payout(data.trial, plan))
	assert before != after, "the version moves no money between teams"
	assert result["paid_before"] == result["paid_after"] == result["pool"] == 10000
	assert sum(after.values()) == pytest.approx(10000)


def test_payout_view_of_the_comparison_report(data):
	frappe.db.set_value("PL Incentive Plan", {"company": COMPANY}, "disabled", 1)
	name = run_what_if(data)
	none = run_report(data.users.executive, what_if=name, view="Payout")
	assert none.result == [] and "No enabled incentive plan" in none.message

	# nobody is worth anything: the whole pool stays unallocated on both sides
	nothing = make_incentive_plan("_Test PL WI Plan Zero", {g: 0 for g in ("S", "A", "B", "C", "D")})
	zero = run_report(data.users.manager, what_if=name, view="Payout", incentive_plan=nothing)
	totals = {s["label"]: s["value"] for s in zero.report_summary}
	assert totals["Paid Before"] == totals["Paid After"] == 0
	assert totals["Unallocated Before"] == totals["Unallocated After"] == 10000

	frappe.db.set_value("PL Incentive Plan", nothing, "disabled", 1)
	plan = make_incentive_plan("_Test PL WI Plan", {"S": 1.5, "A": 1.2, "B": 1.0, "C": 0.7, "D": 0.0})
	seen = run_report(data.users.executive, what_if=name, view="Payout")
	fields = {c["fieldname"] for c in seen.columns}
	assert not fields & {"employee", "employee_name"}, "the executive sees team amounts only"
	teams = [r for r in seen.result if r["pl_team"]]
	total = next(r for r in seen.result if not r["pl_team"])
	expected = whatif_payout.effect(data.past, "Collection", scheme_whatif.results(name), plan)
	assert {r["pl_team"] for r in teams} == {t["team"] for t in expected["teams"]}
	assert total["amount_before"] == pytest.approx(sum(r["amount_before"] for r in teams))
	assert total["amount_after"] == pytest.approx(sum(r["amount_after"] for r in teams))
	summary = {s["label"]: s["value"] for s in seen.report_summary}
	assert summary["Incentive Plan"] == plan
	for side in ("Before", "After"):
		assert summary[f"Paid {side}"] + summary[f"Unallocated {side}"] == pytest.approx(10000)


def test_a_kpi_that_everyone_maxes_stops_discriminating(data):
	"""A version whose target every actual beats scores everyone at 100: the report flags it."""
	from postloan_performance.services.reports import kpi_health

	health, _names = kpi_health.evaluate({"review_cycle": data.past, "layer": "Collection"})
	telling = {h.kpi for h in health if not h.does_not_discriminate}
	# the trial cycle uses the version, so it cannot be edited: a next draft of it can
	doc = frappe.get_doc(TEMPLATE, frappe.get_doc(TEMPLATE, data.version).new_version())
	item = next(i for i in doc.items if i.scoring_method in ("Linear", None, "") and i.kpi in telling)
	lowest = frappe.db.sql(
		"""select min(actual), max(actual) from `tabPL Appraisal KPI` l join `tabPL Appraisal` a on a.name = l.parent
		where a.review_cycle = %s and l.kpi = %s and l.no_data = 0""",
		(data.past, item.kpi),
	)[0]
	if item.direction == "Lower is Better":
		item.threshold, item.target = lowest[1] + 20, lowest[1] + 10
	else:
		item.threshold, item.target = lowest[0] - 20, lowest[0] - 10
	item.use_stretch = 0
	doc.save()
	name = run_what_if(data, doc.name)
	kpi_rows = {r["kpi"]: r for r in run_report(data.users.manager, what_if=name, view="KPIs").result}
	row = kpi_rows[item.kpi]
	assert row["discriminates_before"] == 1, row
	assert (row["discriminates_after"], row["stops_discriminating"]) == (0, 1)
	assert row["stdev_after"] == pytest.approx(0, abs=1e-9)


def test_kpi_health_targets_go_onto_a_draft_version_in_one_step(data):
	from postloan_performance.services.reports import kpi_health

	health, _names = kpi_health.evaluate({"review_cycle": data.past, "layer": "Collection"})
	suggested = {h.kpi: h.suggested_target for h in health if h.suggested_target is not None}
	doc = frappe.get_doc(TEMPLATE, frappe.get_doc(TEMPLATE, data.version).new_version())
	before = {i.kpi: (i.threshold, i.target, i.stretch) for i in doc.items}
	frappe.set_user(data.users.manager)
	result = doc.apply_suggested_targets(data.past)
	frappe.set_user("Administrator")
	doc.reload()
	changed = {c["kpi"] for c in result["changed"]}
	assert changed, "some suggested target differs from the current one"
	for item in doc.items:
		if item.kpi in changed:
			assert item.target == pytest.approx(suggested[item.kpi], abs=1e-6)
			shift = item.target - before[item.kpi][1]
			if item.scoring_method == "Linear":
				assert item.threshold == pytest.approx(before[item.kpi][0] + shift, abs=1e-6)
		else:
			assert (item.threshold, item.target, item.stretch) == before[item.kpi]

	active = frappe.get_doc(TEMPLATE, "Collection - Default")
	with pytest.raises(frappe.ValidationError, match="draft version"):
		active.apply_suggested_targets(data.past)


@pytest.mark.parametrize("layer", LAYERS)
def test_a_what_if_of_the_version_the_cycle_used_reproduces_its_results(data, layer):
	name = run_what_if(data, f"{layer} - Default")
	rows = scheme_whatif.results(name)
	assert rows, layer
	for row in rows:
		assert row["score"] == pytest.approx(row["baseline_score"], abs=1e-6), row["employee"]
		assert row["grade"] == row["baseline_grade"], row["employee"]
	assert frappe.db.get_value(WHAT_IF, name, ["moved_up", "moved_down"]) == (0, 0)
