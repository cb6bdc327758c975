"""Compute appraisal KPI lines from post-loan data, set-wise, and score them.

For any number of draft appraisals (one, a team, a whole cycle) the work is a fixed number of
queries: appraisals, lines, KPI definitions, teams and memberships, one per data frame the KPIs
need, one for 360 ratings, and chunked bulk writes. No per-employee query and no `get_doc` per
appraisal. Recomputing replaces values: running it twice gives the same rows and no new Version.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

import frappe
from frappe import _
from frappe.utils import flt, getdate, now_datetime

from postloan_performance.engine.formula import evaluate_formula, parse_formula
from postloan_performance.engine.frames import finite_or_none
from postloan_performance.engine.metric_catalog import BUILTIN_METRICS
from postloan_performance.services.appraisal import apply_scores, load_ratings, qualitative_from_ratings
from postloan_performance.services.bulk import bulk_update, insert_versions
from postloan_performance.services.locks import kill_point
from postloan_performance.services.metric_frames import FrameCache, Window, compute_metric

LINE_RESULT_FIELDS = ("actual", "no_data", "achievement", "score", "weighted_score", "data_date")
HEADER_RESULT_FIELDS = ("quantitative_score", "qualitative_score", "total_score", "grade", "final_grade")
EMPLOYEE, TEAM_PEOPLE, PORTFOLIO = "employee", "team", "portfolio"


class ComputeResult(frappe._dict):
	pass


def compute_appraisals(
	names: list[str] | None = None, review_cycle: str | None = None, publish_progress: bool = False
) -> ComputeResult:
	"""(Re)compute the KPI lines and scores of draft appraisals, by names or for a whole cycle."""
	headers = _locked_headers(names, review_cycle)
	result = ComputeResult(appraisals=0, lines=0, changed_appraisals=0, statements=0, queries_by_frame=0)
	for cycle, group in _group_by(headers, "review_cycle").items():
		part = _compute_cycle_part(cycle, group, publish_progress)
		for key, value in part.items():
			result[key] = result.get(key, 0) + value
	return result


HEADER_FIELDS = (
	"name",
	"employee",
	"pl_team",
	"layer",
	"template",
	"review_cycle",
	"calibrated_grade",
	"status",
	*HEADER_RESULT_FIELDS,
)
LINE_FIELDS = (
	"name",
	"parent",
	"idx",
	"kpi",
	"method",
	"direction",
	"scoring_method",
	"weight",
	"threshold",
	"target",
	"use_stretch",
	"stretch",
	"bands",
	*LINE_RESULT_FIELDS,
)


def _locked_headers(names: list[str] | None, review_cycle: str | None) -> list:
	"""The draft appraisals to compute, read with a locking read (``FOR UPDATE``).

	The rows stay locked until the computation's transaction ends, so a form saved meanwhile (a team
	leader typing a Manual KPI value, an appraisee his self-assessment) waits for it and then gets
	Frappe's "document modified" conflict instead of being overwritten by scores computed from the values
	read before; a save that came first is read here as committed (not from an older snapshot)."""
	if names is not None and not names:
		return []
	conditions, values = ["`docstatus` = 0"], {}
	if names is not None:
		conditions.append("`name` in %(names)s")
		values["names"] = tuple(names)
	if review_cycle:
		conditions.append("`review_cycle` = %(cycle)s")
		values["cycle"] = review_cycle
	columns = ", ".join(f"`{f}`" for f in HEADER_FIELDS)
	return frappe.db.sql(
		f"""select {columns} from `tabPL Appraisal` where {" and ".join(conditions)}
		order by `name` for update""",  # nosemgrep
		values,
		as_dict=True,
	)


def _locked_lines(names: list[str]) -> list:
	"""The KPI lines of these appraisals, locked like their headers (after them: a form's save locks the
	header first too)."""
	if not names:
		return []
	columns = ", ".join(f"`{f}`" for f in LINE_FIELDS)
	return frappe.db.sql(
		f"""select {columns} from `tabPL Appraisal KPI`
		where `parenttype` = 'PL Appraisal' and `parent` in %(names)s order by `parent`, `idx` for update""",  # nosemgrep
		{"names": tuple(names)},
		as_dict=True,
	)


def _group_by(rows, key):
	grouped = defaultdict(list)
	for row in rows:
		grouped[row[key]].append(row)
	return grouped


def _compute_cycle_part(cycle_name: str, headers: list, publish_progress: bool) -> dict:
	cycle = frappe.db.get_value(
		"PL Review Cycle",
		cycle_name,
		["name", "period_start", "period_end", "baseline_start", "baseline_end", "status"],
		as_dict=True,
	)
	if cycle.status in ("Calibration", "Published", "Closed"):
		frappe.throw(
			_("Review cycle {0} is in status {1}; KPIs can no longer be recomputed.").format(
				frappe.bold(cycle_name), _(cycle.status)
			),
			title=_("Not Allowed"),
		)
	names = [h.name for h in headers]
	lines = _locked_lines(names)
	by_parent = _group_by(lines, "parent")
	before = {
		h.name: (
			{line.name: {f: line.get(f) for f in LINE_RESULT_FIELDS} for line in by_parent.get(h.name, [])},
			{f: h.get(f) for f in HEADER_RESULT_FIELDS},
		)
		for h in headers
	}
	scored = score_rows(cycle, headers, lines, lambda step, text: _progress(publish_progress, step, 4, text))
	line_updates, header_updates, versions = {}, {}, {}
	for header in headers:
		own_lines = by_parent.get(header.name, [])
		before_lines, before_header = before[header.name]
		changed_lines = []
		for line in own_lines:
			diff = _diff(before_lines[line.name], line, LINE_RESULT_FIELDS)
			if diff:
				line_updates[line.name] = {f: line.get(f) for f in LINE_RESULT_FIELDS}
				changed_lines.append(["kpis", line.idx - 1, line.name, diff])
		header_diff = _diff(before_header, header, HEADER_RESULT_FIELDS)
		if header_diff or changed_lines:
			header_updates[header.name] = {f: header.get(f) for f in HEADER_RESULT_FIELDS}
			versions[header.name] = {
				"changed": header_diff,
				"row_changed": changed_lines,
				"updater_reference": {
					"doctype": "PL Review Cycle",
					"docname": cycle_name,
					"label": _("Recompute KPIs"),
				},
			}

	_progress(publish_progress, 3, 4, _("Saving"))
	kill_point("before_write")  # race and crash tests: everything read and scored, nothing written
	statements = bulk_update("PL Appraisal KPI", line_updates)
	kill_point("after_partial_write")  # crash tests: the lines written, not yet their headers
	now, user = now_datetime(), frappe.session.user
	for name in header_updates:
		header_updates[name].update({"computed_on": now, "modified": now, "modified_by": user})
	statements += bulk_update("PL Appraisal", header_updates)
	insert_versions("PL Appraisal", versions)
	_progress(publish_progress, 4, 4, _("Done"))
	return {
		"appraisals": len(headers),
		"lines": len(lines),
		"changed_appraisals": len(header_updates),
		"statements": statements,
		"queries_by_frame": scored["queries"],
		"subject_sized": scored["subject_sized"],
	}


def score_rows(cycle, headers: list, lines: list, progress=None) -> dict:
	"""Compute the KPI actuals of ``lines`` and score them and their ``headers``, in memory.

	The one computation path of KPI values, scores and grades: :func:`compute_appraisals` runs it on
	the locked rows of draft appraisals and writes what changed; the scheme what-if
	(``services/scheme_whatif.py``) runs it on rows built from another template and writes nothing.
	``cycle`` gives the period (``period_start``/``period_end``/``baseline_*``, ``name``); each header
	names its ``template``, ``employee``, ``pl_team`` and ``layer``; lines carry ``parent`` (the
	header's name, also the key of its 360 ratings) and the template's rule fields. Manual lines keep
	their actual. ``progress(step, description)`` is told of steps 1 and 2 of 4. Returns the number of
	data-frame queries (``queries``) and whether the people's frames were read for them only
	(``subject_sized``)."""
	progress = progress or (lambda step, text: None)
	window = Window(cycle.period_start, cycle.period_end, cycle.baseline_start, cycle.baseline_end)
	cache = FrameCache(window, cycle.name)
	kpis = {
		k.name: k
		for k in frappe.get_all(
			"PL KPI",
			filters={"name": ("in", list({line.kpi for line in lines}) or [""])},
			fields=["name", "method", "builtin_metric", "formula", "server_script", "subject"],
		)
	}
	subjects = SubjectBuilder(headers)
	header_by_name = {h.name: h for h in headers}
	progress(1, _("Loading post-loan data"))

	# What has to be computed: (metric code, subject kind) pairs, server scripts, 360.
	needed: set[tuple[str, str]] = set()
	for line in lines:
		kpi = kpis[line.kpi]
		kind = subjects.kind(kpi, header_by_name[line.parent])
		for code in _metric_codes(kpi):
			needed.add((code, kind))
	# few people: their frames are read for them only (services.subject_frames); portfolio subjects and
	# larger sets read the whole period once
	caches = {kind: cache for _code, kind in needed}
	people_cache = _people_cache(window, cycle.name, needed, subjects)
	if people_cache is not None:
		caches.update({kind: people_cache for kind in caches if kind != PORTFOLIO})
	portfolio_cache = _portfolio_cache(window, cycle.name, needed, subjects)
	if portfolio_cache is not None:
		caches[PORTFOLIO] = portfolio_cache
	values = {
		(code, kind): compute_metric(code, caches[kind], subjects.frame(kind))
		for code, kind in sorted(needed)
	}
	data_dates = {(code, kind): caches[kind].data_date(code, kind == PORTFOLIO) for code, kind in needed}
	script_values = _run_server_scripts(kpis, lines, header_by_name, subjects, window)
	ratings = load_ratings(list(header_by_name))
	progress(2, _("Scoring"))

	by_parent = _group_by(lines, "parent")
	templates = {t: frappe.get_doc("PL KPI Template", t) for t in {h.template for h in headers}}
	for header in headers:
		tpl = templates[header.template]
		own_lines = by_parent.get(header.name, [])
		qualitative = qualitative_from_ratings(ratings.get(header.name), tpl)
		for line in own_lines:
			kpi = kpis[line.kpi]
			kind = subjects.kind(kpi, header)
			subject = subjects.subject(kind, header)
			actual, data_date = _actual_for(
				kpi, kind, subject, values, data_dates, script_values, qualitative, window
			)
			if kpi.method == "Manual":
				continue  # typed by the team leader; only scored
			line.actual = 0 if actual is None else actual
			line.no_data = 1 if actual is None else 0
			line.data_date = data_date
		apply_scores(header, own_lines, tpl, qualitative)
	narrow = [c for c in (people_cache, portfolio_cache) if c is not None]
	return {
		"queries": cache.queries + sum(c.queries for c in narrow),
		"subject_sized": bool(narrow),
	}


def _people_cache(window, cycle_name, needed, subjects):
	"""A subject-sized frame cache for the people subjects when they are few (see services.subject_frames),
	else None (the whole period's frames serve every subject)."""
	from postloan_performance.services import subject_frames

	kinds = {kind for _code, kind in needed if kind != PORTFOLIO}
	if not kinds or subject_frames.forced_path() == "set":
		return None
	people = set()
	for kind in kinds:
		people.update(subjects.frame(kind)["employee"].dropna())
	if len(people) > subject_frames.SUBJECT_READ_LIMIT and subject_frames.forced_path() != "subject":
		return None
	return subject_frames.SubjectFrameCache(window, cycle_name, people)


def _portfolio_cache(window, cycle_name, needed, subjects):
	"""A frame cache holding the rows of the portfolio subjects' teams only (see
	services.subject_frames.PortfolioFrameCache), when they are few teams or their metrics come from the
	monthly summary; else None."""
	from postloan_performance.services import subject_frames

	codes = {code for code, kind in needed if kind == PORTFOLIO}
	if not codes or subject_frames.forced_path() == "set":
		return None
	teams = set(subjects.frame(PORTFOLIO)["team"].dropna())
	cache = subject_frames.PortfolioFrameCache(window, cycle_name, teams)
	if (
		subject_frames.forced_path() == "subject"
		or len(teams) <= subject_frames.PORTFOLIO_TEAM_LIMIT
		or cache.from_summary(codes)
	):
		return cache
	return None


def expression_time_limit() -> float:
	"""Seconds one formula or warning rule may take: 2 in a web request, 60 in a background job."""
	from postloan_performance.engine import expressions

	if getattr(frappe.local, "request", None) is not None:
		return expressions.REQUEST_TIME_LIMIT
	return expressions.JOB_TIME_LIMIT


def _metric_codes(kpi) -> set[str]:
	if kpi.method == "Built-in" and kpi.builtin_metric:
		return {kpi.builtin_metric}
	if kpi.method == "Formula" and kpi.formula:
		return parse_formula(kpi.formula, frozenset(BUILTIN_METRICS))
	return set()


def _actual_for(kpi, kind, subject, values, data_dates, script_values, qualitative, window):
	"""The line's actual (None = no data) and the date of the data it used."""
	if kpi.method == "Built-in":
		series = values[(kpi.builtin_metric, kind)]
		return finite_or_none(series.get(subject)), data_dates[(kpi.builtin_metric, kind)]
	if kpi.method == "Formula":
		codes = parse_formula(kpi.formula, frozenset(BUILTIN_METRICS))
		scope = {code: finite_or_none(values[(code, kind)].get(subject)) for code in codes}
		if any(v is None for v in scope.values()):
			return None, max(data_dates[(c, kind)] for c in codes)
		value = evaluate_formula(kpi.formula, scope, expression_time_limit())
		return finite_or_none(value), max(data_dates[(c, kind)] for c in codes)
	if kpi.method == "Server Script":
		return finite_or_none(script_values.get(kpi.name, {}).get(subject)), window.end
	if kpi.method == "360 Feedback":
		return qualitative, window.end
	return None, None


def _diff(before: dict, row, fields) -> list:
	changes = []
	for field in fields:
		old, new = before.get(field), row.get(field)
		if isinstance(new, float) or isinstance(old, float):
			if abs(flt(old) - flt(new)) > 1e-9:
				changes.append([field, old, new])
		elif field == "data_date":
			if (getdate(old) if old else None) != (getdate(new) if new else None):
				changes.append([field, old, new])
		elif (old or None) != (new or None):
			changes.append([field, old, new])
	return changes


def _progress(enabled: bool, step: int, total: int, description: str):
	if enabled:
		frappe.publish_progress(step * 100 / total, title=_("Computing KPIs"), description=description)


def _run_server_scripts(kpis, lines, header_by_name, subjects, window) -> dict[str, dict]:
	"""Run each Server Script KPI once for all its subjects (Frappe's sandbox, safe_exec)."""
	from frappe.utils.safe_exec import safe_exec

	results: dict[str, dict] = {}
	by_kpi = defaultdict(set)
	for line in lines:
		kpi = kpis[line.kpi]
		if kpi.method == "Server Script":
			header = header_by_name[line.parent]
			by_kpi[kpi.name].add(subjects.subject(subjects.kind(kpi, header), header))
	for kpi_name, subject_set in by_kpi.items():
		kpi = kpis[kpi_name]
		script = frappe.db.get_value("Server Script", kpi.server_script, ["script", "disabled"], as_dict=True)
		if not script or script.disabled:
			frappe.throw(
				_("Server Script {0} of KPI {1} is missing or disabled.").format(kpi.server_script, kpi_name)
			)
		scope = {
			"subjects": sorted(subject_set),
			"subject_type": kpi.subject,
			"period_start": window.start,
			"period_end": window.end,
			"values": {},
		}
		_globals, _locals = safe_exec(
			script.script, None, scope, restrict_commit_rollback=True, script_filename=kpi.server_script
		)
		values = _locals.get("values") or {}
		if not isinstance(values, dict):
			frappe.throw(
				_("Server Script {0} must set values to a dict of subject: number.").format(kpi.server_script)
			)
		results[kpi_name] = values
	return results


class SubjectBuilder:
	"""Subjects frames for the engine, built from two queries (team tree and memberships).

	- employee subjects: each appraisee is his own subject;
	- team subjects: the appraisal's team, through the members of the team and its sub-teams during
	  their membership dates;
	- portfolio subjects (management layer): the appraisal's team and its sub-teams, through the
	  loans they manage.
	"""

	def __init__(self, headers):
		self.headers = headers
		self.teams = {
			t.name: t
			for t in frappe.get_all("PL Team", fields=["name", "lft", "rgt", "layer"], limit_page_length=0)
		}
		self._frames: dict[str, pd.DataFrame] = {}
		self._members = None

	def kind(self, kpi, header) -> str:
		if kpi.subject != "Team":
			return EMPLOYEE
		return PORTFOLIO if header.layer == "Management" else TEAM_PEOPLE

	def subject(self, kind, header) -> str:
		return header.employee if kind == EMPLOYEE else header.pl_team

	def descendants(self, team: str) -> list[str]:
		root = self.teams[team]
		return [t.name for t in self.teams.values() if t.lft >= root.lft and t.rgt <= root.rgt]

	def members(self) -> list:
		if self._members is None:
			self._members = frappe.get_all(
				"PL Team Member",
				filters={"parenttype": "PL Team"},
				fields=["parent", "employee", "from_date", "to_date"],
				limit_page_length=0,
			)
		return self._members

	def frame(self, kind: str) -> pd.DataFrame:
		if kind in self._frames:
			return self._frames[kind]
		if kind == EMPLOYEE:
			employees = sorted({h.employee for h in self.headers})
			df = pd.DataFrame(
				{"subject": employees, "employee": employees, "from_date": pd.NaT, "to_date": pd.NaT}
			)
		elif kind == PORTFOLIO:
			rows = [
				{"subject": team, "team": child}
				for team in sorted({h.pl_team for h in self.headers})
				for child in self.descendants(team)
			]
			df = pd.DataFrame(rows, columns=["subject", "team"])
		else:
			by_team = _group_by(self.members(), "parent")
			rows = [
				{"subject": team, "employee": m.employee, "from_date": m.from_date, "to_date": m.to_date}
				for team in sorted({h.pl_team for h in self.headers})
				for child in self.descendants(team)
				for m in by_team.get(child, [])
			]
			df = pd.DataFrame(rows, columns=["subject", "employee", "from_date", "to_date"])
			df["from_date"] = pd.to_datetime(df["from_date"])
			df["to_date"] = pd.to_datetime(df["to_date"])
		self._frames[kind] = df
		return df
