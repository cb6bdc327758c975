"""Subject-sized frames (services.subject_frames) give the same values as the whole-period frames.

The fixed-seed generated portfolio of test_metrics_on_site is loaded into the site (rolled back after each
test); every built-in metric of engine/metric_catalog.py is computed for a few people, per employee and per
team's people, once from the whole period's frames and once from frames read for those people only, and
the two must agree exactly (NaN where there is no data). The appraisal pipeline is then run on one
appraisal of each layer through both paths and must write the same lines.
"""

from __future__ import annotations

import datetime as dt
import math

import frappe

from postloan_performance.engine.metric_catalog import BUILTIN_METRICS
from postloan_performance.services import portfolio_frames, subject_frames
from postloan_performance.services.compute import (
	EMPLOYEE,
	PORTFOLIO,
	TEAM_PEOPLE,
	SubjectBuilder,
	compute_appraisals,
)
from postloan_performance.services.cycle import create_appraisals
from postloan_performance.services.metric_frames import FrameCache, Window, compute_metric
from postloan_performance.services.subject_frames import PortfolioFrameCache, SubjectFrameCache
from tests.integration.test_metrics_on_site import (  # noqa: F401 (fixtures)
	BASELINE,
	COLLECTION_TEMPLATE,
	PERIOD,
	_collection_scheme,
	_enable_server_scripts,
	_headers,
	_lines,
	_make_cycle,
	dataset,
	loaded,
	no_stale_script_map,
)


def _few_people(loaded) -> list[frappe._dict]:  # noqa: F811
	"""Two employees of each layer, with their teams."""
	ds = loaded.ds
	headers = []
	for layer in ("Management", "Collection", "Risk Control", "Customer Service"):
		rows = ds.employees[ds.employees["layer"] == layer].head(2)
		headers += [
			frappe._dict(employee=loaded.employee_of[r.key], pl_team=r.team) for r in rows.itertuples()
		]
	return headers


def _same(a: float, b: float) -> bool:
	if math.isnan(a) or math.isnan(b):
		return math.isnan(a) and math.isnan(b)
	return abs(a - b) <= 1e-9 * max(1.0, abs(a))


def test_every_metric_is_the_same_from_subject_sized_frames(loaded):  # noqa: F811
	headers = _few_people(loaded)
	builder = SubjectBuilder(headers)
	people = set(builder.frame(EMPLOYEE)["employee"]) | set(builder.frame(TEAM_PEOPLE)["employee"].dropna())
	for window in (Window(*PERIOD, *BASELINE), Window(*PERIOD)):
		whole = FrameCache(window, None)
		sized = SubjectFrameCache(window, None, people)
		problems, with_data = [], 0
		for code in sorted(BUILTIN_METRICS):
			for kind in (EMPLOYEE, TEAM_PEOPLE):
				subjects = builder.frame(kind)
				expected = compute_metric(code, whole, subjects)
				got = compute_metric(code, sized, subjects)
				assert sorted(expected.index) == sorted(got.index), (code, kind)
				for subject, value in expected.items():
					with_data += not math.isnan(value)
					if not _same(float(value), float(got[subject])):
						problems.append(
							f"{code} {kind} {subject}: whole {value!r}, subject-sized {got[subject]!r}"
						)
				assert whole.data_date(code, False) >= sized.data_date(code, False) or code in (
					"npl_ratio",
					"npl_ratio_reduction",
				)
		assert not problems, "\n".join(problems)
		assert with_data >= 20  # the comparison met real values, not only "no data"
	# one collector's frames are smaller than the whole period's
	one = SubjectFrameCache(window, None, [headers[2].employee])
	assert 0 < len(one.get("cases")) < len(whole.get("cases"))
	assert 0 < len(one.get("actions")) < len(whole.get("actions"))


def test_every_metric_is_the_same_from_team_sized_portfolio_frames(loaded):  # noqa: F811
	"""Portfolio subjects: every metric from the frames of the teams' loans equals the whole period's."""
	headers = _few_people(loaded)
	builder = SubjectBuilder(headers)
	subjects = builder.frame(PORTFOLIO)
	teams = set(subjects["team"])
	for window in (Window(*PERIOD, *BASELINE), Window(*PERIOD)):
		whole = FrameCache(window, None)
		sized = PortfolioFrameCache(window, None, teams)
		problems, with_data = [], 0
		for code in sorted(BUILTIN_METRICS):
			expected = compute_metric(code, whole, subjects)
			got = compute_metric(code, sized, subjects)
			assert sorted(expected.index) == sorted(got.index), code
			for subject, value in expected.items():
				with_data += not math.isnan(value)
				if not _same(float(value), float(got[subject])):
					problems.append(f"{code} {subject}: whole {value!r}, team-sized {got[subject]!r}")
			assert whole.data_date(code, True) == sized.data_date(code, True), code
		assert not problems, "\n".join(problems)
		assert with_data >= 10  # the comparison met real values, not only "no data"
		assert sized.recovery_totals() is not None  # whole months: the recovery rates read the summary
	# one team's frames are smaller than the whole period's
	team = next(h.pl_team for h in headers if h.pl_team and "Collection" in h.pl_team)
	one = PortfolioFrameCache(window, None, [team])
	for name in ("loans", "cases", "recoveries"):
		assert 0 < len(one.get(name)) < len(whole.get(name)), name


def _recovery_rates(cache, subjects) -> dict:
	return {
		code: compute_metric(code, cache, subjects).to_dict()
		for code in ("recovery_rate", "recovery_rate_improvement")
	}


def _assert_same_rates(expected: dict, got: dict) -> None:
	for code, values in expected.items():
		assert values.keys() == got[code].keys(), code
		for subject, value in values.items():
			assert _same(float(value), float(got[code][subject])), (code, subject, value, got[code][subject])


def test_portfolio_recovery_rates_from_the_summary_follow_closed_cases(loaded):  # noqa: F811
	"""The summary's Case rows count cases by opening and closing month: a case closed later (as the daily
	collection job does, which then invalidates its opening month's rows) changes the rates read from the
	summary as it changes the set-wise ones; a period that is not whole months reads the rows instead."""
	from postloan_performance.services import portfolio_months

	subjects = SubjectBuilder(_few_people(loaded)).frame(PORTFOLIO)
	teams = set(subjects["team"])
	window = Window(*PERIOD, *BASELINE)
	before = _recovery_rates(FrameCache(window), subjects)
	_assert_same_rates(before, _recovery_rates(PortfolioFrameCache(window, None, teams), subjects))
	assert frappe.db.count("PL Portfolio Month", {"kind": portfolio_months.CASE})
	# cases of the teams open through the period, opened before the baseline: closed before the period
	closing = frappe.db.sql(
		"""select c.name, c.opened_on from `tabPL Collection Case` c join `tabPL Loan` l on l.name = c.loan
		where l.managing_team in %(teams)s and c.opened_on < %(base)s and c.closed_on is null
		and c.entry_overdue_amount > 0 order by c.name limit 20""",
		{"teams": tuple(teams), "base": BASELINE[0]},
		as_dict=True,
	)
	assert closing
	frappe.db.sql(
		"update `tabPL Collection Case` set closed_on = %s, status = 'Cured' where name in %s",
		(BASELINE[1], tuple(c.name for c in closing)),
	)
	portfolio_months.invalidate_cases([c.opened_on for c in closing])
	after = _recovery_rates(FrameCache(window), subjects)
	assert after != before  # the closed cases left the period's workload
	sized = PortfolioFrameCache(window, None, teams)
	_assert_same_rates(after, _recovery_rates(sized, subjects))
	assert sized.recovery_totals() is not None
	# a period that is not whole calendar months: the summary cannot serve it, the rows are read
	odd = Window(PERIOD[0], PERIOD[1] - dt.timedelta(days=3), *BASELINE)
	sized = PortfolioFrameCache(odd, None, teams)
	assert sized.recovery_totals() is None
	_assert_same_rates(_recovery_rates(FrameCache(odd), subjects), _recovery_rates(sized, subjects))


def test_one_appraisal_per_layer_scores_the_same_on_both_paths(loaded, monkeypatch, no_stale_script_map):  # noqa: F811
	ds = loaded.ds
	_enable_server_scripts(monkeypatch)
	_collection_scheme(ds)
	cycle = _make_cycle(ds, COLLECTION_TEMPLATE)
	create_appraisals(cycle)
	by_layer = {}
	for h in sorted(_headers(cycle).values(), key=lambda h: h.name):
		by_layer.setdefault(h.layer, []).append(h.name)
	picked = [names[0] for names in by_layer.values()] + by_layer["Collection"][1:3]

	def run(path):
		frappe.local.plp_frames_path = path
		try:
			result = compute_appraisals(names=picked)
		finally:
			frappe.local.plp_frames_path = None
		return result, {k: v for k, v in _lines(cycle).items() if v.parent in picked}

	set_result, set_lines = run("set")
	assert not set_result["subject_sized"]
	subject_result, subject_lines = run("subject")
	assert subject_result["subject_sized"]
	assert subject_result["changed_appraisals"] == 0, "the subject-sized path changed computed values"
	assert set_lines == subject_lines
	# automatic choice: few people take the subject-sized path
	one = by_layer["Collection"][:1]
	assert compute_appraisals(names=one)["subject_sized"]
	monkeypatch.setattr(subject_frames, "SUBJECT_READ_LIMIT", 0)
	assert not compute_appraisals(names=one)["subject_sized"]
	manager = by_layer["Management"][:1]
	assert compute_appraisals(names=manager)["subject_sized"]
	monkeypatch.setattr(subject_frames, "PORTFOLIO_TEAM_LIMIT", 0)
	assert compute_appraisals(names=manager)["subject_sized"]  # its metrics come from the summary
	monkeypatch.setattr(portfolio_frames, "load_recovery_totals", lambda window, teams: None)
	assert not compute_appraisals(names=manager)["subject_sized"]


def test_rows_of_other_peoples_cases_and_missing_snapshots(loaded):  # noqa: F811
	"""An action logged by A on B's case counts for B (the set-wise rule), so A's subject-sized frames must
	leave it out; and when A's loans have no snapshot on the last snapshot date, A's NPL ratio has no data
	there (the engine's "last date" is the whole book's, not A's)."""
	window = Window(*PERIOD, *BASELINE)
	collectors = frappe.db.sql_list(
		"""select collector from `tabPL Collection Case` where name like 'PLM-%%' and collector is not null
		group by collector order by count(*) desc limit 2"""
	)
	a, b = collectors
	moved = frappe.db.sql(
		"""select act.name from `tabPL Collection Action` act
		join `tabPL Collection Case` c on c.name = act.collection_case
		where c.collector = %(b)s and act.action_on between %(start)s and %(end)s limit 5""",
		{"b": b, "start": PERIOD[0], "end": PERIOD[1]},
		pluck=True,
	)
	assert moved
	frappe.db.sql("update `tabPL Collection Action` set collector = %s where name in %s", (a, tuple(moved)))
	last = FrameCache(window).npl_dates()[0]
	frappe.db.sql(
		"""delete s from `tabPL Loan Snapshot` s join `tabPL Collection Case` c on c.loan = s.loan
		where c.collector = %s and s.as_of_date = %s""",
		(a, last),
	)
	subjects = SubjectBuilder([frappe._dict(employee=a, pl_team=None)]).frame(EMPLOYEE)
	whole, sized = FrameCache(window), SubjectFrameCache(window, None, [a])
	problems = []
	for code in sorted(BUILTIN_METRICS):
		expected, got = compute_metric(code, whole, subjects)[a], compute_metric(code, sized, subjects)[a]
		if not _same(float(expected), float(got)):
			problems.append(f"{code}: whole {expected!r}, subject-sized {got!r}")
	assert not problems, "\n".join(problems)
	assert set(moved) & set(frappe.get_all("PL Collection Action", {"collector": a}, pluck="name"))
	assert math.isnan(compute_metric("npl_ratio", sized, subjects)[a])
