"""The five appraisal-side Script Reports, run through frappe.desk.query_report.run as each role.

KPI Achievement, Team Performance Summary, Scheme Effect Evaluation, Scheme Satisfaction and KPI
Health, over generated data (postloan_performance.datagen, seed 11): a trial cycle (2026 Q1) and a
formal cycle (2026 Q2, baseline = Q1) run to Published, with satisfaction surveys. Expected values are
recomputed in the test from the stored appraisal rows and KPI lines, from the generated frames, or by
hand.

Nothing is committed: the data is built once per module inside one transaction (`data`), each test
rolls back to a savepoint (this module's `rollback` overrides the conftest's), and the transaction is
rolled back at the end of the module. Timings of each report are printed at the end (run with -s).
"""

from __future__ import annotations

import html
import json
import math
import random
import statistics
import time
from collections import defaultdict

import pandas as pd
import pytest

import frappe
from frappe.desk import query_report
from frappe.model.workflow import apply_workflow

from postloan_performance import api
from postloan_performance.datagen import generate
from postloan_performance.engine import metrics as engine_metrics
from postloan_performance.engine import stats
from postloan_performance.services.dataset_loader import load_dataset
from postloan_performance.services.reports import scheme_effect_evaluation
from tests.integration.factories import COMPANY, make_user

KPI_ACHIEVEMENT = "KPI Achievement"
TEAM_SUMMARY = "Team Performance Summary"
SCHEME_EFFECT = "Scheme Effect Evaluation"
SATISFACTION = "Scheme Satisfaction"
KPI_HEALTH = "KPI Health"
REPORTS = (KPI_ACHIEVEMENT, TEAM_SUMMARY, SCHEME_EFFECT, SATISFACTION, KPI_HEALTH)
HIGHER, LOWER = "Higher is Better", "Lower is Better"
LAYERS = ("Management", "Collection", "Risk Control", "Customer Service")
C1, C2, RISK, CS, MGMT = (
	"Demo Collection 01",
	"Demo Collection 02",
	"Demo Risk Control 01",
	"Demo Customer Service 01",
	"Demo Management 01",
)
TRIAL, FORMAL = "_Test PL RPT Trial", "_Test PL RPT Q2"
NPL = ("Substandard", "Doubtful", "Loss")

# Survey answers of the formal cycle: (fairness, clarity, motivation, workload, suggestion) per team.
# Risk (2) and Customer Service (1) are too small alone and are shown together as "Other teams".
SURVEY = {
	C1: [
		(5, 4, 4, 3, "Clearer targets for the cure rate"),
		(4, 4, 5, 2, ""),
		(3, 3, 4, 2, "Fewer KPIs please"),
		(5, 5, 5, 4, None),
	],
	C2: [
		(2, 3, 3, 1, "<script>alert('x')</script> & the workload is too high"),
		(3, 4, 2, 2, "  "),
		(4, 3, 3, 3, "Publish the scores earlier"),
	],
	RISK: [(4, 4, 4, 4, "More weight on report quality"), (5, 4, 3, 3, "")],
	CS: [(1, 2, 2, 1, "The NPS target is unrealistic")],
}
TRIAL_SURVEY = {C1: [(3, 3, 3, 3, ""), (4, 3, 3, 2, "Too early to say"), (2, 3, 4, 3, "")]}
QUESTIONS = ("fairness", "clarity", "motivation", "workload")

TIMINGS: dict[str, list[float]] = defaultdict(list)
SAVEPOINT = "plp_report_test"
LOCK_ERRORS = (frappe.QueryTimeoutError, frappe.QueryDeadlockError)


@pytest.fixture(scope="module")
def data(site):
	"""The module's data, built once in the open transaction and rolled back after the last test."""
	frappe.db.rollback()
	start = time.perf_counter()
	built = build_retrying()
	TIMINGS["(build the data)"].append(time.perf_counter() - start)
	yield built
	frappe.db.rollback()
	frappe.set_user("Administrator")


@pytest.fixture(autouse=True)
def no_report_error_logs(monkeypatch):
	"""query_report.run logs every exception as an Error Log, a MyISAM table that no rollback undoes:
	the errors provoked here on purpose must not litter the site."""
	log_error = frappe.log_error

	def quiet(title=None, *args, **kwargs):
		return None if title == "Report Error" else log_error(title, *args, **kwargs)

	monkeypatch.setattr(frappe, "log_error", quiet)


@pytest.fixture(autouse=True)
def rollback(site):
	"""Overrides the conftest's: roll back to a savepoint, so that the module's data outlives each test."""
	frappe.set_user("Administrator")
	frappe.db.savepoint(SAVEPOINT)
	yield
	frappe.db.rollback(save_point=SAVEPOINT)
	frappe.set_user("Administrator")


@pytest.fixture(scope="module", autouse=True)
def report_timings():
	yield TIMINGS
	if TIMINGS:
		print("\nTimings in seconds (median / max over the runs):")
		for name, times in TIMINGS.items():
			print(f"  {name}: {statistics.median(times):.3f} / {max(times):.3f} ({len(times)} runs)")


def run(report: str, user: str | None = None, **filters) -> frappe._dict:
	frappe.set_user(user or "Administrator")
	start = time.perf_counter()
	try:
		result = frappe._dict(query_report.run(report, filters=filters))
	finally:
		frappe.set_user("Administrator")
	TIMINGS[report].append(time.perf_counter() - start)  # successful runs only
	return result


def fieldnames(result) -> list[str]:
	return [c["fieldname"] for c in result.columns]


def summary_of(result) -> dict:
	return {item["label"]: item["value"] for item in result.report_summary}


# ---------------------------------------------------------------- the data
def run_cycle(ds, name, start, end, baseline, is_trial, survey) -> str:
	cycle = frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": name,
			"company": COMPANY,
			"is_trial": is_trial,
			"period_start": start,
			"period_end": end,
			"baseline_start": baseline[0],
			"baseline_end": baseline[1],
			"templates": [{"layer": layer, "template": f"{layer} - Default"} for layer in LAYERS],
			"teams": [{"pl_team": t} for t in ds.teams.team_name],
		}
	).insert()
	for step in ("open", "create_appraisals", "start_self_review"):
		api.cycle_step(cycle.name, step)
	appraisals = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle.name},
		fields=["name", "employee", "pl_team"],
		order_by="employee asc",
	)
	by_team = defaultdict(list)
	for a in appraisals:
		by_team[a.pl_team].append(a.employee)
	for team, answers in survey.items():
		for employee, (fairness, clarity, motivation, workload, suggestion) in zip(
			by_team[team], answers, strict=False
		):
			frappe.get_doc(
				{
					"doctype": "PL Satisfaction Survey",
					"review_cycle": cycle.name,
					"respondent": employee,
					"pl_team": team,
					"fairness": fairness,
					"clarity": clarity,
					"motivation": motivation,
					"workload": workload,
					"suggestion": suggestion,
				}
			).insert()
	api.cycle_step(cycle.name, "compute")
	for a in appraisals:
		for action in ("Skip Self Review", "Skip Manager Review"):
			apply_workflow(json.dumps({"doctype": "PL Appraisal", "name": a.name}), action)
	for step in ("start_scoring", "compute", "start_calibration", "approve_all", "publish"):
		api.cycle_step(cycle.name, step)
	return cycle.name


def build_retrying(attempts: int = 3) -> frappe._dict:
	"""Other tests on the site load the same generated rows and shift the same team tree: on a lock
	wait, start again from a clean transaction."""
	for attempt in range(attempts):
		try:
			return build()
		except LOCK_ERRORS:
			frappe.db.rollback()
			if attempt == attempts - 1:
				raise
			print(f"\nlock wait while building the data (attempt {attempt + 1}): starting again")
			time.sleep(5 * (attempt + 1))


def quick_user(email: str, roles: list[str]) -> str:
	"""A user with his roles in one insert (no password: these users never log in over REST)."""
	if frappe.db.exists("User", email):
		return make_user(email, roles)
	user = frappe.get_doc(
		{
			"doctype": "User",
			"email": email,
			"first_name": email.split("@")[0],
			"send_welcome_email": 0,
			"user_type": "System User",
			"roles": [{"role": role} for role in roles],
		}
	)
	user.flags.no_welcome_mail = True
	user.insert(ignore_permissions=True)
	return email


def build() -> frappe._dict:
	"""Generated data, users, a trial and a formal cycle (~15 s on a quiet site)."""
	frappe.set_user("Administrator")
	ds = generate(seed=11, start="2025-07-01", months=12, n_loans=300)
	emp = load_dataset(ds, COMPANY)["employees"]
	lead_of = {t.team_name: emp[t.lead_key] for t in ds.teams.itertuples()}
	staff_key = ds.employees[(ds.employees.team == C1) & ~ds.employees.is_lead].key.iloc[0]
	people = {
		"manager": (None, ["PL Performance Manager"]),
		"executive": (None, ["PL Executive"]),
		"lead": (lead_of[C1], ["PL Team Leader", "PL Appraisee"]),
		"risk_lead": (lead_of[RISK], ["PL Team Leader", "PL Appraisee"]),
		"staff": (emp[staff_key], ["PL Appraisee"]),
	}
	users = frappe._dict()
	for key, (employee, roles) in people.items():
		users[key] = quick_user(f"rpt-{key.replace('_', '-')}@plp.test", roles)
		if employee:
			frappe.db.set_value("Employee", employee, "user_id", users[key])
	trial = run_cycle(ds, TRIAL, "2026-01-01", "2026-03-31", ("2025-10-01", "2025-12-31"), 1, TRIAL_SURVEY)
	formal = run_cycle(ds, FORMAL, "2026-04-01", "2026-06-30", ("2026-01-01", "2026-03-31"), 0, SURVEY)
	formal_rows = appraisals_of(formal)
	return frappe._dict(
		formal_rows=formal_rows,
		formal_lines=lines_of([a.name for a in formal_rows]),
		ds=ds,
		emp=emp,
		key_of={v: k for k, v in emp.items()},
		users=users,
		lead=lead_of[C1],
		staff=emp[staff_key],
		trial=trial,
		formal=formal,
	)


def appraisals_of(cycle, **filters):
	return frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle, **filters},
		fields=["name", "employee", "pl_team", "layer", "total_score", "final_grade", "appraisee_user"],
	)


def lines_of(names):
	return frappe.get_all(
		"PL Appraisal KPI",
		filters={"parenttype": "PL Appraisal", "parent": ("in", names)},
		fields=["name", "parent", "kpi", "direction", "target", "actual", "no_data", "score", "stretch"],
	)


def hand_achievement(line):
	if line.no_data:
		return None
	if line.direction == LOWER:
		return line.target / line.actual * 100 if line.actual else None
	return line.actual / line.target * 100 if line.target else None


def meets(line):
	sign = -1 if line.direction == LOWER else 1
	return sign * (line.actual - line.target) >= -1e-9


def welch_by_hand(a, b):
	"""t, df and the two-sided p of Welch's test, written out."""
	va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
	t = (statistics.fmean(b) - statistics.fmean(a)) / math.sqrt(va + vb)
	df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
	try:
		from scipy import stats as scipy_stats

		p = 2 * scipy_stats.t.sf(abs(t), df)
	except ImportError:
		p = math.erfc(abs(t) / math.sqrt(2))
	return t, df, p


# ---------------------------------------------------------------- no data needed
@pytest.mark.parametrize("report", [KPI_ACHIEVEMENT, SCHEME_EFFECT, SATISFACTION, KPI_HEALTH])
def test_missing_required_filter_is_a_clear_error(report):
	with pytest.raises(frappe.ValidationError, match="Set the filter Review Cycle"):
		run(report)


def test_unknown_cycle_is_a_clear_error():
	with pytest.raises(frappe.ValidationError, match="does not exist"):
		run(SCHEME_EFFECT, review_cycle="_Test PL RPT No Such Cycle")
	with pytest.raises(frappe.ValidationError, match="does not exist"):
		run(TEAM_SUMMARY, review_cycle="_Test PL RPT No Such Cycle")


def test_effect_statistics_on_tiny_lists():
	# a = 1, 2, 3 (mean 2, s² 1); b = 4, 6, 8 (mean 6, s² 4): se² = 1/3 + 4/3 = 5/3, t = 4 / √(5/3),
	# df = (5/3)² / ((1/3)²/2 + (4/3)²/2) = 50/17
	row = scheme_effect_evaluation.effect([1, 2, 3], [4, 6, 8], HIGHER)
	t, df, p = welch_by_hand([1, 2, 3], [4, 6, 8])
	assert t == pytest.approx(4 / math.sqrt(5 / 3)) and df == pytest.approx(50 / 17)
	assert (row["n_baseline"], row["n_scheme"]) == (3, 3)
	assert (row["baseline_mean"], row["scheme_mean"], row["delta"]) == (2, 6, 4)
	assert row["relative_change"] == pytest.approx(200.0)
	assert row["t"] == pytest.approx(t) and row["p_welch"] == pytest.approx(p)
	# of the 20 ways to split the six values in two triples, only {1,2,3}|{4,6,8} and its mirror reach
	# |Δ| ≥ 4: the exact permutation p is 2/20
	assert row["p_permutation"] == pytest.approx(0.1, abs=0.03)
	assert row["p_permutation"] == stats.permutation_test([1, 2, 3], [4, 6, 8], n_resamples=2000, seed=0)
	assert row["trend_code"] == "Improved" and not row["significant"]
	assert scheme_effect_evaluation.effect([1, 2, 3], [4, 6, 8], LOWER)["trend_code"] == "Worsened"
	# two clearly separated samples of 8: both tests are far below 0.05
	row = scheme_effect_evaluation.effect(range(1, 9), range(11, 19), LOWER)
	# t = 10 / √(6/8 + 6/8) ≈ 8.16 on 14 df: p ≈ 1.1e-6 (scipy) or ≈ 3e-16 (normal approximation)
	assert row["p_welch"] < 1e-5 and row["p_permutation"] < 0.01 and row["significant"] == 1
	assert row["trend_code"] == "Worsened"
	# fewer than two values on a side: means and delta, no test
	row = scheme_effect_evaluation.effect([5], [1, 2, None, float("nan")], HIGHER)
	assert (row["n_baseline"], row["n_scheme"], row["delta"]) == (1, 2, -3.5)
	assert row["p_welch"] is None and row["p_permutation"] is None and row["significant"] == 0


# ---------------------------------------------------------------- KPI Achievement
def test_kpi_achievement(data):
	"""Every line of the cycle for the scheme owner, values from the stored lines; the filters."""
	users, formal, lines = data.users, data.formal_rows, data.formal_lines
	header = {a.name: a for a in formal}

	result = run(KPI_ACHIEVEMENT, users.manager, review_cycle=data.formal)
	assert fieldnames(result) == [
		"appraisal",
		"employee",
		"employee_name",
		"pl_team",
		"layer",
		"kpi",
		"kpi_name",
		"unit",
		"weight",
		"target",
		"actual",
		"no_data",
		"achievement",
		"score",
		"weighted_score",
		"data_date",
	]
	rows = result.result
	assert len(rows) == len(lines) == 3 * len(formal)
	stored = {(line.parent, line.kpi): line for line in lines}
	no_data = 0
	for row in rows:
		line = stored[(row["appraisal"], row["kpi"])]
		assert row["pl_team"] == header[line.parent].pl_team and row["layer"] == header[line.parent].layer
		if line.no_data:
			no_data += 1
			assert row["no_data"] == 1 and row["actual"] is None and row["achievement"] is None
			assert row["score"] is None
		else:
			assert row["actual"] == pytest.approx(line.actual)
			assert row["score"] == pytest.approx(line.score)
			expected = hand_achievement(line)
			assert row["achievement"] == (pytest.approx(expected) if expected is not None else None)
	assert no_data > 0  # the generated data leaves some lines without data
	with_data = [line for line in lines if not line.no_data]
	achievements = defaultdict(list)
	for line in with_data:
		if hand_achievement(line) is not None:
			achievements[line.kpi].append(hand_achievement(line))
	chart = result.chart
	assert chart["type"] == "bar"
	assert chart["data"]["labels"] == sorted({line.kpi for line in lines})
	assert chart["data"]["datasets"][0]["values"] == [
		pytest.approx(round(statistics.fmean(achievements[k]), 2)) for k in chart["data"]["labels"]
	]
	summary = summary_of(result)
	assert summary["KPI Lines"] == len(lines)
	assert summary["Lines without Data"] == no_data
	all_achievements = [v for values in achievements.values() for v in values]
	assert summary["Mean Achievement (%)"] == pytest.approx(round(statistics.fmean(all_achievements), 2))
	share = sum(1 for line in with_data if meets(line)) * 100 / len(with_data)
	assert summary["At or Above Target (%)"] == pytest.approx(round(share, 2))

	# filters: one KPI, one layer, a team with its sub-teams (the management root covers everything)
	result = run(KPI_ACHIEVEMENT, users.manager, review_cycle=data.formal, kpi="COL-SUCCESS-RATE")
	assert {r["kpi"] for r in result.result} == {"COL-SUCCESS-RATE"}
	assert len(result.result) == sum(1 for a in formal if a.layer == "Collection")
	result = run(KPI_ACHIEVEMENT, users.manager, review_cycle=data.formal, layer="Risk Control")
	assert {r["layer"] for r in result.result} == {"Risk Control"}
	assert len(run(KPI_ACHIEVEMENT, users.manager, review_cycle=data.formal, pl_team=MGMT).result) == len(
		rows
	)


def test_kpi_achievement_follows_the_row_permissions(data):
	"""A team leader sees his teams, an appraisee his own published lines."""
	users, formal = data.users, data.formal_rows
	# -- as the team leader of Collection 01: his team only (his own appraisal too, as it is published)
	team = {a.name for a in formal if a.pl_team == C1}
	result = run(KPI_ACHIEVEMENT, users.lead, review_cycle=data.formal)
	assert {r["appraisal"] for r in result.result} == team
	assert data.lead in {r["employee"] for r in result.result}
	# in the trial cycle his own appraisal is not his to see (a lead's result belongs to the lead above)
	result = run(KPI_ACHIEVEMENT, users.lead, review_cycle=data.trial)
	assert {r["pl_team"] for r in result.result} == {C1}
	assert data.lead not in {r["employee"] for r in result.result}

	# -- as an appraisee: his own published lines only; nothing of the trial; others' filtered away
	result = run(KPI_ACHIEVEMENT, users.staff, review_cycle=data.formal)
	assert {r["employee"] for r in result.result} == {data.staff} and len(result.result) == 3
	assert run(KPI_ACHIEVEMENT, users.staff, review_cycle=data.trial).result == []
	assert run(KPI_ACHIEVEMENT, users.staff, review_cycle=data.formal, employee=data.lead).result == []
	for report in (TEAM_SUMMARY, SCHEME_EFFECT, SATISFACTION, KPI_HEALTH):
		with pytest.raises(frappe.PermissionError):
			run(report, users.staff, review_cycle=data.formal)


# ---------------------------------------------------------------- Team Performance Summary
def test_team_performance_summary(data):
	"""Teams of the formal cycle ranked within their layer, recomputed from the appraisal rows."""
	users, formal = data.users, data.formal_rows
	result = run(TEAM_SUMMARY, users.manager, review_cycle=data.formal)
	assert fieldnames(result) == [
		"rank",
		"pl_team",
		"layer",
		"team_lead",
		"team_lead_name",
		"members",
		"appraisals",
		"mean_total",
		"min_total",
		"max_total",
		"share_top",
	]
	by_team = defaultdict(list)
	for a in formal:
		by_team[a.pl_team].append(a)
	rows = {r["pl_team"]: r for r in result.result}
	assert set(rows) == set(by_team)
	team_layer = dict(
		frappe.get_all(
			"PL Team", filters={"name": ("in", list(by_team))}, fields=["name", "layer"], as_list=True
		)
	)
	for name, group in by_team.items():
		totals = [a.total_score for a in group]
		row = rows[name]
		assert row["layer"] == team_layer[name]
		assert row["team_lead"] == frappe.db.get_value("PL Team", name, "team_lead")
		assert row["members"] == len({a.employee for a in group}) == row["appraisals"]
		assert row["mean_total"] == pytest.approx(statistics.fmean(totals))
		assert (row["min_total"], row["max_total"]) == (
			pytest.approx(min(totals)),
			pytest.approx(max(totals)),
		)
		top = sum(1 for a in group if a.final_grade in ("S", "A")) * 100 / len(group)
		assert row["share_top"] == pytest.approx(top)
	# ranks within each layer follow the mean, best first
	for layer in LAYERS:
		ranked = sorted((r for r in result.result if r["layer"] == layer), key=lambda r: r["rank"])
		assert [r["mean_total"] for r in ranked] == sorted((r["mean_total"] for r in ranked), reverse=True)
		assert ranked[0]["rank"] == 1
	c1, c2 = rows[C1], rows[C2]
	assert {c1["rank"], c2["rank"]} == ({1, 2} if abs(c1["mean_total"] - c2["mean_total"]) > 1e-9 else {1})
	chart = result.chart
	assert chart["type"] == "line" and chart["data"]["labels"] == [FORMAL]
	assert {d["name"]: d["values"] for d in chart["data"]["datasets"]} == {
		r["pl_team"]: [pytest.approx(round(r["mean_total"], 2))] for r in result.result
	}
	summary = summary_of(result)
	assert (summary["Teams"], summary["Review Cycles"], summary["Appraisals"]) == (5, 1, len(formal))
	assert summary["Mean Total Score"] == pytest.approx(
		round(statistics.fmean(a.total_score for a in formal), 2)
	)
	# a layer filter
	result = run(TEAM_SUMMARY, users.manager, review_cycle=data.formal, layer="Collection")
	assert {r["pl_team"] for r in result.result} == {C1, C2}


def test_team_performance_summary_cycles(data):
	"""Trial cycles only on request; by default the latest cycles with results."""
	users = data.users
	rows = {r["pl_team"]: r for r in run(TEAM_SUMMARY, users.manager, review_cycle=data.formal).result}
	with pytest.raises(frappe.ValidationError, match="trial cycle"):
		run(TEAM_SUMMARY, users.manager, review_cycle=data.trial)
	labels = run(TEAM_SUMMARY, users.manager, company=COMPANY).chart["data"]["labels"]
	assert labels[-1] == FORMAL and TRIAL not in labels
	result = run(TEAM_SUMMARY, users.manager, company=COMPANY, include_trial=1)
	labels = result.chart["data"]["labels"]
	assert labels[-2:] == [TRIAL, FORMAL]
	trial_rows = appraisals_of(data.trial, pl_team=C1)
	c1_series = next(d["values"] for d in result.chart["data"]["datasets"] if d["name"] == C1)
	assert c1_series[-2:] == [
		pytest.approx(round(statistics.fmean(a.total_score for a in trial_rows), 2)),
		pytest.approx(round(rows[C1]["mean_total"], 2)),
	]


def test_team_leader_sees_only_his_team(data):
	"""Team statistics of his own team (without his own appraisal); no scheme-wide reports."""
	users, formal = data.users, data.formal_rows
	by_team = defaultdict(list)
	for a in formal:
		by_team[a.pl_team].append(a)
	rows = {r["pl_team"]: r for r in run(TEAM_SUMMARY, users.manager, review_cycle=data.formal).result}
	# -- the team leader sees only his team, every member's appraisal but his own (mean × n minus the
	# others would give his own score)
	result = run(TEAM_SUMMARY, users.lead, review_cycle=data.formal)
	others = [a for a in by_team[C1] if a.appraisee_user != users.lead]
	assert len(others) == len(by_team[C1]) - 1
	assert [r["pl_team"] for r in result.result] == [C1]
	assert result.result[0]["appraisals"] == len(others)
	assert result.result[0]["mean_total"] == pytest.approx(statistics.fmean(a.total_score for a in others))
	assert rows[C1]["appraisals"] == len(by_team[C1])
	for report in (SCHEME_EFFECT, KPI_HEALTH):
		with pytest.raises(frappe.PermissionError):
			run(report, users.lead, review_cycle=data.formal)


# ---------------------------------------------------------------- KPI Health
def test_kpi_health(data):
	"""Per KPI statistics recomputed from the lines."""
	users, lines = data.users, data.formal_lines
	# every template line has a stretch: the cap is 120
	result = run(KPI_HEALTH, users.manager, review_cycle=data.formal)
	rows = {r["kpi"]: r for r in result.result}
	assert set(rows) == {line.kpi for line in lines}
	by_kpi = defaultdict(list)
	for line in lines:
		by_kpi[line.kpi].append(line)
	for kpi, kpi_lines in by_kpi.items():
		row = rows[kpi]
		data_lines = [line for line in kpi_lines if not line.no_data]
		scores = [line.score for line in data_lines]
		assert (row["lines"], row["lines_with_data"]) == (len(kpi_lines), len(data_lines))
		assert row["mean_score"] == pytest.approx(statistics.fmean(scores))
		if len(scores) > 1:
			assert row["stdev_score"] == pytest.approx(statistics.stdev(scores))
		assert row["share_at_cap"] == pytest.approx(sum(s >= 120 - 1e-9 for s in scores) * 100 / len(scores))
		assert row["share_at_zero"] == pytest.approx(sum(s == 0 for s in scores) * 100 / len(scores))
		assert row["share_meeting"] == pytest.approx(
			sum(meets(line) for line in data_lines) * 100 / len(data_lines)
		)
		assert row["suggested_target"] == pytest.approx(statistics.median(line.actual for line in data_lines))
		assert row["current_target"] == pytest.approx(kpi_lines[0].target)
		stdev = statistics.stdev(scores) if len(scores) > 1 else None
		flat = stdev is not None and stdev < 5
		most = max(sum(1 for s in scores if abs(s - x) < 1e-6) for x in scores) * 100 / len(scores)
		assert row["not_discriminating"] == int(len(scores) >= 2 and (flat or most >= 80))
	# the three management lines of one team share their team's values: their KPIs are flat
	assert rows["MGMT-NPL-REDUCTION"]["not_discriminating"] == 1
	assert result.chart["data"]["labels"] == sorted(rows)
	assert [d["name"] for d in result.chart["data"]["datasets"]] == ["At Cap (%)", "At Zero (%)"]
	summary = summary_of(result)
	assert summary["KPIs"] == len(rows)
	assert summary["Do Not Discriminate"] == sum(r["not_discriminating"] for r in rows.values())
	assert summary["Targets Everyone Beats"] == sum(r["everyone_beats"] for r in rows.values())
	result = run(KPI_HEALTH, users.executive, review_cycle=data.formal, layer="Customer Service")
	assert {r["kpi"] for r in result.result} == {"CS-NPS", "CS-FIRST-RESPONSE", "CS-RESOLUTION-RATE"}


# ---------------------------------------------------------------- Scheme Effect Evaluation
def test_scheme_effect_evaluation(data):
	"""Baseline (2026 Q1) vs scheme period (2026 Q2), compared with the trial."""
	users, formal = data.users, data.formal_rows
	ds = data.ds
	result = run(SCHEME_EFFECT, users.manager, review_cycle=data.formal, compare_cycle=data.trial)
	assert fieldnames(result)[:4] == ["comparison", "metric", "metric_name", "scope"]
	assert {"n_baseline", "n_scheme", "baseline_mean", "scheme_mean", "delta", "relative_change"} <= set(
		fieldnames(result)
	)
	assert {"p_welch", "p_permutation", "significant"} <= set(fieldnames(result))
	metric_rows = [r for r in result.result if r["scope_code"] != "kpi_actuals"]
	kpi_rows = [r for r in result.result if r["scope_code"] == "kpi_actuals"]
	assert {(r["metric"], r["scope_code"]) for r in metric_rows} == {
		*(
			(m, "employee")
			for m in (
				"collection_success_rate",
				"avg_collection_cycle_days",
				"customer_satisfaction",
				"warning_precision",
				"risk_report_quality",
				"risk_event_handling_hours",
				"ticket_resolution_rate",
				"first_response_minutes",
				"customer_loyalty_nps",
			)
		),
		# the management KPIs are changes against the baseline: evaluated on their level
		("npl_ratio", "portfolio"),
		("recovery_rate", "portfolio"),
		("team_satisfaction", "portfolio"),
		("npl_ratio", "whole_portfolio"),
		("recovery_rate", "whole_portfolio"),
		("collection_success_rate", "whole_portfolio"),
	}
	row = next(
		r for r in metric_rows if (r["metric"], r["scope_code"]) == ("collection_success_rate", "employee")
	)
	# recomputed from the generated frames with the engine, per collector of the cycle
	collectors = [a.employee for a in formal if a.layer == "Collection"]
	keys = [data.key_of[e] for e in collectors]
	subjects = pd.DataFrame({"subject": keys, "employee": keys, "from_date": pd.NaT, "to_date": pd.NaT})
	frames = ds.engine_frames()

	def values(period):
		series = engine_metrics.compute("collection_success_rate", frames, subjects, period)
		return [float(v) for v in series.dropna()]

	before, after = values(("2026-01-01", "2026-03-31")), values(("2026-04-01", "2026-06-30"))
	assert len(before) >= 2 and len(after) >= 2
	assert (row["n_baseline"], row["n_scheme"]) == (len(before), len(after))
	assert row["baseline_mean"] == pytest.approx(statistics.fmean(before))
	assert row["scheme_mean"] == pytest.approx(statistics.fmean(after))
	assert row["delta"] == pytest.approx(statistics.fmean(after) - statistics.fmean(before))
	t, _df, p = welch_by_hand(before, after)
	assert row["t"] == pytest.approx(t) and row["p_welch"] == pytest.approx(p)
	assert row["p_permutation"] == pytest.approx(
		stats.permutation_test(before, after, n_resamples=2000, seed=0)
	)
	assert row["significant"] == int(p < 0.05 and row["p_permutation"] < 0.05)

	# the whole portfolio's NPL ratio on the last snapshot of each period: one value, no test
	snaps = ds.snapshots.assign(as_of_date=pd.to_datetime(ds.snapshots.as_of_date))

	def npl(end):
		last = snaps[snaps.as_of_date <= pd.Timestamp(end)].as_of_date.max()
		day = snaps[snaps.as_of_date == last]
		return day[day.classification.isin(NPL)].outstanding.sum() * 100 / day.outstanding.sum()

	row = next(r for r in metric_rows if (r["metric"], r["scope_code"]) == ("npl_ratio", "whole_portfolio"))
	assert (row["n_baseline"], row["n_scheme"]) == (1, 1)
	assert row["baseline_mean"] == pytest.approx(npl("2026-03-31"))
	assert row["scheme_mean"] == pytest.approx(npl("2026-06-30"))
	assert row["p_welch"] is None and row["p_permutation"] is None and not row["significant"]
	assert row["trend_code"] == ("Improved" if row["delta"] < 0 else "Worsened")  # lower is better

	# team satisfaction: the baseline is the survey of the cycle covering Q1 (the trial)
	row = next(r for r in metric_rows if r["metric"] == "team_satisfaction")
	trial_ratings = [v for answers in TRIAL_SURVEY.values() for a in answers for v in a[:4]]
	formal_ratings = [v for answers in SURVEY.values() for a in answers for v in a[:4]]
	assert row["baseline_mean"] == pytest.approx(statistics.fmean(trial_ratings) * 20)
	assert row["scheme_mean"] == pytest.approx(statistics.fmean(formal_ratings) * 20)

	# KPI actuals, trial vs formal
	def actuals(cycle):
		names = [a.name for a in appraisals_of(cycle)]
		out = defaultdict(list)
		for line in lines_of(names):
			if not line.no_data:
				out[line.kpi].append(line.actual)
		return out

	trial_actuals, formal_actuals = actuals(data.trial), actuals(data.formal)
	assert {r["metric"] for r in kpi_rows} == set(trial_actuals) | set(formal_actuals)
	for row in kpi_rows:
		assert row["comparison"] == f"KPI Actuals: {TRIAL} → {FORMAL}"
		assert row["baseline_mean"] == pytest.approx(statistics.fmean(trial_actuals[row["metric"]]))
		assert row["scheme_mean"] == pytest.approx(statistics.fmean(formal_actuals[row["metric"]]))
	chart = result.chart
	assert chart["type"] == "bar" and len(chart["data"]["labels"]) == len(metric_rows)
	assert chart["data"]["datasets"][0]["values"] == [
		pytest.approx(round(r["delta"], 4)) if r["delta"] is not None else 0 for r in metric_rows
	]
	summary = summary_of(result)
	assert summary["Metrics Improved"] == sum(r["trend_code"] == "Improved" for r in metric_rows)
	assert summary["Metrics Worsened"] == sum(r["trend_code"] == "Worsened" for r in metric_rows)
	assert summary["Significant (p<0.05)"] == sum(r["significant"] for r in metric_rows)
	assert "2026" in result.message  # the two periods are stated
	# executives read it too; a cycle is not compared with itself
	assert run(SCHEME_EFFECT, users.executive, review_cycle=data.formal).result
	with pytest.raises(frappe.ValidationError, match="compared with itself"):
		run(SCHEME_EFFECT, users.manager, review_cycle=data.formal, compare_cycle=data.formal)


# ---------------------------------------------------------------- Scheme Satisfaction
def test_scheme_satisfaction(data):
	"""Aggregates only, small teams merged, anonymous suggestions."""
	users, formal = data.users, data.formal_rows
	formal_ratings = [v for answers in SURVEY.values() for a in answers for v in a[:4]]
	# -- Scheme Satisfaction as the scheme owner: aggregates only, small teams merged
	result = run(SATISFACTION, users.manager, review_cycle=data.formal)
	assert fieldnames(result) == ["question", "team", "responses", "mean", "share_favourable"]
	groups = {C1: SURVEY[C1], C2: SURVEY[C2], "Other teams": SURVEY[RISK] + SURVEY[CS]}
	groups["All Teams"] = [a for answers in SURVEY.values() for a in answers]
	rows = {(r["question_code"], r["team"]): r for r in result.result}
	assert {team for _q, team in rows} == set(groups)
	assert RISK not in {team for _q, team in rows} and CS not in {team for _q, team in rows}
	for i, question in enumerate(QUESTIONS):
		for team, answers in groups.items():
			ratings = [a[i] for a in answers]
			row = rows[(question, team)]
			assert row["responses"] == len(ratings)
			assert row["mean"] == pytest.approx(statistics.fmean(ratings))
			assert row["share_favourable"] == pytest.approx(sum(r >= 4 for r in ratings) * 100 / len(ratings))
	assert result.chart["data"]["labels"] == ["Fairness", "Clarity", "Motivation", "Workload"]
	assert result.chart["data"]["datasets"][0]["values"] == [
		pytest.approx(round(statistics.fmean(a[i] for a in groups["All Teams"]), 2)) for i in range(4)
	]
	summary = summary_of(result)
	assert summary["Responses"] == 10
	assert summary["Response Rate (%)"] == pytest.approx(round(10 * 100 / len(formal), 1))
	overall = statistics.fmean(formal_ratings) * 20
	assert summary["Overall Satisfaction (0-100)"] == pytest.approx(round(overall, 2))
	# the same number the management KPI "team satisfaction" scored
	management_line = frappe.get_all(
		"PL Appraisal KPI",
		filters={
			"parent": ("in", [a.name for a in formal if a.layer == "Management"]),
			"kpi": "MGMT-TEAM-SATISFACTION",
		},
		pluck="actual",
	)
	assert management_line and all(v == pytest.approx(overall) for v in management_line)
	# suggestions: escaped, without names, blank ones left out, shuffled the same way every time
	texts = sorted(a[4].strip() for answers in SURVEY.values() for a in answers if a[4] and a[4].strip())
	random.Random(data.formal).shuffle(texts)
	assert result.message.count("<li>") == len(texts) == 6
	assert "".join(f"<li>{html.escape(t)}</li>" for t in texts) in result.message
	assert "<script>" not in result.message and "&lt;script&gt;" in result.message
	names = frappe.get_all("Employee", filters={"company": COMPANY}, pluck="employee_name")
	assert not any(name in result.message for name in names)
	assert run(SATISFACTION, users.executive, review_cycle=data.formal).message == result.message

	# a team filter below three responses shows nothing
	result = run(SATISFACTION, users.manager, review_cycle=data.formal, pl_team=RISK)
	assert result.result == [] and "Fewer than 3" in result.message
	# the management root covers every team
	assert len(run(SATISFACTION, users.manager, review_cycle=data.formal, pl_team=MGMT).result) == 16


def test_scheme_satisfaction_for_team_leaders(data):
	"""Team leaders: their own teams only, with the same rule."""
	users, formal = data.users, data.formal_rows
	result = run(SATISFACTION, users.lead, review_cycle=data.formal)
	assert {r["team"] for r in result.result} == {C1} and len(result.result) == 4
	summary = summary_of(result)
	assert summary["Responses"] == 4
	assert summary["Response Rate (%)"] == pytest.approx(
		round(4 * 100 / sum(a.pl_team == C1 for a in formal), 1)
	)
	result = run(SATISFACTION, users.risk_lead, review_cycle=data.formal)
	assert result.result == [] and result.report_summary == [] and "Fewer than 3" in result.message
	assert "More weight" not in result.message  # his team's suggestions stay hidden too
	result = run(SATISFACTION, users.lead, review_cycle=data.formal, pl_team=C2)
	assert result.result == []  # not his team


# ---------------------------------------------------------------- Appraisal Results and Grade Distribution
GRADE_DISTRIBUTION = "Appraisal Results and Grade Distribution"


def test_grade_distribution(data):
	formal = data.formal_rows
	result = run(GRADE_DISTRIBUTION, data.users.manager, review_cycle=data.formal)
	assert {r["name"] for r in result.result} == {a.name for a in formal}
	totals = sorted((a.total_score for a in formal), reverse=True)
	assert [r["total_score"] for r in result.result] == pytest.approx(totals)  # best first
	# chart: actual share of each final grade vs the forced-distribution target (one layer mix: defaults)
	labels = result.chart["data"]["labels"]
	actual, target = (d["values"] for d in result.chart["data"]["datasets"])
	for grade, share in zip(labels, actual, strict=True):
		expected = sum(1 for a in formal if a.final_grade == grade) * 100 / len(formal)
		assert share == pytest.approx(round(expected, 2))
	assert dict(zip(labels, target, strict=True)) == {"S": 10, "A": 20, "B": 50, "C": 15, "D": 5}
	summary = summary_of(result)
	assert summary["Appraisals"] == len(formal)
	assert summary["Mean Total Score"] == pytest.approx(round(sum(totals) / len(totals), 2))
	# the histogram counts every appraisal once
	histogram = run(GRADE_DISTRIBUTION, data.users.manager, review_cycle=data.formal, chart="Score Histogram")
	assert sum(histogram.chart["data"]["datasets"][0]["values"]) == len(formal)
	# an appraisee sees his own published row only; a team leader his team
	mine = run(GRADE_DISTRIBUTION, data.users.staff, review_cycle=data.formal)
	assert [r["employee"] for r in mine.result] == [data.staff]
	team = run(GRADE_DISTRIBUTION, data.users.lead, review_cycle=data.formal)
	assert {r["pl_team"] for r in team.result} == {C1}
