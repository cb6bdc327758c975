"""360 feedback requests, reviewer submission, reminders and the appraisee's aggregate view.

The organisation (committed by the module fixture, removed at the end; REST sees committed data only):

    _Test PL FB Root  (Collection, lead Hana)   members: Hana
      └── _Test PL FB Team (Collection, lead Leo)   members: Leo, P1 … P5, Nouser (no user)

Template "_Test PL FB Collection": criteria Professional Conduct 30, Teamwork 30, Compliance 40;
rater weights self 10, manager 40, peer 30, subordinate 20.

Expected reviewers: Hana ← self, Leo (subordinate: he leads a sub-team). Leo ← self, Hana (his own team's
lead is himself, so the parent team's lead), three of P1–P5 (subordinates), no peers (his team members
report to him). P_i ← self, Leo (manager), three of the other P's (peers; Nouser has no user).
Nouser ← Leo, three peers; his own self feedback is skipped.

The fixture removes the cycle, its appraisals, feedback, ToDos and notifications, the teams and the
template at the end; the fb-*@plp.test users and their employees stay and are reused, like the
permission world's people.
"""

import json
import time
from urllib.parse import quote

import pytest

import frappe
from frappe.utils import add_days, getdate, nowdate

from tests.integration.factories import (
	COMPANY,
	PASSWORD,
	make_company,
	make_employee,
	make_team,
	make_user,
)

CYCLE = "_Test PL FB Cycle"
TEMPLATE = "_Test PL FB Collection"
ROOT = "_Test PL FB Root"
TEAM = "_Test PL FB Team"
CRITERIA = ["Professional Conduct", "Teamwork", "Compliance"]
WEIGHTS = {"self_weight": 10, "manager_weight": 40, "peer_weight": 30, "subordinate_weight": 20}
FEEDBACK = "/api/resource/" + quote("PL Feedback")
PEOPLE = ("hana", "leo", "p1", "p2", "p3", "p4", "p5")
# Ratings submitted on Leo's appraisal by the fixture, per criterion (PC, TW, CO).
LEO_SELF = (5, 4, 3)
LEO_MANAGER = (4, 4, 4)
LEO_SUBORDINATES = ((3, 5, 2), (5, 3, 4))


def _person_name(key: str) -> str:
	return f"_Test PL FB {key.title()}"


def _make_template() -> str:
	if not frappe.db.exists("PL KPI Template", TEMPLATE):
		tpl = frappe.copy_doc(frappe.get_doc("PL KPI Template", "Collection - Default"))
		tpl.update({"template_name": TEMPLATE, "company": "", "is_default": 0, "is_standard": 0, **WEIGHTS})
		tpl.set("criteria", [])
		for criterion, weight in zip(CRITERIA, (30, 30, 40), strict=True):
			tpl.append("criteria", {"criterion": criterion, "weight": weight})
		tpl.insert(ignore_permissions=True)
	return TEMPLATE


def _make_cycle(deadline) -> str:
	from postloan_performance.services.cycle import create_appraisals, open_cycle

	frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": CYCLE,
			"company": COMPANY,
			"period_start": "2026-01-01",
			"period_end": "2026-03-31",
			"feedback_deadline": deadline,
			"templates": [{"layer": "Collection", "template": TEMPLATE}],
			"teams": [{"pl_team": ROOT}, {"pl_team": TEAM}],
		}
	).insert(ignore_permissions=True)
	open_cycle(CYCLE)
	create_appraisals(CYCLE)
	return CYCLE


LOCK_ERRORS = (frappe.QueryDeadlockError, frappe.QueryTimeoutError)


def _retrying(fn, *args, attempts: int = 6, **kwargs):
	"""Run `fn` and commit at once, retrying on lock waits. Other tests on the same site hold locks
	this module needs for a while: the HR-EMP- naming series (creating employees) and the rows of the
	team tree (inserting a team shifts every later team's lft/rgt)."""
	for attempt in range(attempts):
		try:
			value = fn(*args, **kwargs)
			frappe.db.commit()
			return value
		except LOCK_ERRORS:
			frappe.db.rollback()
			if attempt == attempts - 1:
				raise
			time.sleep(2 + 3 * attempt)


def _delete_cycle_data(users: list[str]):
	feedback = frappe.get_all("PL Feedback", filters={"review_cycle": CYCLE}, pluck="name")
	appraisals = frappe.get_all("PL Appraisal", filters={"review_cycle": CYCLE}, pluck="name")
	if feedback:
		frappe.db.delete("ToDo", {"reference_type": "PL Feedback", "reference_name": ("in", feedback)})
		frappe.db.delete("Comment", {"reference_doctype": "PL Feedback", "reference_name": ("in", feedback)})
		frappe.db.delete("Version", {"ref_doctype": "PL Feedback", "docname": ("in", feedback)})
		frappe.db.delete("PL Feedback Rating", {"parent": ("in", feedback)})
		frappe.db.delete("PL Feedback", {"name": ("in", feedback)})
	if appraisals:
		frappe.db.delete("Version", {"ref_doctype": "PL Appraisal", "docname": ("in", appraisals)})
		frappe.db.delete("PL Appraisal KPI", {"parent": ("in", appraisals)})
		frappe.db.delete("PL Appraisal", {"name": ("in", appraisals)})
	frappe.db.delete("Notification Log", {"document_type": "PL Review Cycle", "document_name": CYCLE})
	if frappe.db.exists("PL Review Cycle", CYCLE):
		frappe.delete_doc("PL Review Cycle", CYCLE, force=True, ignore_permissions=True)
	# The people stay, as the permission world's do: a User cannot be deleted on a site whose only
	# System Manager is Administrator, and the makers reuse them on the next run.
	if users:
		frappe.db.delete("Notification Log", {"for_user": ("in", users)})
		frappe.db.delete("ToDo", {"allocated_to": ("in", users)})


def _delete_if_exists(doctype: str, name: str):
	if frappe.db.exists(doctype, name):
		frappe.delete_doc(doctype, name, force=True, ignore_permissions=True)


def _cleanup(users: list[str]):
	frappe.set_user("Administrator")
	_retrying(_delete_cycle_data, users)
	for doctype, name in (("PL Team", TEAM), ("PL Team", ROOT), ("PL KPI Template", TEMPLATE)):
		_retrying(_delete_if_exists, doctype, name)


def _submit(name: str, ratings: tuple[int, ...]):
	doc = frappe.get_doc("PL Feedback", name)
	by_criterion = dict(zip(CRITERIA, ratings, strict=True))
	for row in doc.ratings:
		row.rating = by_criterion[row.criterion]
	doc.submit()


def _build(users, emp) -> frappe._dict:
	"""Template, cycle, appraisals and the feedback requests; four ratings on Leo's appraisal."""
	from postloan_performance.services.cycle import start_self_review
	from postloan_performance.services.feedback import request_feedback

	_make_template()
	deadline = add_days(getdate(nowdate()), 10)
	_make_cycle(deadline)
	requested = request_feedback(CYCLE)
	start_self_review(CYCLE)
	appraisals = frappe._dict(
		{
			key: frappe.db.get_value("PL Appraisal", {"review_cycle": CYCLE, "employee": e}, "name")
			for key, e in emp.items()
		}
	)
	# Leo's appraisal gets four submitted ratings: self, manager and two of his three subordinates.
	leo_feedback = frappe.get_all(
		"PL Feedback",
		filters={"appraisal": appraisals.leo},
		fields=["name", "reviewer", "relationship"],
		order_by="reviewer asc",
	)
	by_relationship = {}
	for row in leo_feedback:
		by_relationship.setdefault(row.relationship, []).append(row)
	_submit(by_relationship["Self"][0].name, LEO_SELF)
	_submit(by_relationship["Manager"][0].name, LEO_MANAGER)
	for row, ratings in zip(by_relationship["Subordinate"][:2], LEO_SUBORDINATES, strict=True):
		_submit(row.name, ratings)
	return frappe._dict(
		users=users,
		employees=emp,
		appraisals=appraisals,
		requested=requested,
		deadline=deadline,
		leo_feedback=leo_feedback,
	)


@pytest.fixture(scope="module")
def org(site):
	frappe.set_user("Administrator")
	make_company()
	users = frappe._dict(
		{key: _retrying(make_user, f"fb-{key}@plp.test", ["PL Appraisee"]) for key in PEOPLE},
		manager=_retrying(make_user, "fb-manager@plp.test", ["PL Performance Manager"]),
	)
	for lead in ("hana", "leo"):
		_retrying(make_user, users[lead], ["PL Team Leader"])
	emp = frappe._dict({key: _retrying(make_employee, _person_name(key), user=users[key]) for key in PEOPLE})
	emp.nouser = _retrying(make_employee, "_Test PL FB Nouser")
	all_users = [*users.values()]
	_cleanup([])  # leftovers of an interrupted run: cycle, teams, template (people are reused)
	try:
		start = "2025-01-01"
		_retrying(make_team, ROOT, "Collection", [(emp.hana, start, None)], team_lead=emp.hana, is_group=1)
		members = [(e, start, None) for e in (emp.leo, emp.p1, emp.p2, emp.p3, emp.p4, emp.p5, emp.nouser)]
		_retrying(make_team, TEAM, "Collection", members, team_lead=emp.leo, parent=ROOT)
		yield _retrying(_build, users, emp)
	finally:
		frappe.db.rollback()
		_cleanup(all_users)


@pytest.fixture(scope="module")
def clients(org):
	from tests.integration.conftest import RestClient

	cache = {}

	def login(user: str):
		if user not in cache:
			cache[user] = RestClient(user, PASSWORD)
		return cache[user]

	return login


def reviewers_of(appraisal: str) -> dict[str, str]:
	return dict(
		frappe.get_all(
			"PL Feedback",
			filters={"appraisal": appraisal, "docstatus": ("<", 2)},
			fields=["reviewer", "relationship"],
			as_list=True,
		)
	)


# ---------------------------------------------------------------- who is asked
def test_request_counts(org):
	result = org.requested
	assert result["appraisals"] == 8
	# Hana 2, Leo 5, P1-P5 5 each, Nouser 4 (his self feedback is skipped: no user)
	assert result["created"] == 36
	assert result["todos"] == 36
	assert result["skipped_without_user"] == 1
	assert result["by_relationship"] == {"Self": 7, "Manager": 7, "Peer": 18, "Subordinate": 4}
	assert result["notified"] == 7  # every reviewer user once


def test_team_lead_is_rated_by_his_own_manager_and_subordinates(org):
	e = org.employees
	got = reviewers_of(org.appraisals.leo)
	assert got.pop(e.leo) == "Self"
	assert got.pop(e.hana) == "Manager"  # his team's lead is himself: the parent team's lead rates him
	assert set(got.values()) == {"Subordinate"}
	assert len(got) == 3 and set(got) < {e.p1, e.p2, e.p3, e.p4, e.p5}


def test_top_lead_has_no_manager_and_her_sub_team_lead_as_subordinate(org):
	e = org.employees
	assert reviewers_of(org.appraisals.hana) == {e.hana: "Self", e.leo: "Subordinate"}


def test_members_get_their_lead_and_at_most_three_peers(org):
	e = org.employees
	ps = {e.p1, e.p2, e.p3, e.p4, e.p5}
	for key in ("p1", "p2", "p3", "p4", "p5"):
		got = reviewers_of(org.appraisals[key])
		assert got.pop(e[key]) == "Self"
		assert got.pop(e.leo) == "Manager"
		assert set(got.values()) == {"Peer"}, key
		assert len(got) == 3 and set(got) < ps - {e[key]}, key
	got = reviewers_of(org.appraisals.nouser)
	assert e.nouser not in got  # no user: no self feedback
	assert got.pop(e.leo) == "Manager"
	assert len(got) == 3 and set(got.values()) == {"Peer"}
	# nobody without a user is ever asked
	assert not frappe.db.exists("PL Feedback", {"review_cycle": CYCLE, "reviewer": e.nouser})


def test_peers_are_chosen_deterministically(org):
	from postloan_performance.services.feedback import _rank

	e = org.employees
	name = org.appraisals.p1
	candidates = sorted({e.p2, e.p3, e.p4, e.p5}, key=lambda employee: _rank(name, employee))
	peers = {r for r, rel in reviewers_of(name).items() if rel == "Peer"}
	assert peers == set(candidates[:3])


def test_criteria_are_prefilled_unrated(org):
	drafts = frappe.get_all("PL Feedback", filters={"review_cycle": CYCLE, "docstatus": 0}, pluck="name")
	assert len(drafts) >= 31  # 36 requests, 4 submitted by the fixture (and 1 by a REST test)
	for name in drafts:
		doc = frappe.get_doc("PL Feedback", name)
		assert [r.criterion for r in doc.ratings] == CRITERIA, name
		assert all(r.rating == 0 for r in doc.ratings), name
		assert doc.reviewer_user and doc.appraisee and doc.review_cycle == CYCLE


def test_each_request_has_a_todo_closed_on_submit(org):
	rows = frappe.get_all(
		"PL Feedback", filters={"review_cycle": CYCLE}, fields=["name", "reviewer_user", "docstatus"]
	)
	todos = frappe.get_all(
		"ToDo",
		filters={"reference_type": "PL Feedback", "reference_name": ("in", [r.name for r in rows])},
		fields=["reference_name", "allocated_to", "status", "date", "description"],
	)
	assert len(todos) == len(rows) == 36
	by_feedback = {t.reference_name: t for t in todos}
	for row in rows:
		todo = by_feedback[row.name]
		assert todo.allocated_to == row.reviewer_user
		assert getdate(todo.date) == getdate(org.deadline)
		assert todo.status == ("Closed" if row.docstatus == 1 else "Open"), row.name
		assert CYCLE in todo.description


def test_one_request_notification_per_reviewer(org):
	logs = frappe.get_all(
		"Notification Log",
		filters={"document_type": "PL Review Cycle", "document_name": CYCLE},
		fields=["for_user", "subject"],
	)
	per_user = {}
	for log in logs:
		if "new 360 feedback requests" in log.subject:
			per_user.setdefault(log.for_user, []).append(log.subject)
	users = org.users
	assert set(per_user) == {users[k] for k in PEOPLE}
	assert all(len(subjects) == 1 for subjects in per_user.values())
	# Leo: self, Hana's subordinate, manager of P1-P5 and Nouser
	assert "You have 8 new 360 feedback requests" in per_user[users.leo][0]


def test_second_run_creates_nothing(org):
	from postloan_performance.services.feedback import request_feedback

	todos = frappe.db.count("ToDo", {"reference_type": "PL Feedback"})
	logs = frappe.db.count("Notification Log", {"document_name": CYCLE})
	result = request_feedback(CYCLE)
	assert result["created"] == 0 and result["existing"] == 36 and result["notified"] == 0
	assert frappe.db.count("PL Feedback", {"review_cycle": CYCLE}) == 36
	assert frappe.db.count("ToDo", {"reference_type": "PL Feedback"}) == todos
	assert frappe.db.count("Notification Log", {"document_name": CYCLE}) == logs


def test_groups_weighted_zero_are_not_asked(org):
	from postloan_performance.services.feedback import request_feedback

	name = org.appraisals.p1
	feedback = frappe.get_all("PL Feedback", filters={"appraisal": name}, pluck="name")
	frappe.db.delete("PL Feedback Rating", {"parent": ("in", feedback)})
	frappe.db.delete("PL Feedback", {"name": ("in", feedback)})
	frappe.db.set_value("PL KPI Template", TEMPLATE, {"self_weight": 0, "peer_weight": 40})
	result = request_feedback(CYCLE)
	assert result["created"] == 4
	got = reviewers_of(name)
	assert org.employees.p1 not in got
	assert sorted(got.values()) == ["Manager", "Peer", "Peer", "Peer"]


def test_request_uses_a_fixed_number_of_queries(org, monkeypatch):
	from postloan_performance.services import feedback as service

	feedback = frappe.get_all("PL Feedback", filters={"review_cycle": CYCLE, "docstatus": 0}, pluck="name")
	frappe.db.delete("ToDo", {"reference_type": "PL Feedback", "reference_name": ("in", feedback)})
	frappe.db.delete("PL Feedback Rating", {"parent": ("in", feedback)})
	frappe.db.delete("PL Feedback", {"name": ("in", feedback)})
	monkeypatch.setattr(service, "notify", lambda *args, **kwargs: None)
	calls = []
	sql = frappe.db.sql

	def counting(query, *args, **kwargs):
		calls.append(str(query)[:80])
		return sql(query, *args, **kwargs)

	monkeypatch.setattr(frappe.db, "sql", counting)
	result = service.request_feedback(CYCLE)
	monkeypatch.setattr(frappe.db, "sql", sql)
	assert result["created"] == len(feedback) >= 31
	# 30-odd feedback, 3 rating rows each and their ToDos written with a handful of statements
	assert len(calls) <= 25, calls


def test_draft_keeps_unrated_criteria_but_refuses_bad_ratings(org):
	name = frappe.get_all(
		"PL Feedback", filters={"appraisal": org.appraisals.p2, "docstatus": 0}, pluck="name", limit=1
	)[0]
	doc = frappe.get_doc("PL Feedback", name)
	doc.ratings[0].rating = 4
	doc.save()  # the others stay 0: not rated yet
	assert doc.flags.unrated == CRITERIA[1:]
	doc.ratings[1].rating = -1
	with pytest.raises(frappe.ValidationError, match="between 1 and 5"):
		doc.save()
	doc.reload()
	doc.append("ratings", {"criterion": CRITERIA[0], "rating": 0})
	with pytest.raises(frappe.ValidationError, match="rated twice"):
		doc.save()
	doc.reload()
	with pytest.raises(frappe.ValidationError, match="Rate every criterion"):
		doc.submit()


# ---------------------------------------------------------------- reviewer's side (REST)
def _peer_request(org) -> frappe._dict:
	"""A draft peer request on P1's appraisal (never one of Leo's, which the summary test reads)."""
	return frappe.get_all(
		"PL Feedback",
		filters={"appraisal": org.appraisals.p1, "relationship": "Peer", "docstatus": 0},
		fields=["name", "reviewer", "reviewer_user"],
		order_by="name asc",
		limit=1,
	)[0]


def _ratings(name: str, values: tuple[int, ...]) -> list[dict]:
	rows = frappe.get_all(
		"PL Feedback Rating",
		filters={"parent": name, "parenttype": "PL Feedback"},
		fields=["name", "criterion"],
		order_by="idx asc",
	)
	return [
		{"name": r.name, "criterion": r.criterion, "rating": v} for r, v in zip(rows, values, strict=True)
	]


def test_reviewer_sees_only_his_own_feedback(org, clients):
	request = _peer_request(org)
	client = clients(request.reviewer_user)
	query = "?fields=" + quote(json.dumps(["name"])) + "&limit_page_length=0"
	query += "&filters=" + quote(json.dumps([["review_cycle", "=", CYCLE]]))
	response = client.get(FEEDBACK + query)
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	listed = {row["name"] for row in response.json["data"]}
	own = set(frappe.get_all("PL Feedback", filters={"reviewer_user": request.reviewer_user}, pluck="name"))
	assert listed == own and request.name in listed
	other = frappe.get_all(
		"PL Feedback",
		filters={"review_cycle": CYCLE, "reviewer_user": ("!=", request.reviewer_user)},
		pluck="name",
		limit=1,
	)[0]
	assert client.get(f"{FEEDBACK}/{quote(other)}").status_code == 403
	# The appraisee (Leo) lists only what he wrote himself, never what was written about him.
	leo = clients(org.users.leo)
	response = leo.get(FEEDBACK + query)
	assert response.status_code == 200
	names = [row["name"] for row in response.json["data"]]
	assert names and all(
		frappe.db.get_value("PL Feedback", n, "reviewer_user") == org.users.leo for n in names
	)
	about_leo = frappe.get_all(
		"PL Feedback", filters={"appraisal": org.appraisals.leo}, fields=["name", "reviewer"]
	)
	assert {r.name for r in about_leo if r.reviewer != org.employees.leo}.isdisjoint(names)


def test_reviewer_submits_all_ratings_through_rest(org, clients):
	request = _peer_request(org)
	client = clients(request.reviewer_user)
	url = f"{FEEDBACK}/{quote(request.name)}"
	# out of range: refused
	response = client.put(url, json={"ratings": _ratings(request.name, (4, 7, 5))})
	assert response.status_code == 417, response.get_data(as_text=True)[:500]
	# a draft may keep a criterion unrated (0)...
	response = client.put(url, json={"ratings": _ratings(request.name, (4, 0, 5)), "comment": "Helpful"})
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	# ...but cannot be submitted so
	response = client.put(url, json={"docstatus": 1})
	assert response.status_code == 417, response.get_data(as_text=True)[:500]
	assert "Rate every criterion" in response.get_data(as_text=True)
	assert frappe.db.get_value("PL Feedback", request.name, "docstatus") == 0
	response = client.put(url, json={"ratings": _ratings(request.name, (4, 3, 5)), "docstatus": 1})
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	assert frappe.db.get_value("PL Feedback", request.name, "docstatus") == 1
	ratings = frappe.get_all(
		"PL Feedback Rating", filters={"parent": request.name}, pluck="rating", order_by="idx asc"
	)
	assert ratings == [4, 3, 5]
	todo = frappe.db.get_value(
		"ToDo", {"reference_type": "PL Feedback", "reference_name": request.name}, ["status", "allocated_to"]
	)
	assert todo == ("Closed", request.reviewer_user)


def test_nobody_requests_feedback_but_the_scheme_owner(org, clients):
	url = "/api/method/postloan_performance.api.request_feedback"
	response = clients(org.users.p1).post(url, data={"cycle": CYCLE})
	assert response.status_code == 403
	response = clients(org.users.leo).post(url, data={"cycle": CYCLE})
	assert response.status_code == 403
	response = clients(org.users.manager).post(url, data={"cycle": CYCLE})
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	assert response.json["message"]["created"] == 0


# ---------------------------------------------------------------- the appraisee's view
def _expected_leo_summary():
	weights = {"Self": 10, "Manager": 40, "Subordinate": 20}  # no peers rated Leo: renormalised
	per_group = {
		"Self": [LEO_SELF],
		"Manager": [LEO_MANAGER],
		"Subordinate": list(LEO_SUBORDINATES),
	}
	combined = []
	for i in range(len(CRITERIA)):
		total = sum(w * sum(r[i] for r in per_group[g]) / len(per_group[g]) for g, w in weights.items())
		combined.append(total / sum(weights.values()))
	qualitative = sum(w * c for w, c in zip((30, 30, 40), combined, strict=True)) / 100 / 5 * 100
	return combined, qualitative


def test_summary_matches_hand_computation_and_hides_raters(org, clients):
	combined, qualitative = _expected_leo_summary()
	# by hand: (10*5 + 40*4 + 20*4) / 70 = 4.142857, 280/70 = 4, 250/70 = 3.571429; 77.428571
	assert combined == pytest.approx([290 / 70, 4.0, 250 / 70])
	assert qualitative == pytest.approx(77.428571, abs=1e-5)

	url = "/api/method/postloan_performance.api.feedback_summary?appraisal=" + quote(org.appraisals.leo)
	status = frappe.db.get_value("PL Appraisal", org.appraisals.leo, "status")
	if status not in ("Published", "Acknowledged", "Appealed"):
		# before publication the appraisee learns nothing of his 360, not even how many rated him
		hidden = clients(org.users.leo).get(url).json["message"]
		assert hidden["raters"] is None and hidden["qualitative_score"] is None
	frappe.db.set_value("PL Appraisal", org.appraisals.leo, "status", "Published", update_modified=False)
	frappe.db.commit()
	try:
		response = clients(org.users.leo).get(url)
	finally:
		frappe.db.set_value("PL Appraisal", org.appraisals.leo, "status", status, update_modified=False)
		frappe.db.commit()
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	body = response.get_data(as_text=True)
	summary = response.json["message"]
	assert summary["raters"] == 4
	assert [c["criterion"] for c in summary["criteria"]] == CRITERIA
	assert [c["rating"] for c in summary["criteria"]] == pytest.approx([round(v, 2) for v in combined])
	assert summary["qualitative_score"] == pytest.approx(round(qualitative, 2))
	# no reviewer identity nor rater group anywhere in the answer
	for row in org.leo_feedback:
		assert row.reviewer not in body
	for key in PEOPLE:
		assert org.employees[key] not in body
		assert _person_name(key) not in body
		assert org.users[key] not in body
	for word in ("Manager", "Subordinate", "Peer", "reviewer", "relationship"):
		assert word not in body, word


def test_summary_needs_read_permission_on_the_appraisal(org, clients):
	response = clients(org.users.p2).get(
		"/api/method/postloan_performance.api.feedback_summary?appraisal=" + quote(org.appraisals.leo)
	)
	assert response.status_code == 403


# ---------------------------------------------------------------- reminders
def _reminder_logs() -> int:
	return frappe.db.count(
		"Notification Log",
		{"document_type": "PL Review Cycle", "document_name": CYCLE, "subject": ("like", "Reminder:%")},
	)


def _pending_reviewers() -> set[str]:
	return set(
		frappe.get_all(
			"PL Feedback",
			filters={"review_cycle": CYCLE, "docstatus": 0},
			pluck="reviewer_user",
			distinct=True,
		)
	)


@pytest.fixture
def reminder_key():
	from postloan_performance.services.feedback import reminder_cache_key

	key = reminder_cache_key(CYCLE, nowdate())
	frappe.cache.delete_value(key)
	yield key
	frappe.cache.delete_value(key)


@pytest.mark.parametrize("days_left", [0, 1, 2])
def test_reminders_once_a_day_inside_the_window(org, reminder_key, days_left):
	from postloan_performance.services.feedback import send_feedback_reminders

	frappe.db.set_value("PL Review Cycle", CYCLE, "feedback_deadline", add_days(nowdate(), days_left))
	pending = _pending_reviewers()
	assert pending
	before = _reminder_logs()
	result = send_feedback_reminders(cycles=[CYCLE])
	assert result == {"cycles": 1, "notified": len(pending)}
	assert _reminder_logs() == before + len(pending)
	# a second run the same day reminds nobody again
	assert send_feedback_reminders(cycles=[CYCLE]) == {"cycles": 1, "notified": 0}
	assert _reminder_logs() == before + len(pending)


@pytest.mark.parametrize("days_left", [-1, 3, 10])
def test_no_reminders_outside_the_window(org, reminder_key, days_left):
	from postloan_performance.services.feedback import send_feedback_reminders

	frappe.db.set_value("PL Review Cycle", CYCLE, "feedback_deadline", add_days(nowdate(), days_left))
	before = _reminder_logs()
	assert send_feedback_reminders(cycles=[CYCLE]) == {"cycles": 0, "notified": 0}
	assert _reminder_logs() == before
