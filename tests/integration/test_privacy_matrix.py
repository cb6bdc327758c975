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

Beyond the read endpoints, each part generated from the app's files:
- print: every printable DocType x both print views (get_html_and_style, /printview) x the standard and
  each print format of the app: a forbidden document refuses, a permitted one renders, without results
  its reader may not see (trial appraisals carry marked results);
- reports: every report (report JSON; filters from its JS) x query_report.run and its CSV export:
  refused without a role of the report; otherwise no person, team, private row (Link columns) or result
  the user may not see, no anonymous group below the minimum;
- dashboard: every chart (its source's method) and number card: refused without its roles, counts
  only permitted rows, names nobody the user may not see;
- methods: every whitelisted method x every user, from METHOD_CALLERS: without one of its roles the
  call answers 403 and changes no table.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import tempfile
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

import pytest

import frappe

import postloan_performance
from tests.report_js import report_script

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
	"PL Lending Settings",
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
	"PL Scheme What-If",
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
	"""Every run for those who pay and for the executive (team leaders and appraisees have no role
	permission on runs: a run's Teams rows hold every team's total)."""
	return bool(roles_of(user) & (PAYOUT_ADMINS | {"PL Executive"}))


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
	if method in DOC_METHODS:  # a whitelisted document method: through run_doc_method
		doctype, function = DOC_METHODS[method]
		name = data.pop("dn")
		data = {"dt": doctype, "dn": name, "method": function, "args": json.dumps(data)}
		method = "frappe.handler.run_doc_method"
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
# Results written into the matrix's trial appraisals: a response that holds one leaks it to whoever may
# not read that appraisal's results.
SECRET = "PLP-MATRIX-SECRET"
SECRET_SCORES = (91.37, 83.29, 72.18)
PUBLISHED_SCORE = 64.27  # also the achievement of each KPI line of Ada's published formal appraisal


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
	trial_bo = make_appraisal(e.bo, t.north, trial)
	_set_state(trial_ada, "Published", submit=True)
	_set_state(trial_rui, SELF_REVIEW, submit=False)
	_set_state(trial_bo, "Manager Review", submit=False)
	made += [
		("PL Appraisal", trial_ada),
		("PL Appraisal", trial_rui),
		("PL Appraisal", trial_bo),
		("PL Review Cycle", trial),
	]
	# results that only some may read: a trial's results are never the appraisee's (print, reports)
	for appraisal, score in zip((trial_ada, trial_rui, trial_bo), SECRET_SCORES, strict=True):
		frappe.db.set_value(
			"PL Appraisal",
			appraisal,
			{"total_score": score, "manager_comment": f"{SECRET}-{appraisal}"},
			update_modified=False,
		)
		frappe.db.sql(
			"update `tabPL Appraisal KPI` set actual = %s where parent = %s and parenttype = 'PL Appraisal'",
			(secret_actual(score), appraisal),
		)
	world.trial = trial
	# a published formal cycle with one computed appraisal (Ada's): the charts of the latest published
	# cycle must not hand her results to those who may not read them (a group of one)
	published = make_cycle(
		"_Test PL Matrix Published", [t.north, t.north1, t.risk], "2025-04-01", "2025-06-30"
	)
	published_ada = make_appraisal(e.ada, t.north1, published)
	_set_state(published_ada, "Published", submit=True)
	made += [("PL Appraisal", published_ada), ("PL Review Cycle", published)]
	frappe.db.set_value("PL Review Cycle", published, "status", "Published", update_modified=False)
	frappe.db.set_value(
		"PL Appraisal",
		published_ada,
		{
			"total_score": PUBLISHED_SCORE,
			"manager_comment": f"{SECRET}-{published_ada}",
			"computed_on": frappe.utils.now_datetime(),
		},
		update_modified=False,
	)
	frappe.db.sql(
		"""update `tabPL Appraisal KPI` set actual = %s, achievement = %s, no_data = 0
		where parent = %s and parenttype = 'PL Appraisal'""",
		(secret_actual(PUBLISHED_SCORE), PUBLISHED_SCORE, published_ada),
	)
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
	# a scheme what-if over the world's cycle (its per-person results are the scheme owner's only)
	from postloan_performance.services import scheme_whatif

	world.template = frappe.db.get_value("PL Appraisal", a.ada, "template")
	world.what_if = scheme_whatif.create(world.template, world.cycle)
	scheme_whatif.execute(world.what_if)
	made.append(("PL Scheme What-If", world.what_if))
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
	world.payout_run = run
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


# ---------------------------------------------------------------- what a user may see of people and results
def app_roles() -> set[str]:
	from postloan_performance import hooks

	return {
		name for fixture in hooks.fixtures if fixture["dt"] == "Role" for name in fixture["filters"][0][2]
	}


def visible_people(user: str) -> set[str] | None:
	"""Employees whose work `user` may see in reports and charts (None: everyone): the scheme owner,
	executives and post-loan officers everyone; a team leader his teams' members; anybody else himself."""
	if roles_of(user) & (READS_ALL_RESULTS | {"PL Post-Loan Officer"}):
		return None
	people = set(frappe.get_all("Employee", filters={"user_id": user}, pluck="name"))
	teams = led_teams(user)
	if teams:
		people |= set(
			frappe.get_all(
				"PL Team Member",
				filters={"parenttype": "PL Team", "parent": ("in", sorted(teams))},
				pluck="employee",
			)
		)
	return people


def _world_people(world) -> dict[str, list[str]]:
	"""Employee -> the strings that name him (id, name, user)."""
	out = {}
	for key, employee in world.employees.items():
		out[employee] = [
			employee,
			frappe.db.get_value("Employee", employee, "employee_name"),
			world.users[key],
		]
	return out


def forbidden_tokens(world, user: str, people: bool = True) -> list[tuple[str, re.Pattern]]:
	"""What must not appear in a report, chart or card answered to `user`: the names of the world's
	people and teams he may not see, and the results of the trial appraisals he may not read."""
	tokens = []
	people = visible_people(user) if people else None
	if people is not None:
		for employee, names in _world_people(world).items():
			if employee not in people:
				tokens += [(n, re.compile(re.escape(n) + r"(?![\w.@-])")) for n in names if n]
		member_of = set(
			frappe.get_all(
				"PL Team Member",
				filters={"parenttype": "PL Team", "employee": ("in", sorted(people) or ["-"])},
				pluck="parent",
			)
		)
		for team in world.teams.values():
			if team not in member_of | led_teams(user):
				tokens.append((team, re.compile(re.escape(team) + r"(?! \d)")))
	for row in _secret_appraisals():
		if not results_visible(user, row):
			tokens.append((row.manager_comment, re.compile(re.escape(row.manager_comment))))
			for value in (row.total_score, secret_actual(row.total_score)):  # the score, its KPI actuals
				tokens.append((f"{value:.2f}", _number_pattern(value)))
	return tokens


def secret_actual(score: float) -> float:
	return round(score * 100 + 0.5, 2)


def _number_pattern(value: float) -> re.Pattern:
	"""A number as JSON, CSV or a print format writes it (thousands separators, trailing zeros)."""
	whole, fraction = f"{value:.2f}".rstrip("0").split(".")
	groups = []
	while whole:
		groups.insert(0, whole[-3:])
		whole = whole[:-3]
	return re.compile(r"(?<![\d.,])" + ",?".join(groups) + r"\." + fraction + r"0*(?!\d)")


def _secret_appraisals() -> list[dict]:
	return frappe.get_all(
		"PL Appraisal",
		filters={"manager_comment": ("like", f"{SECRET}-%")},
		fields=["name", "appraisee_user", "pl_team", "status", "is_trial", "total_score", "manager_comment"],
	)


def results_visible(user: str, row: dict) -> bool:
	"""Whether `user` reads the results of appraisal `row`: those who read all results; a leader his
	teams' (not his own); the appraisee his own published formal appraisal."""
	if roles_of(user) & READS_ALL_RESULTS:
		return True
	if row.pl_team in led_teams(user) and row.appraisee_user != user:
		return True
	return row.appraisee_user == user and row.status in PUBLISHED and not row.is_trial


def leaks_in(text: str, tokens) -> list[str]:
	return sorted({name for name, pattern in tokens if pattern.search(text)})


# ---------------------------------------------------------------- print: every printable DocType
def _app_print_formats() -> dict[str, list[str]]:
	formats = defaultdict(list)
	for path in sorted((APP_DIR / "postloan_performance" / "print_format").glob("*/*.json")):
		data = json.loads(path.read_text(encoding="utf-8"))
		if data.get("doctype") == "Print Format" and not data.get("disabled"):
			formats[data["doc_type"]].append(data["name"])
	return dict(formats)


APP_PRINT_FORMATS = _app_print_formats()
PRINT_DOCTYPES = [d for d in MATRIX_DOCTYPES if not META[d].get("istable")]
PRINT_VIEWS = ("get_html_and_style", "/printview")
PRINT_RESULTS: dict[tuple[str, str, str], str] = {}


def _print_formats(doctype: str) -> list[str | None]:
	return [None, *APP_PRINT_FORMATS.get(doctype, [])]


def _print(client, view: str, doctype: str, name: str, print_format: str | None):
	"""(refused, html) of one document's print view."""
	if view == "get_html_and_style":
		response = _method(
			client,
			"frappe.www.printview.get_html_and_style",
			doc=doctype,
			name=name,
			print_format=print_format or "Standard",
		)
		if response.status_code in (403, 417):
			return True, ""
		assert response.status_code == 200, response.get_data(as_text=True)[:400]
		return False, (response.json.get("message") or {}).get("html") or ""
	query = f"?doctype={quote(doctype)}&name={quote(name)}&format={quote(print_format or 'Standard')}"
	response = client.get("/printview" + query)
	html = response.get_data(as_text=True)
	refused = response.status_code == 403 or (
		response.status_code == 200 and "You do not have permission to view this document" in html
	)
	assert refused or response.status_code == 200, html[:400]
	return refused, "" if refused else html


@pytest.mark.parametrize("doctype", PRINT_DOCTYPES)
@pytest.mark.parametrize("who", WORLD_USERS)
def test_print_matrix(matrix_world, rest, who, doctype):
	"""The print view of a permitted document renders (without results its reader may not see); of a
	forbidden one it refuses. Every print view and every print format of the app for the DocType."""
	user = matrix_world.users[who]
	frappe.set_user("Administrator")
	scratch = None if all_rows(doctype) else _scratch_row(doctype)
	try:
		_print_cell(matrix_world, rest, who, user, doctype)
	finally:
		if scratch:
			frappe.set_user("Administrator")
			frappe.db.delete(doctype, {"name": scratch})
			frappe.db.commit()


def _scratch_row(doctype: str) -> str | None:
	"""A bare row (defaults only, written as is) of a DocType that has none on a site without the demo,
	committed for one cell: a print view needs a document."""
	from tests.integration.factories import COMPANY

	doc = frappe.new_doc(doctype)
	doc.name = f"_Test PL Matrix Print {doctype}"
	for field in doc.meta.get("fields", {"fieldtype": "Link", "options": "Company"}):
		doc.set(field.fieldname, COMPANY)  # the world's company (its employees' user permission)
	doc.set_user_and_timestamp()
	try:
		doc.db_insert()
	except Exception:
		frappe.db.rollback()
		return None
	frappe.db.commit()
	return doc.name


def _print_cell(matrix_world, rest, who, user, doctype):
	universe = {r.name for r in all_rows(doctype)}
	expected = expected_names(user, doctype)
	secrets = {r.name for r in _secret_appraisals()} if doctype == "PL Appraisal" else set()
	sample = sorted(expected)[:1] + sorted(expected & secrets) + sorted(universe - expected)[:1]
	tokens = forbidden_tokens(matrix_world, user, people=False)
	client = rest(user)
	problems = []
	for print_format in _print_formats(doctype):
		for view in PRINT_VIEWS:
			endpoint = f"{view} [{print_format or 'Standard'}]"
			verdict = "ok" if sample else "empty"
			for name in sample:
				refused, html = _print(client, view, doctype, name, print_format)
				frappe.set_user("Administrator")
				if name not in expected and not refused:
					verdict = "leaked"
					problems.append(f"{endpoint}: printed forbidden {name}")
				elif name in expected and refused:
					verdict = "missing" if verdict != "leaked" else verdict
					problems.append(f"{endpoint}: refused permitted {name}")
				elif name in expected and not html.strip():
					verdict = "missing" if verdict != "leaked" else verdict
					problems.append(f"{endpoint}: {name} rendered nothing")
				elif not refused and (found := leaks_in(html, tokens)):
					verdict = "leaked"
					problems.append(f"{endpoint}: {name} shows {found}")
			PRINT_RESULTS[(who, doctype, endpoint)] = verdict
	assert not problems, f"{who} on {doctype}: " + "; ".join(problems)


# ---------------------------------------------------------------- reports: every report of the app
def _app_reports() -> dict[str, dict]:
	reports = {}
	for path in sorted((APP_DIR / "postloan_performance" / "report").glob("*/*.json")):
		data = json.loads(path.read_text(encoding="utf-8"))
		if data.get("doctype") != "Report" or data.get("disabled"):
			continue
		text = report_script(path.with_suffix(".js"))  # shared filter helpers expanded
		filters = re.findall(r'fieldname:\s*"(\w+)"', text)
		required = [m.group(1) for m in re.finditer(r'fieldname:\s*"(\w+)"[^{}]*?reqd:\s*1', text)]
		links = dict(re.findall(r'fieldname:\s*"(\w+)"[^{}]*?options:\s*"([\w ]+)"', text))
		reports[data["name"]] = {
			"roles": {r["role"] for r in data.get("roles", [])},
			"ref_doctype": data.get("ref_doctype"),
			"filters": filters,
			"required": required,
			"links": links,
		}
	return reports


APP_REPORTS = _app_reports()
REPORT_NAMES = sorted(APP_REPORTS)
REPORT_ENDPOINTS = ("query_report.run", "query_report.export_query")
REPORT_RESULTS: dict[tuple[str, str, str], str] = {}
# The values the matrix gives a report's filters (by fieldname); a report with a required filter not
# here fails test_every_report_filter_has_a_value.
FILTER_VALUES = {
	"review_cycle": lambda w: [w.cycle, w.trial],
	"from_date": lambda w: ["2020-01-01"],
	"to_date": lambda w: ["2030-12-31"],
	"payout_run": lambda w: [w.payout_run],
	"include_trial": lambda w: [1],
	"what_if": lambda w: [w.what_if],
}
# Reports of anonymous answers: no group of fewer than the minimum is shown (fieldname of the count).
ANONYMOUS_GROUPS = {"PL Satisfaction Survey": "responses"}


def _filter_sets(report: str, world) -> list[dict]:
	"""Each combination of the report's filter values (one per review cycle and so on)."""
	sets = [{}]
	for field in APP_REPORTS[report]["filters"]:
		if field not in FILTER_VALUES:
			continue
		sets = [{**s, field: v} for s in sets for v in FILTER_VALUES[field](world)]
	return sets


def _aimed_filters(report: str, world, user: str) -> dict | None:
	"""The report's filters aimed at whom the user may not see: each Employee filter at another person,
	each PL Team filter at a team he neither belongs to nor leads (None when there is nobody to aim at)."""
	people = visible_people(user)
	if people is None:
		return None
	aimed = {}
	member_of = set(
		frappe.get_all(
			"PL Team Member",
			filters={"parenttype": "PL Team", "employee": ("in", sorted(people) or ["-"])},
			pluck="parent",
		)
	)
	others = sorted(set(world.employees.values()) - people)
	teams = sorted(set(world.teams.values()) - member_of - led_teams(user))
	for field, target in APP_REPORTS[report]["links"].items():
		if target == "Employee" and others:
			aimed[field] = others[0]
		elif target == "PL Team" and teams:
			aimed[field] = teams[0]
	return {**_filter_sets(report, world)[0], **aimed} if aimed else None


def _min_group() -> int:
	from postloan_performance.engine.metrics import MIN_SURVEY_RESPONSES

	return MIN_SURVEY_RESPONSES


def _report_run(client, report: str, filters: dict):
	response = _method(
		client, "frappe.desk.query_report.run", report_name=report, filters=filters, ignore_prepared_report=1
	)
	if response.status_code in (401, 403):
		return None, None
	assert response.status_code == 200, response.get_data(as_text=True)[:600]
	return response.get_data(as_text=True), response.json.get("message") or {}


def _report_export(client, report: str, filters: dict):
	response = _method(
		client,
		"frappe.desk.query_report.export_query",
		report_name=report,
		filters=filters,
		file_format_type="CSV",
		visible_idx=[],
		custom_columns=[],
	)
	if response.status_code in (401, 403):
		return None
	assert response.status_code == 200, response.get_data(as_text=True)[:600]
	return response.get_data(as_text=True)


def _link_leaks(user: str, message: dict) -> list[str]:
	"""Link columns to a private DocType: every value one the user may read."""
	found = []
	for column in message.get("columns") or []:
		if not isinstance(column, dict):
			continue
		target = column.get("options")
		if column.get("fieldtype") != "Link" or target not in RULES:
			continue
		allowed = expected_names(user, target)
		for row in message.get("result") or []:
			value = row.get(column.get("fieldname")) if isinstance(row, dict) else None
			if value and value not in allowed:
				found.append(f"{target} {value}")
	return found


def _group_leaks(report: str, message: dict) -> list[str]:
	field = ANONYMOUS_GROUPS.get(APP_REPORTS[report]["ref_doctype"])
	if not field:
		return []
	return [
		f"group of {row[field]}"
		for row in message.get("result") or []
		if isinstance(row, dict) and row.get(field) is not None and 0 < int(row[field]) < _min_group()
	]


@pytest.mark.parametrize("report", REPORT_NAMES)
@pytest.mark.parametrize("who", WORLD_USERS)
def test_report_matrix(matrix_world, rest, who, report):
	"""A report (and its CSV export) refuses users without one of its roles; to the others it shows no
	person, team, private row or result they may not see, and no anonymous group below the minimum."""
	user = matrix_world.users[who]
	frappe.set_user("Administrator")
	meta = APP_REPORTS[report]
	has_role = bool(roles_of(user) & (meta["roles"] | {"System Manager"}))
	may_export = has_role and bool(roles_of(user) & (export_roles(meta["ref_doctype"]) | {"System Manager"}))
	tokens = forbidden_tokens(matrix_world, user)
	client = rest(user)
	problems = []
	verdicts = {endpoint: "ok" for endpoint in REPORT_ENDPOINTS}

	def judge(endpoint, refused, text, message, allowed):
		if refused:
			if allowed:
				verdicts[endpoint] = "refused" if verdicts[endpoint] == "ok" else verdicts[endpoint]
			return
		if not allowed:
			verdicts[endpoint] = "leaked"
			problems.append(f"{endpoint}: answered without a role of the report")
			return
		found = leaks_in(text, tokens)
		if message is not None:
			found += _link_leaks(user, message) + _group_leaks(report, message)
		if found:
			verdicts[endpoint] = "leaked"
			problems.append(f"{endpoint} {filters}: shows {found[:6]}")

	aimed = _aimed_filters(report, matrix_world, user)
	for filters in _filter_sets(report, matrix_world) + ([aimed] if aimed else []):
		text, message = _report_run(client, report, filters)
		frappe.set_user("Administrator")
		judge("query_report.run", text is None, text, message, has_role)
		csv_text = _report_export(client, report, filters)
		frappe.set_user("Administrator")
		judge("query_report.export_query", csv_text is None, csv_text, None, may_export)
	for endpoint, verdict in verdicts.items():
		REPORT_RESULTS[(who, report, endpoint)] = verdict
	assert not problems, f"{who} on {report}: " + "; ".join(problems)


def test_every_report_filter_has_a_value():
	"""A report with a required filter the matrix cannot fill fails here (add it to FILTER_VALUES)."""
	missing = {r: m["required"] for r, m in APP_REPORTS.items() if set(m["required"]) - set(FILTER_VALUES)}
	assert not missing, f"required report filters without a matrix value: {missing}"
	assert APP_REPORTS, "no report found"


# ---------------------------------------------------------------- dashboard charts and number cards
def _app_dashboard_items() -> dict[str, dict]:
	items = {}
	base = APP_DIR / "postloan_performance"
	sources = {}
	for path in sorted((base / "dashboard_chart_source").glob("*/*.js")):
		method = re.search(r'method:\s*"([\w.]+)"', path.read_text(encoding="utf-8"))
		name = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["name"]
		sources[name] = method.group(1) if method else None
	for path in sorted((base / "dashboard_chart").glob("*/*.json")):
		data = json.loads(path.read_text(encoding="utf-8"))
		items[f"chart {data['name']}"] = {
			"kind": "chart",
			"name": data["name"],
			"method": sources.get(data.get("source")) if data.get("chart_type") == "Custom" else None,
			"roles": {r["role"] for r in data.get("roles", [])},
			"data": data,
		}
	for path in sorted((base / "number_card").glob("*/*.json")):
		data = json.loads(path.read_text(encoding="utf-8"))
		items[f"card {data['name']}"] = {
			"kind": "card",
			"name": data["name"],
			"method": data.get("method") if data.get("type") == "Custom" else None,
			"roles": set(),
			"data": data,
		}
	return items


DASHBOARD_ITEMS = _app_dashboard_items()
DASHBOARD_RESULTS: dict[tuple[str, str], str] = {}


def _may_see_item(user: str, item: dict) -> bool:
	roles = roles_of(user)
	if "System Manager" in roles:
		return True
	if item["roles"]:
		return bool(roles & item["roles"])
	if item["method"]:
		return bool(roles & app_roles())
	return may_read(user, item["data"]["document_type"])


@pytest.mark.parametrize("item", sorted(DASHBOARD_ITEMS))
@pytest.mark.parametrize("who", WORLD_USERS)
def test_dashboard_matrix(matrix_world, rest, who, item):
	"""A chart or number card of the app refuses whoever may not see it; to the others it counts only
	rows they may read and names no person, team or result they may not see."""
	user = matrix_world.users[who]
	frappe.set_user("Administrator")
	spec = DASHBOARD_ITEMS[item]
	data = spec["data"]
	client = rest(user)
	if spec["method"]:
		kwargs = {"filters": {}} if spec["kind"] == "card" else {"chart_name": spec["name"], "filters": {}}
		response = _method(client, spec["method"], **kwargs)
	elif spec["kind"] == "card":
		response = _method(
			client,
			"frappe.desk.doctype.number_card.number_card.get_result",
			doc=data,
			filters=json.loads(data.get("filters_json") or "[]"),
		)
	else:
		response = _method(
			client, "frappe.desk.doctype.dashboard_chart.dashboard_chart.get", chart_name=spec["name"]
		)
	frappe.set_user("Administrator")
	allowed = _may_see_item(user, spec)
	text = response.get_data(as_text=True)
	problems = []
	if response.status_code in (401, 403):
		# refusing is no leak where the user may read none of the rows the item counts
		quiet = not may_read(user, data.get("document_type")) if data.get("document_type") else False
		verdict = "refused" if not allowed or quiet else "missing"
	else:
		assert response.status_code == 200, text[:400]
		verdict = "ok"
		# a card that answers quietly (a text) to a role that may not see its figure shows nothing
		answer = response.json.get("message")
		if not allowed and not (isinstance(answer, str) or answer in (None, 0)):
			verdict = "leaked"
			problems.append(f"answered {answer!r} without the chart's roles")
		if found := leaks_in(text, forbidden_tokens(matrix_world, user)):
			verdict = "leaked"
			problems.append(f"shows {found}")
		if spec["kind"] == "card" and not spec["method"]:
			want = frappe.get_all(
				data["document_type"], filters=json.loads(data.get("filters_json") or "[]"), pluck="name"
			)
			want = len(set(want) & expected_names(user, data["document_type"]))
			if int(answer or 0) != want:
				verdict = "leaked" if int(answer or 0) > want else "missing"
				problems.append(f"counted {answer}, may read {want}")
	DASHBOARD_RESULTS[(who, item)] = verdict
	assert verdict in ("ok", "refused"), f"{who} on {item}: {verdict}: " + "; ".join(problems)


# ---------------------------------------------------------------- whitelisted methods: who may call them
ANY_PL_ROLE = "any PL role (rows judged inside)"
DATA_IMPORT = {"PL Post-Loan Officer", "PL Performance Manager"}
MANAGER = {"PL Performance Manager"}
POST_LOAN = {"PL Post-Loan Officer"}


def _chart_roles(chart: str) -> set[str]:
	return DASHBOARD_ITEMS[f"chart {chart}"]["roles"] - {"System Manager"}


# method -> (the roles that may call it besides System Manager, or ANY_PL_ROLE; its arguments). A user
# without one of the roles is refused (403) and nothing changes; a new whitelisted method fails
# test_every_whitelisted_method_has_callers until it is here.
API = "postloan_performance.api."
METHOD_CALLERS = {
	API + "compute_appraisal": (MANAGER, lambda w: {"appraisal": w.trial_appraisal}),
	API + "import_post_loan_data": (DATA_IMPORT, lambda w: {"doctype": "PL Loan", "file_url": "/x.csv"}),
	API + "check_data_import": (DATA_IMPORT, lambda w: {"data_import": "x"}),
	API + "start_data_import": (DATA_IMPORT, lambda w: {"data_import": "x"}),
	API + "data_import_status": (DATA_IMPORT, lambda w: {"data_import": "x"}),
	API + "data_import_sheets": (DATA_IMPORT, lambda w: {"data_import": "x"}),
	API + "download_import_template": (DATA_IMPORT, lambda w: {"doctype": "PL Loan"}),
	API + "cycle_step": (MANAGER, lambda w: {"cycle": w.trial, "step": "close"}),
	API + "calibration_view": (MANAGER | {"PL Executive"}, lambda w: {"cycle": w.trial}),
	API + "override_grade": (
		MANAGER,
		lambda w: {"appraisal": w.trial_appraisal, "grade": "S", "reason": "x"},
	),
	API + "request_feedback": (MANAGER, lambda w: {"cycle": w.trial}),
	API + "feedback_summary": (ANY_PL_ROLE, None),
	API + "current_npl_ratio": (ANY_PL_ROLE, None),
	API + "recovery_rate_last_month": (ANY_PL_ROLE, None),
	API + "open_cycle_progress": (ANY_PL_ROLE, None),
	API + "last_payout_pool": (ANY_PL_ROLE, None),
	API + "npl_trend_chart": (_chart_roles("PL NPL Trend"), lambda w: {}),
	API + "grade_distribution_chart": (_chart_roles("PL Grade Distribution"), lambda w: {}),
	API + "kpi_achievement_chart": (_chart_roles("PL KPI Achievement"), lambda w: {}),
	API + "my_collection_queue": (ANY_PL_ROLE, None),
	API + "set_manual_classification": (POST_LOAN, lambda w: {"snapshot": "x", "classification": "Loss"}),
	API + "close_risk_alert": (ANY_PL_ROLE, None),
	API + "run_post_loan_job": (POST_LOAN, lambda w: {"job": "classification"}),
	API + "run_lending_sync": (POST_LOAN, lambda w: {}),
	API + "post_loan_job_status": (POST_LOAN, lambda w: {"job_id": "pl-daily-x"}),
	API + "make_demo": (set(), lambda w: {"password": "Plp-Matrix-2026!"}),
	API + "remove_demo": (set(), lambda w: {}),
	API + "train_propensity_model": (POST_LOAN, lambda w: {}),
	API + "refresh_scheme_evaluation": (MANAGER | {"PL Executive"}, lambda w: {"cycle": w.trial}),
	API + "latest_review_cycle": (ANY_PL_ROLE, None),
	API + "payout_step": (MANAGER, lambda w: {"run": w.payout_run, "step": "prepare"}),
	API + "export_payout": (MANAGER | {"HR Manager"}, lambda w: {"run": w.payout_run}),
	"postloan_performance.postloan_performance.doctype.pl_scheme_briefing.pl_scheme_briefing.acknowledge": (
		ANY_PL_ROLE,
		None,
	),
	"postloan_performance.privacy.get_count": (ANY_PL_ROLE, None),
	"postloan_performance.privacy.get_group_by_count": (ANY_PL_ROLE, None),
	"postloan_performance.privacy.reportview_get": (ANY_PL_ROLE, None),
}
# whitelisted document methods (called through run_doc_method): method -> (DocType, its name)
CYCLE_CONTROLLER = "postloan_performance.postloan_performance.doctype.pl_review_cycle.pl_review_cycle"
CYCLE_STEPS = (
	"open_cycle",
	"create_appraisals",
	"start_self_review",
	"compute_kpis",
	"start_scoring",
	"start_calibration",
	"approve_all",
	"publish_cycle",
	"close_cycle",
)
DOC_METHODS = {f"{CYCLE_CONTROLLER}.PLReviewCycle.{m}": ("PL Review Cycle", m) for m in CYCLE_STEPS}
METHOD_CALLERS.update({m: (MANAGER, lambda w: {"dn": w.trial}) for m in DOC_METHODS})
TEMPLATE_CONTROLLER = "postloan_performance.postloan_performance.doctype.pl_kpi_template.pl_kpi_template"
WHAT_IF_CONTROLLER = "postloan_performance.postloan_performance.doctype.pl_scheme_what_if.pl_scheme_what_if"
# scheme versions and what-if: (roles, arguments, the test file that calls the method)
SCHEME_METHODS = {
	f"{TEMPLATE_CONTROLLER}.PLKPITemplate.new_version": (
		MANAGER,
		lambda w: {"dn": w.template},
		"test_scheme_versions.py",
	),
	f"{TEMPLATE_CONTROLLER}.PLKPITemplate.adopt_version": (
		MANAGER,
		lambda w: {"dn": w.template, "effective_from": "2026-01-01", "reason": "matrix"},
		"test_scheme_versions.py",
	),
	f"{TEMPLATE_CONTROLLER}.PLKPITemplate.version_diff": (ANY_PL_ROLE, None, "test_scheme_versions.py"),
	f"{TEMPLATE_CONTROLLER}.PLKPITemplate.what_if": (
		MANAGER,
		lambda w: {"dn": w.template, "review_cycle": w.cycle},
		"test_scheme_whatif_access.py",
	),
	f"{TEMPLATE_CONTROLLER}.PLKPITemplate.apply_suggested_targets": (
		MANAGER,
		lambda w: {"dn": w.template, "review_cycle": w.cycle},
		"test_scheme_whatif.py",
	),
	f"{WHAT_IF_CONTROLLER}.PLSchemeWhatIf.run_what_if": (
		MANAGER,
		lambda w: {"dn": w.what_if},
		"test_scheme_whatif_access.py",
	),
}
for _method_name, (_roles, _arguments, _test) in SCHEME_METHODS.items():
	_doctype = "PL Scheme What-If" if _method_name.startswith(WHAT_IF_CONTROLLER) else "PL KPI Template"
	DOC_METHODS[_method_name] = (_doctype, _method_name.rsplit(".", 1)[1])
	METHOD_CALLERS[_method_name] = (_roles, _arguments)
# Methods open to every PL role that answer about one row: called with each row of that DocType (one
# sample) the user may not read, they answer 403 too.
METHOD_ROWS = {
	API + "feedback_summary": ("PL Appraisal", "appraisal"),
	API + "my_collection_queue": ("Employee", "employee"),
	f"{TEMPLATE_CONTROLLER}.PLKPITemplate.version_diff": ("PL KPI Template", "dn"),
}
METHOD_NAMES = sorted(METHOD_CALLERS)
METHOD_RESULTS: dict[tuple[str, str], str] = {}


def _state() -> list:
	"""Row count and latest change of every table of the app (and what its methods create elsewhere)."""
	tables = [
		*(d for d in META if not META[d].get("issingle")),
		"ToDo",
		"Additional Salary",
		"File",
		"Comment",
	]
	union = " union all ".join(
		f"select {frappe.db.escape(t)}, count(*), max(modified) from `tab{t}`" for t in tables
	)
	return frappe.db.sql(union)


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize("who", WORLD_USERS)
def test_method_matrix(matrix_world, rest, who, method):
	"""A whitelisted method called by a user without one of its roles (or, METHOD_ROWS, about a row he may
	not read) answers 403 and changes nothing."""
	user = matrix_world.users[who]
	frappe.set_user("Administrator")
	roles, arguments = METHOD_CALLERS[method]
	if roles == ANY_PL_ROLE and method in METHOD_ROWS:
		doctype, argument = METHOD_ROWS[method]
		if doctype == "Employee":
			people = visible_people(user)
			forbidden = sorted(set(matrix_world.employees.values()) - people) if people is not None else []
		else:
			forbidden = sorted({r.name for r in all_rows(doctype)} - expected_names(user, doctype))
		if not forbidden:
			METHOD_RESULTS[(who, method)] = "permitted"
			return
		arguments = lambda w: {argument: forbidden[0]}  # noqa: E731
	elif roles == ANY_PL_ROLE or roles_of(user) & (roles | {"System Manager"}):
		METHOD_RESULTS[(who, method)] = "permitted"
		return
	matrix_world.trial_appraisal = frappe.db.get_value(
		"PL Appraisal", {"review_cycle": matrix_world.trial, "status": "Manager Review"}, "name"
	)
	before = _state()
	response = _method(rest(user), method, **arguments(matrix_world))
	frappe.set_user("Administrator")
	after = _state()
	verdict = "refused"
	if response.status_code != 403:
		verdict = "leaked"
	elif before != after:
		verdict = "leaked"
	METHOD_RESULTS[(who, method)] = verdict
	assert verdict == "refused", (
		f"{who} called {method}: {response.status_code} "
		f"{response.get_data(as_text=True)[:300]}; changed {set(after) - set(before)}"
	)


def test_every_whitelisted_method_has_callers():
	"""A new whitelisted method fails here until METHOD_CALLERS says who may call it."""
	methods = whitelisted_methods()
	assert methods - set(METHOD_CALLERS) == set(), "declare who may call these in METHOD_CALLERS"
	assert set(METHOD_CALLERS) - methods == set(), "no longer whitelisted: remove from METHOD_CALLERS"
	assert set(METHOD_ROWS) <= {m for m, (roles, _a) in METHOD_CALLERS.items() if roles == ANY_PL_ROLE}


def test_matrix_summary():
	"""Runs last in this module: the size of each part of the matrix and its result (see the report)."""
	if not (RESULTS or PRINT_RESULTS or REPORT_RESULTS or DASHBOARD_RESULTS or METHOD_RESULTS):
		pytest.skip("the matrix did not run")
	n_print = sum(len(_print_formats(d)) * len(PRINT_VIEWS) for d in PRINT_DOCTYPES)
	parts = {
		"read": (
			f"{len(WORLD_USERS)} users x {len(MATRIX_DOCTYPES)} DocTypes x {len(ENDPOINTS)} endpoints",
			RESULTS,
		),
		"print": (
			f"{len(WORLD_USERS)} users x {len(PRINT_DOCTYPES)} DocTypes x {n_print / len(PRINT_DOCTYPES):.2f}"
			f" print views/formats ({n_print} in all)",
			PRINT_RESULTS,
		),
		"report": (
			f"{len(WORLD_USERS)} users x {len(REPORT_NAMES)} reports x {len(REPORT_ENDPOINTS)} endpoints",
			REPORT_RESULTS,
		),
		"dashboard": (
			f"{len(WORLD_USERS)} users x {len(DASHBOARD_ITEMS)} charts and number cards",
			DASHBOARD_RESULTS,
		),
		"method": (
			f"{len(WORLD_USERS)} users x {len(METHOD_NAMES)} whitelisted methods",
			METHOD_RESULTS,
		),
	}
	summary = {}
	total = defaultdict(int)
	for part, (size, results) in parts.items():
		counts = defaultdict(int)
		for verdict in results.values():
			counts[verdict] += 1
			total[verdict] += 1
		print(f"\nprivacy matrix, {part}: {size} = {len(results)} cells: {dict(counts)}")
		summary[part] = {"size": size, "cells": len(results), **counts}
	print(f"privacy matrix, all parts: {sum(total.values())} cells: {dict(total)}")
	out = Path(tempfile.gettempdir()) / "plp-privacy-matrix.json"
	out.write_text(json.dumps({"cells": sum(total.values()), **total, "parts": summary}))
	assert total["leaked"] == 0 and total["missing"] == 0


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
	"postloan_performance.api.run_lending_sync": "test_lending_inactive.py",
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
	**{m: "test_cycle_doc_methods.py" for m in DOC_METHODS if m.startswith(CYCLE_CONTROLLER)},
	**{m: test for m, (_r, _a, test) in SCHEME_METHODS.items()},
}


def whitelisted_methods() -> set[str]:
	"""Every whitelisted function of the app under the dotted path callers use: a method of the ``api``
	package is ``postloan_performance.api.<name>`` (the package re-exports its modules' methods)."""
	found = set()
	for path in APP_DIR.rglob("*.py"):
		tree = ast.parse(path.read_text(encoding="utf-8"))
		parts = path.relative_to(APP_DIR.parent).with_suffix("").parts
		module = (
			"postloan_performance.api" if parts[:2] == ("postloan_performance", "api") else ".".join(parts)
		)
		# module functions, and a controller's document methods as ``<module>.<Class>.<method>``
		functions = [(module, n) for n in tree.body if isinstance(n, ast.FunctionDef)]
		for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
			functions += [(f"{module}.{cls.name}", n) for n in cls.body if isinstance(n, ast.FunctionDef)]
		for prefix, node in functions:
			if any("whitelist" in ast.unparse(d) for d in node.decorator_list):
				found.add(f"{prefix}.{node.name}")
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


def test_every_api_method_answers_at_its_public_path():
	"""The desk, stored number cards and charts, and queued jobs call ``postloan_performance.api.<name>``:
	each whitelisted method of the api package is reachable there, as the same whitelisted function."""
	from postloan_performance import api

	for method in sorted(m for m in whitelisted_methods() if m.startswith("postloan_performance.api.")):
		function = frappe.get_attr(method)
		assert function in frappe.whitelisted, method
		assert function is getattr(api, method.rsplit(".", 1)[1])
