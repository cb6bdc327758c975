"""The metric values of the Scheme Effect Evaluation, computed once and stored (PL Metric Value).

The report compares, per built-in metric and kind of subject, each subject's value in the baseline period
with its value in the scheme period (the cycle's period). Computing them loads every post-loan frame twice
(one FrameCache per period): ~20 s for the benchmark's 2,000 appraisals. So they are stored, one row per
cycle, period, metric, scope and subject (``value`` the exact float as text, empty when the subject has
no data; ``idx`` keeps the order in which the engine returned them, which the permutation test's
resampling depends on), and:

- refreshed on the long queue after the cycle's KPIs are computed (``api.compute_cycle_job``,
  ``api.compute_appraisal``) and on demand (``api.refresh_scheme_evaluation``), see :func:`enqueue_refresh`;
- read by the report while they are fresh (:func:`cycle_values`), else computed there and stored.

Stored values are fresh when they were computed with the periods and survey cycles the cycle has now,
cover exactly the metrics and subjects its KPI lines ask for now, and when no appraisal of the cycle has
been recomputed with a changed result (``PL Appraisal.computed_on``) and no answer of those surveys given
or changed (``modified``) since. A change of post-loan data or team memberships alone does not make them
stale: the next compute of the cycle, or a refresh on demand, brings them up to date.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

import frappe
from frappe import _
from frappe.utils import get_datetime, getdate, now_datetime

from postloan_performance.engine import metrics as engine_metrics
from postloan_performance.engine.formula import parse_formula
from postloan_performance.engine.metric_catalog import BUILTIN_METRICS
from postloan_performance.services.background import enqueue_long
from postloan_performance.services.bulk import by_name, insert_many
from postloan_performance.services.compute import EMPLOYEE, PORTFOLIO, TEAM_PEOPLE, SubjectBuilder
from postloan_performance.services.metric_frames import (
	FrameCache,
	Window,
	compute_metric,
	cycles_with_survey,
	survey_cycle_for,
)

DOCTYPE = "PL Metric Value"
BASELINE, SCHEME = "Baseline Period", "Scheme Period"
PERIODS = (BASELINE, SCHEME)
# A metric that is itself a change against the baseline is evaluated on the level it changes.
LEVEL_OF = {"npl_ratio_reduction": "npl_ratio", "recovery_rate_improvement": "recovery_rate"}
# Business metrics of the company's whole portfolio: one value per period.
BUSINESS_METRICS = ("npl_ratio", "recovery_rate", "collection_success_rate")
WHOLE_PORTFOLIO = "whole_portfolio"
PORTFOLIO_SUBJECT = "__portfolio__"
KIND_ORDER = {EMPLOYEE: 0, TEAM_PEOPLE: 1, PORTFOLIO: 2}
CYCLE_FIELDS = ["name", "company", "period_start", "period_end", "baseline_start", "baseline_end"]
INSERT_CHUNK = 5000
NAME_LENGTH = 20  # random names: tens of thousands of rows per refresh, never a clash in practice
STORE_ERRORS = (frappe.QueryDeadlockError, frappe.QueryTimeoutError)

Key = tuple[str, str]  # (metric code, scope)
Values = dict[Key, dict[str, list[tuple[str, float | None]]]]  # key -> period -> [(subject, value)]


@dataclass(frozen=True)
class PeriodInputs:
	from_date: dt.date
	to_date: dt.date
	cache_cycle: str | None  # the review cycle given to the period's FrameCache
	survey_cycle: str | None  # the cycle whose survey answers that FrameCache reads


@dataclass
class Plan:
	"""What the evaluation of a cycle computes: subjects per (metric, scope), and each period's inputs."""

	wanted: dict[Key, set[str]]
	subjects: SubjectBuilder
	periods: dict[str, PeriodInputs]

	def keys(self) -> list[Key]:
		"""The report's row order: KPI metrics by code and kind, then the whole portfolio's."""
		ordered = sorted(self.wanted, key=lambda key: (key[0], KIND_ORDER[key[1]]))
		return ordered + [(code, WHOLE_PORTFOLIO) for code in BUSINESS_METRICS]

	def subjects_of(self, key: Key) -> set[str]:
		return {PORTFOLIO_SUBJECT} if key[1] == WHOLE_PORTFOLIO else self.wanted[key]

	def reads_survey(self) -> bool:
		return any("survey" in engine_metrics.METRICS[code].frames for code, _scope in self.keys())


@dataclass
class Evaluation:
	values: Values
	computed_on: dt.datetime
	stored: bool  # read from PL Metric Value (True) or computed just now (False)


# ---------------------------------------------------------------- what to compute
def metric_codes(kpi) -> set[str]:
	if kpi.method == "Built-in" and kpi.builtin_metric:
		return {kpi.builtin_metric}
	if kpi.method == "Formula" and kpi.formula:
		return set(parse_formula(kpi.formula, frozenset(BUILTIN_METRICS)))
	return set()


def baseline_survey_cycle(cycle) -> str | None:
	"""The cycle whose period is exactly the baseline period and that has survey answers (the one with
	the most when there are several): its survey is the baseline's."""
	from frappe.query_builder.functions import Count

	other, survey, surveyed = cycles_with_survey()
	query = (
		surveyed.select(other.name)
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


def plan_for(cycle) -> Plan:
	"""Subjects of each (metric, scope) the cycle's KPI lines read, for the subjects they are scored on
	(each appraisee for Employee KPIs, each team for Team KPIs), and the inputs of the two periods."""
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
	kpis = by_name(
		"PL KPI",
		list({line.kpi for line in lines}) or [""],
		["method", "builtin_metric", "formula", "subject"],
	)
	subjects = SubjectBuilder(headers)
	wanted: dict[Key, set[str]] = defaultdict(set)
	for line in lines:
		kpi, header = kpis.get(line.kpi), header_by_name[line.parent]
		if not kpi:
			continue
		kind = subjects.kind(kpi, header)
		for code in metric_codes(kpi):
			wanted[(LEVEL_OF.get(code, code), kind)].add(subjects.subject(kind, header))

	# team_satisfaction reads the survey of the evaluated cycle for the scheme period (see
	# metrics.survey_cycle_for) and, for the baseline, the survey of the cycle covering the baseline period
	baseline_cycle = baseline_survey_cycle(cycle)
	periods = {
		BASELINE: PeriodInputs(
			getdate(cycle.baseline_start), getdate(cycle.baseline_end), baseline_cycle, baseline_cycle
		),
		SCHEME: PeriodInputs(
			getdate(cycle.period_start), getdate(cycle.period_end), cycle.name, survey_cycle_for(cycle.name)
		),
	}
	return Plan(dict(wanted), subjects, periods)


# ---------------------------------------------------------------- computing
def _value(value) -> float | None:
	return float(value) if value is not None and pd.notna(value) else None


def _entries(series: pd.Series, subjects: set[str]) -> list[tuple[str, float | None]]:
	"""The engine's values in its order, then the subjects it returned nothing for (no data)."""
	entries = [(str(subject), _value(value)) for subject, value in series.items()]
	returned = {subject for subject, _value_ in entries}
	return entries + [(subject, None) for subject in sorted(subjects - returned)]


def compute_values(cycle, plan: Plan, publish_progress: bool = False) -> Values:
	"""Every value of the evaluation from the post-loan data: one FrameCache per period."""
	caches = {
		period: FrameCache(Window(inputs.from_date, inputs.to_date), inputs.cache_cycle)
		for period, inputs in plan.periods.items()
	}
	company_teams = frappe.get_all(
		"PL Team", filters={"company": cycle.company} if cycle.company else {}, pluck="name"
	)
	portfolio = pd.DataFrame(
		{"subject": PORTFOLIO_SUBJECT, "team": company_teams}, columns=["subject", "team"]
	)
	keys = plan.keys()
	values: Values = {}
	for number, key in enumerate(keys, start=1):
		code, scope = key
		if scope == WHOLE_PORTFOLIO:
			frame = portfolio
		else:
			frame = plan.subjects.frame(scope)
			frame = frame[frame["subject"].isin(plan.wanted[key])]
		subjects = plan.subjects_of(key)
		values[key] = {
			period: _entries(compute_metric(code, caches[period], frame), subjects) for period in PERIODS
		}
		if publish_progress:
			frappe.publish_progress(
				number * 100 / (len(keys) + 1),
				title=_("Computing Scheme Effect Metrics"),
				description=_("{0} of {1} metrics").format(number, len(keys)),
			)
	return values


# ---------------------------------------------------------------- storing and reading
def store(cycle_name: str, plan: Plan, values: Values, computed_on: dt.datetime) -> int:
	"""Replace the cycle's stored values: one delete and a few multi-row inserts. Returns the row count."""
	frappe.db.delete(DOCTYPE, {"review_cycle": cycle_name})
	now, user = now_datetime(), frappe.session.user
	fields = [
		"name",
		"creation",
		"modified",
		"owner",
		"modified_by",
		"docstatus",
		"idx",
		"review_cycle",
		"period",
		"from_date",
		"to_date",
		"survey_cycle",
		"metric",
		"scope",
		"subject",
		"value",
		"computed_on",
	]
	rows = []
	for (code, scope), by_period in values.items():
		for period in PERIODS:
			inputs = plan.periods[period]
			for subject, value in by_period[period]:
				rows.append(
					(
						frappe.generate_hash(length=NAME_LENGTH),
						now,
						now,
						user,
						user,
						0,
						len(rows) + 1,
						cycle_name,
						period,
						inputs.from_date,
						inputs.to_date,
						inputs.survey_cycle,
						code,
						scope,
						subject,
						None if value is None else repr(value),  # repr round-trips a float exactly
						computed_on,
					)
				)
	insert_many(DOCTYPE, fields, rows, chunk_size=INSERT_CHUNK)
	return len(rows)


def delete_values(cycle_name: str) -> None:
	frappe.db.delete(DOCTYPE, {"review_cycle": cycle_name})


def last_input_change(cycle_name: str, plan: Plan) -> dt.datetime | None:
	"""When an appraisal of the cycle was last recomputed with a changed result, or an answer of a survey
	the evaluation reads was last given or changed."""
	changes = frappe.db.sql(
		"""select max(`computed_on`) from `tabPL Appraisal`
		where `review_cycle` = %s and `docstatus` < 2""",
		cycle_name,
	)
	latest = [changes[0][0]]
	surveys = sorted({p.survey_cycle for p in plan.periods.values() if p.survey_cycle})
	if surveys and plan.reads_survey():
		answered = frappe.db.sql(
			"select max(`modified`) from `tabPL Satisfaction Survey` where `review_cycle` in %s",
			(tuple(surveys),),
		)
		latest.append(answered[0][0])
	moments = [get_datetime(moment) for moment in latest if moment]
	return max(moments) if moments else None


def stored_values(cycle, plan: Plan) -> Evaluation | None:
	"""The cycle's stored values when they are fresh (module docstring), else None. One query for the
	values, one or two for the changes since."""
	rows = frappe.db.sql(
		"""select `period`, `from_date`, `to_date`, `survey_cycle`, `metric`, `scope`, `subject`, `value`,
			`computed_on`
		from `tabPL Metric Value` where `review_cycle` = %s order by `idx`""",
		cycle.name,
	)
	if not rows:
		return None
	found: Values = {}
	inputs: dict[str, set] = defaultdict(set)
	computed_on = None
	for period, from_date, to_date, survey_cycle, metric, scope, subject, value, on in rows:
		if period not in PERIODS:
			return None
		by_period = found.setdefault((metric, scope), {BASELINE: [], SCHEME: []})
		by_period[period].append((subject, None if value is None else float(value)))
		inputs[period].add((from_date, to_date, survey_cycle))  # Date columns arrive as datetime.date
		computed_on = on if computed_on is None else min(computed_on, on)
	for period, current in plan.periods.items():
		if inputs[period] != {(current.from_date, current.to_date, current.survey_cycle)}:
			return None  # other periods, or another survey
	keys = plan.keys()
	if set(found) != set(keys):
		return None  # other metrics
	for key in keys:
		subjects = plan.subjects_of(key)
		if any({subject for subject, _value_ in found[key][p]} != subjects for p in PERIODS):
			return None  # other subjects
	computed_on = get_datetime(computed_on)
	changed = last_input_change(cycle.name, plan)
	if changed and changed > computed_on:
		return None  # recomputed, or surveys answered, since
	return Evaluation({key: found[key] for key in keys}, computed_on, stored=True)


# ---------------------------------------------------------------- entry points
def _cycle(review_cycle: str):
	return frappe.db.get_value("PL Review Cycle", review_cycle, CYCLE_FIELDS, as_dict=True)


def refresh_cycle_evaluation(review_cycle: str, publish_progress: bool = False) -> dict:
	"""Compute the cycle's evaluation values from the post-loan data and replace the stored ones (the
	background job after a compute; callable directly, e.g. to time it). Does not commit."""
	cycle = _cycle(review_cycle)
	if not cycle:
		return {"review_cycle": review_cycle, "rows": 0, "skipped": "no such cycle"}
	if not (cycle.baseline_start and cycle.baseline_end):
		delete_values(cycle.name)
		return {"review_cycle": cycle.name, "rows": 0, "skipped": "no baseline"}
	computed_on = now_datetime()  # before reading: anything recomputed meanwhile makes them stale
	plan = plan_for(cycle)
	values = compute_values(cycle, plan, publish_progress)
	rows = store(cycle.name, plan, values, computed_on)
	if publish_progress:
		frappe.publish_progress(
			100, title=_("Computing Scheme Effect Metrics"), description=_("{0} values stored").format(rows)
		)
	return {"review_cycle": cycle.name, "metrics": len(values), "rows": rows, "computed_on": str(computed_on)}


def job_id(review_cycle: str) -> str:
	return f"pl-scheme-evaluation-{review_cycle}"


def enqueue_refresh(review_cycle: str, after_commit: bool = True) -> str | None:
	"""Queue :func:`refresh_cycle_evaluation` on the long queue, once per cycle (deduplicated), with
	progress; after the caller's transaction commits unless ``after_commit`` is off. Returns the job id,
	or None when the queue is unreachable (logged: the work the caller did stands, and the report
	computes the values itself while they are missing or stale)."""
	from redis.exceptions import RedisError

	try:
		enqueue_long(
			"postloan_performance.services.evaluation.refresh_cycle_evaluation",
			job_id(review_cycle),
			after_commit,
			review_cycle=review_cycle,
			publish_progress=True,
		)
	except RedisError:
		frappe.log_error(title="Scheme Effect Evaluation: refresh not queued")
		return None
	return job_id(review_cycle)


def cycle_values(cycle) -> Evaluation:
	"""The evaluation values for the report: the stored ones when fresh, else computed now and stored
	(see :func:`_store_for_report`)."""
	started = now_datetime()  # before reading, as in refresh_cycle_evaluation
	plan = plan_for(cycle)
	evaluation = stored_values(cycle, plan)
	if evaluation:
		return evaluation
	evaluation = Evaluation(compute_values(cycle, plan), started, stored=False)
	_store_for_report(cycle.name, plan, evaluation)
	return evaluation


def _store_for_report(cycle_name: str, plan: Plan, evaluation: Evaluation) -> None:
	"""Store what the report just computed, so that the next opening reads it.

	Reports run through ``frappe.read_only()``: on a read replica nothing is written, the refresh is
	queued instead (it writes on the primary); in a read-only transaction nothing at all. Otherwise the
	values are written in the report's transaction. Either way the request is asked to commit at its end
	(a GET, which Frappe commits only when asked); the queued job is sent then. A concurrent writer wins:
	on a lock conflict nothing is stored.
	"""
	if frappe.flags.read_only:
		return
	primary = getattr(frappe.local, "primary_db", None)
	if primary is not None and frappe.local.db is not primary:
		_enqueue_on_primary(cycle_name)
		return
	savepoint = "plp_store_evaluation"
	frappe.db.savepoint(savepoint)
	try:
		store(cycle_name, plan, evaluation.values, evaluation.computed_on)
	except STORE_ERRORS:
		frappe.db.rollback(save_point=savepoint)
		return
	frappe.local.flags.commit = True


def on_cycle_trash(doc, method=None) -> None:
	"""doc_events: a deleted review cycle takes its stored evaluation values with it."""
	delete_values(doc.name)


@frappe.write_only()
def _enqueue_on_primary(cycle_name: str) -> None:
	"""From a report on the replica: queue the refresh once the primary connection commits."""
	enqueue_refresh(cycle_name)
	frappe.local.flags.commit = True
