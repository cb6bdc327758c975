"""The stored metric values of the Scheme Effect Evaluation (PL Metric Value, services.evaluation).

Generated data (postloan_performance.datagen, seed 11, as in test_reports_appraisal): a trial cycle covering
2026 Q1 with survey answers (the baseline's survey) and a formal cycle for 2026 Q2 (baseline Q1), computed
and left Open. The report's metric rows are cross-checked against the slow path the report ran before
the values were stored (``reference_metric_rows``: the former ``scheme_effect_evaluation.metric_rows``, verbatim), on
the first opening (computed and stored), on the next ones (read back: no post-loan frame is loaded), and
after the data changed and the cycle was recomputed.

Nothing is committed: the data is built once per module in the open transaction (`data`), each test rolls
back to a savepoint, and the module's transaction is rolled back at the end.
"""

from __future__ import annotations

import math
from collections import defaultdict
from unittest.mock import patch

import pandas as pd
import pytest

import frappe
from frappe.desk import query_report
from frappe.utils import get_datetime

from postloan_performance import api
from postloan_performance.datagen import generate
from postloan_performance.engine.formula import parse_formula
from postloan_performance.engine.metric_catalog import BUILTIN_METRICS
from postloan_performance.services import evaluation, portfolio_months
from postloan_performance.services.compute import EMPLOYEE, PORTFOLIO, TEAM_PEOPLE, SubjectBuilder
from postloan_performance.services.dataset_loader import load_dataset
from postloan_performance.services.metric_frames import FrameCache, Window, compute_metric
from postloan_performance.services.reports import scheme_effect_evaluation
from tests.integration.factories import COMPANY, make_user

REPORT = "Scheme Effect Evaluation"
TRIAL, FORMAL = "_Test PL SEV Trial", "_Test PL SEV Q2"
LAYERS = ("Management", "Collection", "Risk Control", "Customer Service")
SAVEPOINT = "plp_sev_test"
LOCK_ERRORS = (frappe.QueryTimeoutError, frappe.QueryDeadlockError)
REFRESH = "postloan_performance.services.evaluation.refresh_cycle_evaluation"
CYCLE_FIELDS = ["cycle_name", "company", "period_start", "period_end", "baseline_start", "baseline_end"]


# ---------------------------------------------------------------- the slow path, as it was
def reference_baseline_survey_cycle(cycle) -> str | None:
	from frappe.query_builder.functions import Count

	other = frappe.qb.DocType("PL Review Cycle")
	survey = frappe.qb.DocType("PL Satisfaction Survey")
	query = (
		frappe.qb.from_(other)
		.join(survey)
		.on(survey.review_cycle == other.name)
		.select(other.name)
		.where(
			(other.name != cycle.name)
			& (other.period_start == cycle.baseline_start)
			& (other.period_end == cycle.baseline_end)
		)
		.groupby(other.name)
		.orderby(Count(survey.name), order=frappe.qb.desc)
		.orderby(other.is_trial)
		.orderby(other.name)
		.limit(1)
	)
	if cycle.company:
		query = query.where(other.company == cycle.company)
	names = query.run(pluck=True)
	return names[0] if names else None


def _reference_codes(kpi) -> set[str]:
	if kpi.method == "Built-in" and kpi.builtin_metric:
		return {kpi.builtin_metric}
	if kpi.method == "Formula" and kpi.formula:
		return set(parse_formula(kpi.formula, frozenset(BUILTIN_METRICS)))
	return set()


def reference_series(cycle) -> list[tuple[str, str, pd.Series, pd.Series]]:
	"""(metric, scope, baseline values, scheme values) as scheme_effect_evaluation.metric_rows computed them before
	the values were stored: both periods from the raw data."""
	level_of = {"npl_ratio_reduction": "npl_ratio", "recovery_rate_improvement": "recovery_rate"}
	headers = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle.name, "docstatus": ("<", 2)},
		fields=["name", "employee", "pl_team", "layer"],
		limit_page_length=0,
	)
	header_by_name = {h.name: h for h in headers}
	lines = frappe.get_all(
		"PL Appraisal KPI",
		filters={"parenttype": "PL Appraisal", "parent": ("in", list(header_by_name) or [""])},
		fields=["parent", "kpi"],
		limit_page_length=0,
	)
	kpis = {
		k.name: k
		for k in frappe.get_all(
			"PL KPI",
			filters={"name": ("in", list({line.kpi for line in lines}) or [""])},
			fields=["name", "method", "builtin_metric", "formula", "subject"],
		)
	}
	subjects = SubjectBuilder(headers)
	wanted = defaultdict(set)
	for line in lines:
		kpi, header = kpis.get(line.kpi), header_by_name[line.parent]
		if not kpi:
			continue
		kind = subjects.kind(kpi, header)
		for code in _reference_codes(kpi):
			wanted[(level_of.get(code, code), kind)].add(subjects.subject(kind, header))

	scheme = FrameCache(Window(cycle.period_start, cycle.period_end), cycle.name)
	baseline = FrameCache(
		Window(cycle.baseline_start, cycle.baseline_end), reference_baseline_survey_cycle(cycle)
	)
	kind_order = {EMPLOYEE: 0, TEAM_PEOPLE: 1, PORTFOLIO: 2}
	out = []
	for code, kind in sorted(wanted, key=lambda k: (k[0], kind_order[k[1]])):
		frame = subjects.frame(kind)
		frame = frame[frame["subject"].isin(wanted[(code, kind)])]
		out.append((code, kind, compute_metric(code, baseline, frame), compute_metric(code, scheme, frame)))

	company_teams = frappe.get_all(
		"PL Team", filters={"company": cycle.company} if cycle.company else {}, pluck="name"
	)
	portfolio = pd.DataFrame({"subject": "__portfolio__", "team": company_teams}, columns=["subject", "team"])
	for code in ("npl_ratio", "recovery_rate", "collection_success_rate"):
		out.append(
			(
				code,
				"whole_portfolio",
				compute_metric(code, baseline, portfolio),
				compute_metric(code, scheme, portfolio),
			)
		)
	return out


def reference_metric_rows(cycle) -> list[dict]:
	rows = []
	for code, scope, before, after in reference_series(cycle):
		spec = BUILTIN_METRICS[code]
		rows.append(
			scheme_effect_evaluation._row(
				"Baseline → Scheme Period", code, spec["label"], scope, spec["direction"], (before, after)
			)
		)
	return rows


def numbers(values) -> list[float]:
	"""What the report's statistics read from a list of values: the numbers, in order."""
	return [float(v) for v in values if v is not None and pd.notna(v)]


def assert_same_rows(actual: list[dict], expected: list[dict]):
	"""Equal row for row and field for field. The per-subject values behind them are the same floats in
	the same order (checked exactly below); the statistics over them may still differ in the last bit
	between two runs of the same code, as numpy's sums depend on the arrays' memory alignment, so floats
	are compared to 1e-12 (NaN equal to NaN)."""
	assert [(r["metric"], r["scope_code"]) for r in actual] == [
		(r["metric"], r["scope_code"]) for r in expected
	]
	for got, want in zip(actual, expected, strict=True):
		assert got.keys() == want.keys()
		for key, value in want.items():
			other, where = got[key], (got["metric"], got["scope_code"], key)
			if isinstance(value, float) and math.isnan(value):
				assert isinstance(other, float) and math.isnan(other), where
			elif isinstance(value, float):
				assert other == pytest.approx(value, rel=1e-12, abs=1e-12), where
			else:
				assert other == value, where


# ---------------------------------------------------------------- data
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


@pytest.fixture(autouse=True)
def no_report_error_logs(monkeypatch):
	log_error = frappe.log_error

	def quiet(title=None, *args, **kwargs):
		return None if title == "Report Error" else log_error(title, *args, **kwargs)

	monkeypatch.setattr(frappe, "log_error", quiet)


def make_cycle(name, start, end, baseline, is_trial, ds) -> str:
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
	return cycle.name


def answer_survey(cycle: str, answers: int, rating: int):
	appraisals = frappe.get_all(
		"PL Appraisal", filters={"review_cycle": cycle}, fields=["employee", "pl_team"], order_by="employee"
	)
	for a in appraisals[:answers]:
		frappe.get_doc(
			{
				"doctype": "PL Satisfaction Survey",
				"review_cycle": cycle,
				"respondent": a.employee,
				"pl_team": a.pl_team,
				"fairness": rating,
				"clarity": rating,
				"motivation": 5,
				"workload": 3,
			}
		).insert()


def build() -> frappe._dict:
	frappe.set_user("Administrator")
	ds = generate(seed=11, start="2025-07-01", months=12, n_loans=300)
	load_dataset(ds, COMPANY)
	trial = make_cycle(TRIAL, "2026-01-01", "2026-03-31", ("2025-10-01", "2025-12-31"), 1, ds)
	answer_survey(trial, 5, 3)
	formal = make_cycle(FORMAL, "2026-04-01", "2026-06-30", ("2026-01-01", "2026-03-31"), 0, ds)
	answer_survey(formal, 6, 4)
	api.cycle_step(formal, "compute")
	users = frappe._dict(
		manager=make_user("sev-manager@plp.test", ["PL Performance Manager"]),
		executive=make_user("sev-executive@plp.test", ["PL Executive"]),
		lead=make_user("sev-lead@plp.test", ["PL Team Leader", "PL Appraisee"]),
		staff=make_user("sev-staff@plp.test", ["PL Appraisee"]),
		nobody=make_user("sev-nobody@plp.test", []),
	)
	return frappe._dict(trial=trial, formal=formal, users=users)


def cycle_doc(name: str) -> frappe._dict:
	return frappe.db.get_value("PL Review Cycle", name, ["name", *CYCLE_FIELDS], as_dict=True)


def run(user: str, **filters) -> frappe._dict:
	frappe.set_user(user)
	try:
		return frappe._dict(query_report.run(REPORT, filters=filters))
	finally:
		frappe.set_user("Administrator")


def metric_part(result) -> list[dict]:
	return [r for r in result.result if r["scope_code"] != "kpi_actuals"]


def stored_count(cycle: str) -> int:
	return frappe.db.count("PL Metric Value", {"review_cycle": cycle})


def stored_computed_on(cycle: str):
	return get_datetime(
		frappe.db.sql("select min(computed_on) from `tabPL Metric Value` where review_cycle = %s", cycle)[0][
			0
		]
	)


class FramesLoaded(Exception):
	pass


def no_frames():
	"""While active, loading any post-loan frame fails: what runs reads stored values only."""
	return patch.object(FrameCache, "get", side_effect=FramesLoaded)


# ---------------------------------------------------------------- tests
def test_stored_values_give_the_rows_of_the_slow_path(data):
	cycle = cycle_doc(data.formal)
	evaluation.delete_values(data.formal)
	expected = reference_metric_rows(cycle)
	assert {(r["metric"], r["scope_code"]) for r in expected} >= {
		("collection_success_rate", "employee"),
		("team_satisfaction", "portfolio"),
		("npl_ratio", "whole_portfolio"),
	}
	assert any(r["p_permutation"] is not None for r in expected)  # order-sensitive resampling is covered

	# first opening: computed from the post-loan data, and stored
	first = run(data.users.manager, review_cycle=data.formal, compare_cycle=data.trial)
	assert_same_rows(metric_part(first), expected)
	assert stored_count(data.formal) > 0
	computed_on = stored_computed_on(data.formal)
	assert f"Metric values computed on {frappe.format(computed_on, 'Datetime')}." in first.message

	# next openings read them back: no frame is loaded, the rows are the same
	with no_frames():
		second = run(data.users.manager, review_cycle=data.formal, compare_cycle=data.trial)
		assert_same_rows(metric_part(second), expected)
		assert_same_rows(second.result, first.result)
		assert second.chart == first.chart
		assert second.report_summary == first.report_summary and second.message == first.message
		# the KPI actuals against the compared cycle are there as before
		assert [r for r in second.result if r["scope_code"] == "kpi_actuals"]
		assert_same_rows(metric_part(run(data.users.executive, review_cycle=data.formal)), expected)

	# the stored values are the engine's, exactly and in its order; a subject without data is stored empty
	plan = evaluation.plan_for(cycle)
	stored = evaluation.stored_values(cycle, plan).values
	reference = reference_series(cycle)
	assert list(stored) == [(code, scope) for code, scope, _before, _after in reference]
	for code, scope, before, after in reference:
		for period, series in ((evaluation.BASELINE, before), (evaluation.SCHEME, after)):
			entries = stored[(code, scope)][period]
			assert numbers(v for _subject, v in entries) == numbers(series), (code, scope, period)
			assert {subject for subject, _v in entries} == plan.subjects_of((code, scope))
			no_data = {subject for subject, v in entries if v is None}
			assert no_data == plan.subjects_of((code, scope)) - set(series.dropna().index)
	key = ("collection_success_rate", EMPLOYEE)
	raw = frappe.get_all(
		"PL Metric Value",
		filters={"review_cycle": data.formal, "metric": key[0], "scope": key[1], "period": evaluation.SCHEME},
		fields=["subject", "value"],
		order_by="idx",
		as_list=True,
	)
	series = next(after for code, scope, _before, after in reference if (code, scope) == key)
	assert [(subject, float(value)) for subject, value in raw if value is not None] == [
		(subject, float(value)) for subject, value in series.dropna().items()
	]


def test_refresh_replaces_the_stored_values(data):
	result = evaluation.refresh_cycle_evaluation(data.formal)
	rows = frappe.get_all(
		"PL Metric Value",
		filters={"review_cycle": data.formal},
		fields=["period", "from_date", "to_date", "survey_cycle", "metric", "scope", "idx"],
		order_by="idx",
	)
	assert result["rows"] == len(rows) > 0 and [r.idx for r in rows] == list(range(1, len(rows) + 1))
	assert {(r.period, str(r.from_date), str(r.to_date), r.survey_cycle) for r in rows} == {
		(evaluation.BASELINE, "2026-01-01", "2026-03-31", data.trial),
		(evaluation.SCHEME, "2026-04-01", "2026-06-30", data.formal),
	}
	assert result["metrics"] == len({(r.metric, r.scope) for r in rows})
	# a second refresh replaces them (no duplicates)
	assert evaluation.refresh_cycle_evaluation(data.formal)["rows"] == stored_count(data.formal) == len(rows)
	expected = reference_metric_rows(cycle_doc(data.formal))
	with no_frames():
		assert_same_rows(metric_part(run(data.users.manager, review_cycle=data.formal)), expected)


def test_stale_values_are_computed_again_after_a_recompute(data):
	evaluation.refresh_cycle_evaluation(data.formal)
	cycle = cycle_doc(data.formal)
	before = stored_computed_on(data.formal)
	old_rows = reference_metric_rows(cycle)

	# post-loan data changes: May's recoveries are gone. Until the cycle is recomputed the stored values
	# stand (they say when they were computed)
	deleted = frappe.db.count("PL Recovery", {"received_on": ("between", ["2026-05-01", "2026-05-31"])})
	assert deleted
	frappe.db.delete("PL Recovery", {"received_on": ("between", ["2026-05-01", "2026-05-31"])})
	# as deleting them as documents (or re-importing) does: the monthly summary drops May onwards
	portfolio_months.invalidate_collections(["2026-05-01"])
	assert evaluation.stored_values(cycle, evaluation.plan_for(cycle)) is not None
	new_rows = reference_metric_rows(cycle)
	changed = {
		(r["metric"], r["scope_code"])
		for r, o in zip(new_rows, old_rows, strict=True)
		if r["scheme_mean"] != o["scheme_mean"]
	}
	assert ("recovery_rate", "whole_portfolio") in changed

	# the scheme owner recomputes the cycle: appraisals change, so the stored values are stale
	frappe.set_user(data.users.manager)
	with patch.object(frappe, "enqueue"):  # the queued refresh is not run here
		result = api.cycle_step(data.formal, "compute")
	frappe.set_user("Administrator")
	assert result["changed_appraisals"] > 0
	assert evaluation.stored_values(cycle, evaluation.plan_for(cycle)) is None

	# the report computes them again from the data, and stores them
	report = run(data.users.manager, review_cycle=data.formal)
	assert_same_rows(metric_part(report), new_rows)
	assert stored_computed_on(data.formal) > before
	with no_frames():
		assert_same_rows(metric_part(run(data.users.manager, review_cycle=data.formal)), new_rows)


def test_other_inputs_make_the_stored_values_stale(data):
	evaluation.refresh_cycle_evaluation(data.formal)

	def fresh() -> bool:
		current = cycle_doc(data.formal)
		return evaluation.stored_values(current, evaluation.plan_for(current)) is not None

	assert fresh()
	# another baseline period
	frappe.db.set_value("PL Review Cycle", data.formal, "baseline_start", "2026-02-01")
	assert not fresh()
	frappe.db.set_value("PL Review Cycle", data.formal, "baseline_start", "2026-01-01")
	assert fresh()
	# a new survey answer (team_satisfaction reads the cycle's survey)
	frappe.db.savepoint("plp_sev_survey")
	answered = set(
		frappe.get_all("PL Satisfaction Survey", {"review_cycle": data.formal}, pluck="respondent")
	)
	other = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": data.formal, "employee": ("not in", list(answered))},
		fields=["employee", "pl_team"],
		limit=1,
	)[0]
	frappe.get_doc(
		{
			"doctype": "PL Satisfaction Survey",
			"review_cycle": data.formal,
			"respondent": other.employee,
			"pl_team": other.pl_team,
			"fairness": 1,
			"clarity": 1,
			"motivation": 1,
			"workload": 1,
		}
	).insert()
	assert not fresh()
	frappe.db.rollback(save_point="plp_sev_survey")
	assert fresh()
	# another baseline survey: the trial's answers are gone
	frappe.db.delete("PL Satisfaction Survey", {"review_cycle": data.trial})
	assert not fresh()
	frappe.db.rollback(save_point=SAVEPOINT)
	frappe.db.savepoint(SAVEPOINT)
	evaluation.refresh_cycle_evaluation(data.formal)
	assert fresh()
	# an appraisal less: other subjects
	appraisal = frappe.get_all(
		"PL Appraisal", {"review_cycle": data.formal, "layer": "Collection"}, pluck="name"
	)[0]
	frappe.delete_doc("PL Appraisal", appraisal, force=True, ignore_permissions=True)
	assert not fresh()


def test_compute_queues_the_refresh_and_the_job_stores_the_values(data, monkeypatch):
	evaluation.delete_values(data.formal)
	frappe.set_user(data.users.manager)
	with patch.object(frappe, "enqueue") as enqueue:
		api.cycle_step(data.formal, "compute")  # small cycle in a test: computed inline, then queued
	assert enqueue.call_count == 1
	method, kwargs = enqueue.call_args.args[0], enqueue.call_args.kwargs
	assert method == REFRESH
	assert kwargs == {
		"queue": "long",
		"timeout": 3600,
		"job_id": f"pl-scheme-evaluation-{data.formal}",
		"deduplicate": True,
		"enqueue_after_commit": True,
		"review_cycle": data.formal,
		"publish_progress": True,
	}
	# recomputing one appraisal queues it too
	appraisal = frappe.get_all("PL Appraisal", {"review_cycle": data.formal}, pluck="name")[0]
	with patch.object(frappe, "enqueue") as enqueue:
		api.compute_appraisal(appraisal)
	assert enqueue.call_args.args[0] == REFRESH and enqueue.call_args.kwargs["review_cycle"] == data.formal
	frappe.set_user("Administrator")
	assert stored_count(data.formal) == 0  # nothing stored until the job runs

	# the worker runs the queued call: progress up to 100, values stored, the report reads them
	with patch.object(frappe, "publish_progress") as progress:
		result = frappe.get_attr(method)(**{k: kwargs[k] for k in ("review_cycle", "publish_progress")})
	assert result["rows"] == stored_count(data.formal) > 0
	percents = [c.args[0] for c in progress.call_args_list]
	assert percents == sorted(percents) and percents[-1] == 100 and len(percents) == result["metrics"] + 1
	with no_frames():
		rows = metric_part(run(data.users.manager, review_cycle=data.formal))
	assert_same_rows(rows, reference_metric_rows(cycle_doc(data.formal)))


def test_only_report_readers_may_ask_for_a_refresh(data):
	for user in (data.users.lead, data.users.staff, data.users.nobody):
		frappe.set_user(user)
		with patch.object(frappe, "enqueue") as enqueue:
			with pytest.raises(frappe.PermissionError):
				api.refresh_scheme_evaluation(data.formal)
		assert not enqueue.called, user
		frappe.set_user("Administrator")
		with pytest.raises(frappe.PermissionError):
			run(user, review_cycle=data.formal)  # nor may they read the report
	for user in (data.users.manager, data.users.executive):
		frappe.set_user(user)
		with patch.object(frappe, "enqueue") as enqueue:
			assert api.refresh_scheme_evaluation(data.formal) == {
				"queued": True,
				"job_id": f"pl-scheme-evaluation-{data.formal}",
			}
		assert (
			enqueue.call_args.args[0] == REFRESH and enqueue.call_args.kwargs["review_cycle"] == data.formal
		)
	frappe.set_user(data.users.manager)
	with pytest.raises(frappe.DoesNotExistError):
		api.refresh_scheme_evaluation("_Test PL SEV No Such Cycle")


def test_no_write_on_a_replica_or_in_read_only_mode(data, monkeypatch):
	cycle = cycle_doc(data.formal)
	evaluation.delete_values(data.formal)
	plan = evaluation.plan_for(cycle)
	computed = evaluation.Evaluation(evaluation.compute_values(cycle, plan), get_datetime(), stored=False)
	# on a read replica (the report's connection is not the primary): the refresh is queued instead,
	# sent when the primary commits at the end of the request
	primary = frappe.local.db
	with monkeypatch.context() as replica, patch.object(frappe, "enqueue") as enqueue:
		replica.setattr(frappe.local, "primary_db", primary, raising=False)
		replica.setattr(frappe.local, "replica_db", object(), raising=False)
		replica.setattr(frappe.local, "db", frappe.local.replica_db)
		monkeypatch.setattr(frappe.local.flags, "commit", False, raising=False)
		evaluation._store_for_report(data.formal, plan, computed)
		assert frappe.local.db is frappe.local.replica_db  # back on the replica afterwards
	assert frappe.local.db is primary
	assert enqueue.call_args.args[0] == REFRESH
	assert enqueue.call_args.kwargs["enqueue_after_commit"] is True and frappe.local.flags.commit is True
	assert stored_count(data.formal) == 0
	# in a read-only transaction: nothing at all
	monkeypatch.setattr(frappe.flags, "read_only", True)
	with patch.object(frappe, "enqueue") as enqueue:
		evaluation._store_for_report(data.formal, plan, computed)
	assert not enqueue.called and stored_count(data.formal) == 0
	monkeypatch.setattr(frappe.flags, "read_only", False)
	# on the primary: stored, and the request asked to commit (a report runs in a GET request)
	monkeypatch.setattr(frappe.local.flags, "commit", False, raising=False)
	evaluation._store_for_report(data.formal, plan, computed)
	assert stored_count(data.formal) > 0 and frappe.local.flags.commit is True


def empty_cycle(name: str, start: str, end: str, baseline: tuple[str, str]) -> str:
	"""A Draft cycle: teams and templates, no appraisals."""
	teams = frappe.get_all("PL Review Cycle Team", {"parent": FORMAL}, pluck="pl_team")
	return (
		frappe.get_doc(
			{
				"doctype": "PL Review Cycle",
				"cycle_name": name,
				"company": COMPANY,
				"period_start": start,
				"period_end": end,
				"baseline_start": baseline[0],
				"baseline_end": baseline[1],
				"templates": [{"layer": layer, "template": f"{layer} - Default"} for layer in LAYERS],
				"teams": [{"pl_team": team} for team in teams],
			}
		)
		.insert()
		.name
	)


def test_a_deleted_cycle_takes_its_values_along(data):
	# Q3 (no appraisals, one survey answer) and Q4, whose baseline is Q3: its baseline survey is Q3's
	q3 = empty_cycle("_Test PL SEV Q3", "2026-07-01", "2026-09-30", ("2026-04-01", "2026-06-30"))
	q4 = empty_cycle("_Test PL SEV Q4", "2026-10-01", "2026-12-31", ("2026-07-01", "2026-09-30"))
	respondent = frappe.get_all("PL Appraisal", {"review_cycle": data.formal}, ["employee", "pl_team"])[0]
	survey = frappe.get_doc(
		{
			"doctype": "PL Satisfaction Survey",
			"review_cycle": q3,
			"respondent": respondent.employee,
			"pl_team": respondent.pl_team,
			"fairness": 4,
			"clarity": 4,
			"motivation": 4,
			"workload": 4,
		}
	).insert()
	# no appraisals: the whole portfolio's three business metrics, one value per period
	assert evaluation.refresh_cycle_evaluation(q3)["rows"] == 6
	assert evaluation.refresh_cycle_evaluation(q4)["rows"] == 6
	assert (
		frappe.get_all(
			"PL Metric Value", {"review_cycle": q4, "period": evaluation.BASELINE}, pluck="survey_cycle"
		)
		== [q3] * 3
	)
	frappe.delete_doc("PL Satisfaction Survey", survey.name)
	# neither its own values nor the values that name it as their survey keep it from being deleted
	frappe.delete_doc("PL Review Cycle", q3)
	assert not frappe.db.exists("PL Review Cycle", q3)
	assert stored_count(q3) == 0 and stored_count(q4) == 6
	q4_doc = cycle_doc(q4)
	assert evaluation.stored_values(q4_doc, evaluation.plan_for(q4_doc)) is None  # another baseline survey


def test_an_unreachable_queue_does_not_undo_the_compute(data, monkeypatch):
	from redis.exceptions import ConnectionError as RedisConnectionError

	monkeypatch.setattr(frappe, "log_error", lambda *args, **kwargs: None)
	frappe.set_user(data.users.manager)
	with patch.object(frappe, "enqueue", side_effect=RedisConnectionError("down")):
		assert api.cycle_step(data.formal, "compute")["appraisals"] > 0  # computed; the refresh is skipped
		with pytest.raises(frappe.ValidationError, match="not reachable"):
			api.refresh_scheme_evaluation(data.formal)
