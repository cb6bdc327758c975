"""The adversarial privacy matrix: every role × every PL DocType (child tables included) × every read
endpoint returns exactly the rows the role may read.

The DocTypes come from the app's metadata (its DocType JSON files), so a new DocType is in the matrix
without new test code, and fails until it has a rule here (RULES) or is declared role-only
(ROLE_ONLY_DOCTYPES). Child tables follow their parent (derived from the parent's table fields).

The expected rows are computed independently, as Administrator, straight from the tables: role read
permissions from the DocType JSON, teams from the PL Team tree, the rules of the privacy model below.
Every endpoint is called over REST as the real user (tests/integration/conftest.RestClient).

A cell leaks when an endpoint returns a row (or a count) beyond the permitted ones, and misses when it
answers 200 with fewer. Refusals (403) are allowed only where the user may read no row of the DocType
or (export) lacks the export permission.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import tempfile
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

import pytest

import frappe

import postloan_performance

APP_DIR = Path(postloan_performance.__file__).parent
DOCTYPE_DIR = APP_DIR / "postloan_performance" / "doctype"
REPO = APP_DIR.parent

MANAGERS = {"System Manager", "PL Performance Manager"}
READS_ALL_RESULTS = MANAGERS | {"PL Executive"}
SELF_REVIEW = "Self Review"
PUBLISHED = ("Published", "Acknowledged", "Appealed")

# Every user of tests/integration/world.py; together they hold every role of the app.
WORLD_USERS = ("manager", "executive", "officer", "lena", "rui", "ada", "bo", "chen")
SAMPLE = 2  # single-document endpoints: this many permitted and this many forbidden rows per cell


def _metadata() -> dict[str, dict]:
	docs = {}
	for path in sorted(DOCTYPE_DIR.glob("*/*.json")):
		data = json.loads(path.read_text(encoding="utf-8"))
		if data.get("doctype") == "DocType" and path.stem == path.parent.name:
			docs[data["name"]] = data
	return docs


META = _metadata()
PARENTS = {
	child: [
		name
		for name, d in META.items()
		if not d.get("istable")
		and any(
			f.get("fieldtype") in ("Table", "Table MultiSelect") and f.get("options") == child
			for f in d.get("fields", [])
		)
	]
	for child, c in META.items()
	if c.get("istable")
}
# Singles have no rows to list; their child tables are in the matrix.
MATRIX_DOCTYPES = sorted(name for name, d in META.items() if not d.get("issingle"))

# DocTypes whose rows are all visible to a role that may read the DocType at all, none otherwise.
ROLE_ONLY_DOCTYPES = (
	"PL Collection Action",
	"PL Collection Case",
	"PL Collection Strategy",
	"PL Customer Feedback",
	"PL Data Import",
	"PL Incentive Plan",
	"PL KPI",
	"PL KPI Template",
	"PL Loan",
	"PL Loan Snapshot",
	"PL Metric Value",
	"PL Portfolio Month",
	"PL Post-Loan Settings",
	"PL Recovery",
	"PL Review Cycle",
	"PL Risk Alert",
	"PL Risk Assessment",
	"PL Risk Event",
	"PL Scheme Briefing",
	"PL Service Ticket",
	"PL Team",
	"PL Warning Rule",
)


# ---------------------------------------------------------------- the rules, computed as Administrator
def roles_of(user: str) -> set[str]:
	return set(frappe.get_all("Has Role", filters={"parent": user, "parenttype": "User"}, pluck="role"))


def read_roles(doctype: str) -> set[str]:
	return {p["role"] for p in META[doctype].get("permissions", []) if p.get("read")}


def export_roles(doctype: str) -> set[str]:
	return {p["role"] for p in META[doctype].get("permissions", []) if p.get("read") and p.get("export")}


def may_read(user: str, doctype: str) -> bool:
	return bool(roles_of(user) & (read_roles(doctype) | {"System Manager"}))


def led_teams(user: str) -> set[str]:
	if "PL Team Leader" not in roles_of(user):
		return set()
	return set(
		frappe.db.sql_list(
			"""select distinct t.name from `tabPL Team` t join `tabPL Team` p
			on t.lft >= p.lft and t.rgt <= p.rgt
			join `tabEmployee` e on e.name = p.team_lead
			where e.user_id = %s""",
			user,
		)
	)


def all_rows(doctype: str) -> list[dict]:
	if META[doctype].get("istable"):
		return frappe.db.sql(
			f"select name, parent, parenttype from `tab{doctype}` where parenttype in %(p)s",
			{"p": tuple(PARENTS[doctype]) or ("-",)},
			as_dict=True,
		)
	return frappe.db.sql(f"select * from `tab{doctype}`", as_dict=True)


def _appraisal(user: str, row: dict) -> bool:
	roles = roles_of(user)
	if roles & READS_ALL_RESULTS:
		return True
	if row.pl_team in led_teams(user) and row.appraisee_user != user:
		return True
	return (
		"PL Appraisee" in roles
		and row.appraisee_user == user
		and (row.status == SELF_REVIEW or (row.status in PUBLISHED and not row.is_trial))
	)


def _feedback(user: str, row: dict) -> bool:
	return bool(roles_of(user) & MANAGERS) or row.reviewer_user == user


def _appeal(user: str, row: dict) -> bool:
	if roles_of(user) & READS_ALL_RESULTS:
		return True
	return row.appraisee_user == user or row.pl_team in led_teams(user)


def _survey(user: str, row: dict) -> bool:
	return "System Manager" in roles_of(user) or row.respondent_user == user


PAYOUT_ADMINS = {"System Manager", "PL Performance Manager", "HR Manager"}


def _payout_line(user: str, row: dict) -> bool:
	"""His own line once confirmed; a leader his teams' lines only when the plan lets him."""
	if roles_of(user) & PAYOUT_ADMINS:
		return True
	if row.employee_user == user and row.confirmed:
		return True
	return bool(row.leader_visible) and row.pl_team in led_teams(user)


def _payout_run(user: str, row: dict) -> bool:
	"""Runs that hold his own confirmed line or pay one of the teams he leads; all for the executive."""
	if roles_of(user) & (PAYOUT_ADMINS | {"PL Executive"}):
		return True
	lines = frappe.get_all(
		"PL Payout Line", filters={"payout_run": row.name}, fields=["employee_user", "confirmed", "pl_team"]
	)
	teams = led_teams(user)
	return any((ln.employee_user == user and ln.confirmed) or ln.pl_team in teams for ln in lines)


RULES = {
	"PL Payout Line": _payout_line,
	"PL Payout Run": _payout_run,
	"PL Appraisal": _appraisal,
	"PL Feedback": _feedback,
	"PL Appeal": _appeal,
	"PL Satisfaction Survey": _survey,
}


def expected_names(user: str, doctype: str) -> set[str]:
	"""The rows of `doctype` that `user` may read, from the rule table."""
	if META[doctype].get("istable"):
		visible = {(p, n) for p in PARENTS[doctype] for n in expected_parents(user, p)}
		return {r.name for r in all_rows(doctype) if (r.parenttype, r.parent) in visible}
	if not may_read(user, doctype):
		return set()
	if doctype in ROLE_ONLY_DOCTYPES:
		return {r.name for r in all_rows(doctype)}
	return {r.name for r in all_rows(doctype) if RULES[doctype](user, r)}


def expected_parents(user: str, parent: str) -> set[str]:
	if META[parent].get("issingle"):
		return {parent} if may_read(user, parent) else set()
	return expected_names(user, parent)


# ---------------------------------------------------------------- the endpoints
def _parent_of(doctype: str) -> str | None:
	return PARENTS[doctype][0] if META[doctype].get("istable") else None


def _json(response):
	try:
		return response.json
	except Exception:
		return None


def _method(client, method: str, **data):
	payload = {
		k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in data.items() if v is not None
	}
	return client.post(f"/api/method/{method}", data=payload)


def _rows_from(response, pick) -> set[str] | None:
	"""The names an endpoint answered, or None when it refused."""
	if response.status_code in (401, 403, 417):
		return None
	assert response.status_code == 200, response.get_data(as_text=True)[:400]
	return pick(_json(response))


def ep_rest_list(client, doctype, parent, sample):
	query = f"?fields={quote(json.dumps(['name']))}&limit_page_length=0"
	if parent:
		query += f"&parent={quote(parent)}"
	response = client.get("/api/resource/" + quote(doctype) + query)
	return "rows", _rows_from(response, lambda j: {r["name"] for r in j["data"]})


def ep_rest_get(client, doctype, parent, sample):
	got = set()
	for name in sample:
		response = client.get(f"/api/resource/{quote(doctype)}/{quote(name)}")
		if response.status_code == 200:
			got.add(response.json["data"]["name"])
		else:
			assert response.status_code in (403, 404), response.get_data(as_text=True)[:400]
	return "sample", got


def ep_get_list(client, doctype, parent, sample):
	response = _method(
		client, "frappe.client.get_list", doctype=doctype, fields=["name"], limit_page_length=0, parent=parent
	)
	return "rows", _rows_from(response, lambda j: {r["name"] for r in j["message"]})


def ep_get_count(client, doctype, parent, sample):
	response = _method(client, "frappe.client.get_count", doctype=doctype, parent=parent)
	return "count", _rows_from(response, lambda j: int(j["message"]))


def ep_reportview_count(client, doctype, parent, sample):
	response = _method(
		client,
		"frappe.desk.reportview.get_count",
		doctype=doctype,
		filters=[],
		fields=[f"`tab{doctype}`.`name`"],
		parent_doctype=parent,
	)
	return "count", _rows_from(response, lambda j: int(j["message"]))


def ep_get_value(client, doctype, parent, sample):
	got = set()
	for name in sample:
		response = _method(
			client,
			"frappe.client.get_value",
			doctype=doctype,
			fieldname="name",
			filters={"name": name},
			parent=parent,
		)
		rows = _rows_from(response, lambda j: {(j.get("message") or {}).get("name")} - {None})
		got |= rows or set()
	return "sample", got


def ep_group_by(client, doctype, parent, sample):
	response = _method(
		client,
		"frappe.client.get_list",
		doctype=doctype,
		fields=["name", "count(name) as n"],
		group_by="name",
		limit_page_length=0,
		parent=parent,
	)
	return "rows", _rows_from(response, lambda j: {r["name"] for r in j["message"]})


def ep_reportview_get(client, doctype, parent, sample):
	response = _method(
		client,
		"frappe.desk.reportview.get",
		doctype=doctype,
		fields=[f"`tab{doctype}`.`name`"],
		filters=[],
		page_length=0,
		parent_doctype=parent,
	)

	def pick(j):
		message = j.get("message") or {}
		keys = message.get("keys") or []
		return {row[keys.index("name")] for row in message.get("values") or []} if keys else set()

	return "rows", _rows_from(response, pick)


def ep_group_by_counts(client, doctype, parent, sample):
	total = 0
	for field in ("owner", "assigned_to"):
		response = _method(
			client,
			"frappe.desk.listview.get_group_by_count",
			doctype=doctype,
			current_filters=[],
			field=field,
		)
		counts = _rows_from(response, lambda j: j.get("message") or [])
		if counts is None:
			return "groups", None
		total += sum(int(c["count"]) for c in counts if field == "owner" or c["name"] == ASSIGNEE)
	return "groups", total


def ep_export(client, doctype, parent, sample):
	response = _method(
		client,
		"frappe.desk.reportview.export_query",
		doctype=doctype,
		fields=[f"`tab{doctype}`.`name`"],
		filters=[],
		file_format_type="CSV",
		title="matrix",
		parent_doctype=parent,
	)
	if response.status_code != 200 or response.mimetype == "application/json":
		return "rows", _rows_from(response, lambda j: set()) if response.status_code != 200 else set()
	rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
	return "rows", {r[1] for r in rows[1:] if len(r) > 1}


ENDPOINTS = {
	"/api/resource list": ep_rest_list,
	"/api/resource get": ep_rest_get,
	"frappe.client.get_list": ep_get_list,
	"frappe.client.get_count": ep_get_count,
	"reportview.get_count": ep_reportview_count,
	"frappe.client.get_value": ep_get_value,
	"get_list group_by/aggregate": ep_group_by,
	"reportview.get": ep_reportview_get,
	"list sidebar group-by counts": ep_group_by_counts,
	"reportview.export_query": ep_export,
}
ASSIGNEE = "manager@plp.test"


# ---------------------------------------------------------------- data: a row of every private kind
def _insert(doc: dict) -> str:
	"""Write the rows as they are (no controller, workflow or hook): the matrix tests reading only."""
	d = frappe.get_doc(doc)
	d.set_new_name()
	d.set_user_and_timestamp()
	d.set_parent_in_children()
	d.db_insert()
	for child in d.get_all_children():
		child.db_insert()
	return d.name


@pytest.fixture(scope="module")
def matrix_world(world):
	"""A trial cycle, 360 feedback, appeals, surveys and assignments, committed; removed afterwards."""
	from tests.integration.factories import COMPANY, make_appraisal, make_cycle
	from tests.integration.world import _set_state

	frappe.set_user("Administrator")
	made: list[tuple[str, str]] = []
	t, e, u, a = world.teams, world.employees, world.users, world.appraisals
	trial = make_cycle("_Test PL Matrix Trial", [t.north, t.north1, t.risk], is_trial=1)
	trial_ada = make_appraisal(e.ada, t.north1, trial)
	trial_rui = make_appraisal(e.rui, t.risk, trial)
	_set_state(trial_ada, "Published", submit=True)
	_set_state(trial_rui, SELF_REVIEW, submit=False)
	made += [("PL Appraisal", trial_ada), ("PL Appraisal", trial_rui), ("PL Review Cycle", trial)]
	ratings = [{"criterion": c, "rating": 3} for c in ("Professional Conduct", "Teamwork", "Compliance")]
	for appraisal, appraisee, reviewer, user, relationship in (
		(a.ada, e.ada, e.bo, u.bo, "Peer"),
		(a.bo, e.bo, e.lena, u.lena, "Manager"),
		(a.chen, e.chen, e.rui, u.rui, "Manager"),
		(a.rui, e.rui, e.chen, u.chen, "Subordinate"),
	):
		made.append(
			(
				"PL Feedback",
				_insert(
					{
						"doctype": "PL Feedback",
						"appraisal": appraisal,
						"appraisee": appraisee,
						"review_cycle": world.cycle,
						"reviewer": reviewer,
						"reviewer_user": user,
						"relationship": relationship,
						"ratings": ratings,
					}
				),
			)
		)
	for appraisal, employee, user, team in (
		(a.ada, e.ada, u.ada, t.north1),
		(a.chen, e.chen, u.chen, t.risk),
	):
		kpi = frappe.db.get_value("PL Appraisal KPI", {"parent": appraisal}, "kpi")
		made.append(
			(
				"PL Appeal",
				_insert(
					{
						"doctype": "PL Appeal",
						"appraisal": appraisal,
						"employee": employee,
						"appraisee_user": user,
						"pl_team": team,
						"review_cycle": world.cycle,
						"status": "Open",
						"reason": "matrix",
						"disputed_lines": [{"kpi": kpi, "claimed_value": 1, "comment": "matrix"}],
					}
				),
			)
		)
	for employee, user, team in ((e.ada, u.ada, t.north1), (e.bo, u.bo, t.north), (e.chen, u.chen, t.risk)):
		made.append(
			(
				"PL Satisfaction Survey",
				_insert(
					{
						"doctype": "PL Satisfaction Survey",
						"review_cycle": world.cycle,
						"respondent": employee,
						"respondent_user": user,
						"pl_team": team,
						"fairness": 3,
						"clarity": 3,
						"motivation": 3,
						"workload": 3,
					}
				),
			)
		)
	# a confirmed payout run: Ada's line confirmed and hidden from leaders, Bo's shown to his leader,
	# Chen's not confirmed
	plan = "_Test PL Matrix Plan"
	if not frappe.db.exists("PL Incentive Plan", plan):
		made.append(
			(
				"PL Incentive Plan",
				_insert(
					{
						"doctype": "PL Incentive Plan",
						"plan_name": plan,
						"company": COMPANY,
						"effective_from": "2020-01-01",
						"pool_basis": "Fixed Amount",
						"pool_amount": 3000,
						"team_split": "Equal per Head",
						"payroll_date_rule": "Fixed Date",
					}
				),
			)
		)
	run = _insert(
		{
			"doctype": "PL Payout Run",
			"naming_series": "PLPO-.YYYY.-",
			"plan": plan,
			"review_cycle": world.cycle,
			"company": COMPANY,
			"status": "Confirmed",
			"pool": 3000,
			"total_amount": 3000,
		}
	)
	made.append(("PL Payout Run", run))
	for employee, user, team, confirmed, leader_visible in (
		(e.ada, u.ada, t.north1, 1, 0),
		(e.bo, u.bo, t.north, 1, 1),
		(e.chen, u.chen, t.risk, 0, 0),
	):
		made.append(
			(
				"PL Payout Line",
				_insert(
					{
						"doctype": "PL Payout Line",
						"payout_run": run,
						"review_cycle": world.cycle,
						"employee": employee,
						"employee_user": user,
						"pl_team": team,
						"amount": 1000,
						"confirmed": confirmed,
						"leader_visible": leader_visible,
					}
				),
			)
		)
	# an open assignment on every row of the private DocTypes (the sidebar's "Assigned To" counts)
	for doctype in RULES:
		for name in frappe.get_all(doctype, pluck="name"):
			made.append(
				(
					"ToDo",
					_insert(
						{
							"doctype": "ToDo",
							"allocated_to": ASSIGNEE,
							"reference_type": doctype,
							"reference_name": name,
							"description": "matrix",
							"status": "Open",
						}
					),
				)
			)
	frappe.db.commit()
	yield world
	frappe.set_user("Administrator")
	for doctype, name in reversed(made):
		for child in [f.options for f in frappe.get_meta(doctype).get_table_fields()]:
			frappe.db.delete(child, {"parent": name, "parenttype": doctype})
		frappe.db.delete(doctype, {"name": name})
	frappe.db.commit()


def _assigned(doctype: str) -> set[str]:
	return set(
		frappe.get_all(
			"ToDo",
			filters={"reference_type": doctype, "allocated_to": ASSIGNEE, "status": ("!=", "Cancelled")},
			pluck="reference_name",
		)
	)


RESULTS: dict[tuple[str, str, str], str] = {}


@pytest.mark.parametrize("doctype", MATRIX_DOCTYPES)
@pytest.mark.parametrize("who", WORLD_USERS)
def test_matrix(matrix_world, rest, who, doctype):
	user = matrix_world.users[who]
	frappe.set_user("Administrator")
	universe = {r.name for r in all_rows(doctype)}
	expected = expected_names(user, doctype)
	sample = sorted(expected)[:SAMPLE] + sorted(universe - expected)[:SAMPLE]
	parent = _parent_of(doctype)
	client = rest(user)
	problems = []
	for endpoint, call in ENDPOINTS.items():
		kind, got = call(client, doctype, parent, sample)
		frappe.set_user("Administrator")
		if kind == "sample":
			want = expected & set(sample)
		elif kind == "groups":
			want = len(expected) + len(expected & _assigned(doctype))
		elif kind == "count":
			want = len(expected)
		else:
			want = expected
		if got is None:
			refused_ok = not expected or (
				endpoint == "reportview.export_query"
				and not (roles_of(user) & (export_roles(doctype) | {"System Manager"}))
			)
			verdict = "refused" if refused_ok else "missing"
		elif isinstance(want, int):
			verdict = "ok" if got == want else ("leaked" if got > want else "missing")
		elif got - want:
			verdict = "leaked"
		elif want - got:
			verdict = "missing"
		else:
			verdict = "ok"
		RESULTS[(who, doctype, endpoint)] = verdict
		if verdict in ("leaked", "missing"):
			extra = sorted(got - want)[:5] if isinstance(got, set) else got
			problems.append(
				f"{endpoint}: {verdict} (got {extra!r}, want {len(want) if not isinstance(want, int) else want})"
			)
	assert not problems, f"{who} on {doctype}: " + "; ".join(problems)


def test_matrix_summary():
	"""Runs last in this module: the size of the matrix and its result (see the report)."""
	if not RESULTS:
		pytest.skip("the matrix did not run")
	counts = defaultdict(int)
	for verdict in RESULTS.values():
		counts[verdict] += 1
	size = f"{len(WORLD_USERS)} users x {len(MATRIX_DOCTYPES)} DocTypes x {len(ENDPOINTS)} endpoints"
	print(f"\nprivacy matrix: {size} = {len(RESULTS)} cells: {dict(counts)}")
	out = Path(tempfile.gettempdir()) / "plp-privacy-matrix.json"
	out.write_text(json.dumps({"size": size, "cells": len(RESULTS), **counts}))
	assert counts["leaked"] == 0 and counts["missing"] == 0


# ---------------------------------------------------------------- guards: the matrix covers everything
def test_every_doctype_has_a_rule():
	"""A new DocType fails here until it has a row rule or is declared role-only."""
	missing = [
		name
		for name, d in META.items()
		if not d.get("istable") and name not in RULES and name not in ROLE_ONLY_DOCTYPES
	]
	assert not missing, f"no privacy rule for {missing}: add one to RULES or ROLE_ONLY_DOCTYPES"
	assert not set(RULES) & set(ROLE_ONLY_DOCTYPES)
	for child, parents in PARENTS.items():
		assert parents, f"child table {child} has no parent DocType"


def test_every_role_is_in_the_matrix(world):
	from postloan_performance import hooks

	app_roles = {
		name for fixture in hooks.fixtures if fixture["dt"] == "Role" for name in fixture["filters"][0][2]
	}
	held = set().union(*(roles_of(world.users[who]) for who in WORLD_USERS))
	assert app_roles - held == set(), "roles with no user in the matrix"


# Every whitelisted method of the app, with the test file that exercises it.
WHITELISTED_TESTS = {
	"postloan_performance.api.compute_appraisal": "test_kpi_methods.py",
	"postloan_performance.api.import_post_loan_data": "test_import.py",
	"postloan_performance.api.check_data_import": "test_data_import.py",
	"postloan_performance.api.start_data_import": "test_data_import.py",
	"postloan_performance.api.data_import_status": "test_data_import.py",
	"postloan_performance.api.data_import_sheets": "test_data_import.py",
	"postloan_performance.api.download_import_template": "test_data_import.py",
	"postloan_performance.api.cycle_step": "test_cycle_e2e.py",
	"postloan_performance.api.calibration_view": "test_cycle_e2e.py",
	"postloan_performance.api.override_grade": "test_cycle_e2e.py",
	"postloan_performance.api.request_feedback": "test_feedback.py",
	"postloan_performance.api.feedback_summary": "test_privacy_read.py",
	"postloan_performance.api.current_npl_ratio": "test_workspace_demo.py",
	"postloan_performance.api.recovery_rate_last_month": "test_workspace_demo.py",
	"postloan_performance.api.open_cycle_progress": "test_privacy_read.py",
	"postloan_performance.api.npl_trend_chart": "test_workspace_demo.py",
	"postloan_performance.api.grade_distribution_chart": "test_privacy_read.py",
	"postloan_performance.api.kpi_achievement_chart": "test_privacy_read.py",
	"postloan_performance.api.my_collection_queue": "test_collection.py",
	"postloan_performance.api.set_manual_classification": "test_delinquency.py",
	"postloan_performance.api.close_risk_alert": "test_early_warning.py",
	"postloan_performance.api.run_post_loan_job": "test_privacy_read.py",
	"postloan_performance.api.post_loan_job_status": "test_privacy_read.py",
	"postloan_performance.api.make_demo": "test_workspace_demo.py",
	"postloan_performance.api.remove_demo": "test_workspace_demo.py",
	"postloan_performance.api.train_propensity_model": "test_propensity.py",
	"postloan_performance.api.refresh_scheme_evaluation": "test_scheme_evaluation_store.py",
	"postloan_performance.postloan_performance.doctype.pl_scheme_briefing.pl_scheme_briefing.acknowledge": (
		"test_permissions.py"
	),
	"postloan_performance.api.latest_review_cycle": "test_latest_review_cycle.py",
	"postloan_performance.api.payout_step": "test_payout.py",
	"postloan_performance.api.export_payout": "test_payout.py",
	"postloan_performance.api.last_payout_pool": "test_payout.py",
	"postloan_performance.privacy.get_count": "test_privacy_matrix.py",
	"postloan_performance.privacy.get_group_by_count": "test_privacy_matrix.py",
	"postloan_performance.privacy.reportview_get": "test_privacy_matrix.py",
}


def whitelisted_methods() -> set[str]:
	found = set()
	for path in APP_DIR.rglob("*.py"):
		tree = ast.parse(path.read_text(encoding="utf-8"))
		module = ".".join(path.relative_to(APP_DIR.parent).with_suffix("").parts)
		for node in ast.walk(tree):
			if isinstance(node, ast.FunctionDef) and any(
				"whitelist" in ast.unparse(d) for d in node.decorator_list
			):
				found.add(f"{module}.{node.name}")
	return found


def test_every_whitelisted_method_is_registered_to_a_test():
	"""A new whitelisted method fails here until a test file that exercises it is named."""
	methods = whitelisted_methods()
	assert methods - set(WHITELISTED_TESTS) == set(), "register these in WHITELISTED_TESTS"
	here = Path(__file__).parent
	for method, test_file in WHITELISTED_TESTS.items():
		if method not in methods:
			continue
		path = here / test_file
		assert path.exists(), test_file
		name = method.rsplit(".", 1)[1]
		text = path.read_text(encoding="utf-8")
		assert name in text or method.rsplit(".", 2)[1] in text, f"{test_file} never calls {name}"


def test_every_child_table_judges_a_single_row_by_its_parent(site):
	"""A new child DocType fails here until its controller inherits the app's base child controller."""
	from frappe.model.base_document import get_controller

	from postloan_performance.child_document import PLChildDocument

	plain = [child for child in PARENTS if not issubclass(get_controller(child), PLChildDocument)]
	assert not plain, f"controllers not based on PLChildDocument: {plain}"
