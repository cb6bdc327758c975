"""A trial cycle, then a formal cycle, end to end over generated data, each step as the right user.

Organisation (postloan_performance.datagen, seed 11): one management team over two collection
teams, one risk-control team and one customer-service team. Users are created for the scheme
owner, four team leads and three staff; the others have no user, so the scheme owner skips their
self review. Expected totals and grades are recomputed in the test from the stored KPI actuals and
the ratings given, with the Linear rule and the template weights written out by hand.
"""

import json

import pytest

import frappe
from frappe.exceptions import PermissionError as FrappePermissionError
from frappe.model.workflow import apply_workflow

from postloan_performance import api
from postloan_performance.datagen import generate
from postloan_performance.services.dataset_loader import load_dataset
from tests.integration.factories import COMPANY, make_user

MGR_ROLE, TL_ROLE, APP_ROLE = "PL Performance Manager", "PL Team Leader", "PL Appraisee"
CRITERIA = {"Professional Conduct": 30, "Teamwork": 30, "Compliance": 40}
GROUP_WEIGHTS = {"Self": 10, "Manager": 50, "Peer": 30, "Subordinate": 10}
BANDS = [("S", 95), ("A", 85), ("B", 70), ("C", 60), ("D", 0)]


# ---------------------------------------------------------------- independent scoring (by hand)
def linear(actual, direction, threshold, target, stretch, threshold_score=60.0, cap=120.0):
	sign = 1 if direction == "Higher is Better" else -1
	a, th, tg, st = sign * actual, sign * threshold, sign * target, sign * stretch
	if a < th:
		return 0.0
	if a <= tg:
		return threshold_score + (a - th) / (tg - th) * (100 - threshold_score)
	if a <= st:
		return 100 + (a - tg) / (st - tg) * (cap - 100)
	return cap


def expected_scores(appraisal, ratings: list[tuple[str, str, int]]):
	lines = [line for line in appraisal.kpis if not line.no_data]
	quantitative = None
	if lines:
		weighted = sum(
			line.weight * linear(line.actual, line.direction, line.threshold, line.target, line.stretch)
			for line in lines
		)
		quantitative = weighted / sum(line.weight for line in lines)
	qualitative = None
	if ratings:
		per_criterion = {}
		for criterion in CRITERIA:
			groups = {}
			for c, group, value in ratings:
				if c == criterion:
					groups.setdefault(group, []).append(value)
			if groups:
				weight = sum(GROUP_WEIGHTS[g] for g in groups)
				per_criterion[criterion] = (
					sum(GROUP_WEIGHTS[g] * sum(v) / len(v) for g, v in groups.items()) / weight
				)
		qualitative = (
			sum(CRITERIA[c] * r for c, r in per_criterion.items())
			/ sum(CRITERIA[c] for c in per_criterion)
			/ 5
			* 100
		)
	if quantitative is not None and qualitative is not None:
		total = (70 * quantitative + 30 * qualitative) / 100
	else:
		total = quantitative if quantitative is not None else qualitative
	grade = next(g for g, minimum in BANDS if total >= minimum - 1e-9)
	return quantitative, qualitative, total, grade


# ---------------------------------------------------------------- the organisation
@pytest.fixture
def org():
	ds = generate(seed=11, start="2025-07-01", months=12, n_loans=300)
	loaded = load_dataset(ds, COMPANY)
	emp = loaded["employees"]
	teams = {row.team_name: row for row in ds.teams.itertuples()}
	users = {"manager": make_user("e2e-manager@plp.test", [MGR_ROLE])}
	people = {}
	for team in ds.teams.itertuples():
		key = team.lead_key
		users[key] = make_user(f"e2e-{key.lower()}@plp.test", [TL_ROLE, APP_ROLE])
		people[key] = emp[key]
	# three staff with users: one per functional layer, not a lead
	for layer in ("Collection", "Risk Control", "Customer Service"):
		row = ds.employees[(ds.employees.layer == layer) & ~ds.employees.is_lead].iloc[0]
		users[row.key] = make_user(f"e2e-{row.key.lower()}@plp.test", [APP_ROLE])
		people[row.key] = emp[row.key]
	for key, employee in people.items():
		frappe.db.set_value("Employee", employee, "user_id", users[key])
	return frappe._dict(ds=ds, emp=emp, users=users, teams=teams, people=people)


def as_user(user):
	frappe.set_user(user)


def workflow(name, action):
	return apply_workflow(json.dumps({"doctype": "PL Appraisal", "name": name}), action)


def appraisal_of(cycle, employee):
	return frappe.db.get_value("PL Appraisal", {"review_cycle": cycle, "employee": employee}, "name")


def give_feedback(appraisal, reviewer, relationship, ratings):
	"""The reviewer fills in and submits the feedback request sent to him (feedback is only given on one)."""
	name = frappe.db.get_value("PL Feedback", {"appraisal": appraisal, "reviewer": reviewer, "docstatus": 0})
	doc = frappe.get_doc("PL Feedback", name)
	assert doc.relationship == relationship
	given = {row.criterion: row for row in doc.ratings}
	for criterion, rating in ratings.items():
		given[criterion].rating = rating
	doc.save()
	doc.submit()
	return doc


def run_cycle(org, name, start, end, baseline, is_trial):
	ds, emp, users = org.ds, org.emp, org.users
	lead_of_team = {t.team_name: t.lead_key for t in ds.teams.itertuples()}
	root = ds.teams[ds.teams.parent_pl_team.isna()].team_name.iloc[0]

	# -- the scheme owner sets the cycle up
	as_user(users["manager"])
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
			"templates": [
				{"layer": layer, "template": f"{layer} - Default"}
				for layer in ("Management", "Collection", "Risk Control", "Customer Service")
			],
			"teams": [{"pl_team": t} for t in ds.teams.team_name],
		}
	).insert()
	with pytest.raises(frappe.ValidationError, match="needs status"):
		api.cycle_step(cycle.name, "start_scoring")  # out of order
	assert api.cycle_step(cycle.name, "open")["status"] == "Open"
	created = api.cycle_step(cycle.name, "create_appraisals")
	assert created["created"] == len(ds.employees)
	assert api.cycle_step(cycle.name, "create_appraisals")["created"] == 0  # idempotent
	api.cycle_step(cycle.name, "start_self_review")
	api.cycle_step(cycle.name, "compute")

	appraisals = {key: appraisal_of(cycle.name, e) for key, e in emp.items()}
	staff_with_users = [k for k in org.people if k not in lead_of_team.values()]

	# -- self review: staff and leads with users write and submit; the owner skips the others
	for key in org.people:
		as_user(users[key])
		doc = frappe.get_doc("PL Appraisal", appraisals[key])
		doc.self_assessment = f"Self assessment of {key}"
		doc.save()
		workflow(appraisals[key], "Submit Self Review")
	as_user(users[staff_with_users[0]])
	other = appraisals[staff_with_users[1]]
	with pytest.raises(FrappePermissionError):
		workflow(other, "Submit Self Review")  # someone else's appraisal
	as_user(users["manager"])
	for name_ in appraisals.values():
		if frappe.db.get_value("PL Appraisal", name_, "status") == "Self Review":
			workflow(name_, "Skip Self Review")

	# -- 360: self and manager ratings for the three staff with users, on the cycle's requests
	as_user(users["manager"])
	api.request_feedback(cycle.name)
	ratings = {}
	for i, key in enumerate(staff_with_users):
		team = ds.employees.set_index("key").loc[key, "team"]
		lead = lead_of_team[team]
		self_r = {"Professional Conduct": 4, "Teamwork": 5, "Compliance": 3 + i % 2}
		mgr_r = {"Professional Conduct": 3 + i, "Teamwork": 4, "Compliance": 4}
		as_user(users[key])
		give_feedback(appraisals[key], emp[key], "Self", self_r)
		as_user(users[lead])
		give_feedback(appraisals[key], emp[lead], "Manager", mgr_r)
		ratings[key] = [(c, "Self", r) for c, r in self_r.items()] + [
			(c, "Manager", r) for c, r in mgr_r.items()
		]

	# -- manager review by each team's lead (a lead's own appraisal goes to the lead above)
	for key, name_ in appraisals.items():
		team = ds.employees.set_index("key").loc[key, "team"]
		reviewer = lead_of_team[team]
		if reviewer == key:
			parent = ds.teams.set_index("team_name").loc[team, "parent_pl_team"]
			reviewer = lead_of_team.get(parent) if isinstance(parent, str) else None
		if reviewer is None:
			continue
		as_user(users[reviewer])
		workflow(name_, "Submit Manager Review")
	# wrong roles: a staff member cannot complete manager review or approve; a lead cannot approve
	as_user(users[staff_with_users[0]])
	with pytest.raises((frappe.ValidationError, FrappePermissionError)):
		workflow(appraisals[staff_with_users[0]], "Approve")
	root_lead_appraisal = appraisals[lead_of_team[root]]
	assert frappe.db.get_value("PL Appraisal", root_lead_appraisal, "status") == "Manager Review"
	as_user(users[lead_of_team[root]])
	with pytest.raises((frappe.ValidationError, FrappePermissionError)):
		workflow(root_lead_appraisal, "Submit Manager Review")  # his own
	as_user(users["manager"])
	workflow(root_lead_appraisal, "Skip Manager Review")

	# -- scoring, calibration
	api.cycle_step(cycle.name, "start_scoring")
	api.cycle_step(cycle.name, "compute")
	for key, name_ in appraisals.items():
		doc = frappe.get_doc("PL Appraisal", name_)
		q, l, total, grade = expected_scores(doc, ratings.get(key, []))
		assert doc.quantitative_score == pytest.approx(q or 0, abs=1e-6), key
		assert doc.qualitative_score == pytest.approx(l or 0, abs=1e-6), key
		assert doc.total_score == pytest.approx(total, abs=1e-6), key
		assert doc.grade == grade, key
	calibration = api.cycle_step(cycle.name, "start_calibration")
	assert calibration["status"] == "Calibration"
	# forced distribution: within a layer, a higher total never gets a worse grade
	order = "SABCD"
	rows = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle.name},
		fields=["layer", "total_score", "calibrated_grade"],
	)
	for layer in {r.layer for r in rows}:
		ranked = sorted((r for r in rows if r.layer == layer), key=lambda r: -r.total_score)
		grades = [order.index(r.calibrated_grade) for r in ranked]
		assert grades == sorted(grades), layer
	view = api.calibration_view(cycle.name)
	assert {v["layer"] for v in view} == {r.layer for r in rows}
	target = appraisals[staff_with_users[0]]
	with pytest.raises(frappe.ValidationError, match="reason"):
		api.override_grade(target, "A", "  ")
	api.override_grade(target, "A", "Took over the hardest portfolio mid-quarter.")
	assert frappe.db.get_value("PL Appraisal", target, "final_grade") == "A"
	api.cycle_step(cycle.name, "approve_all")
	published = api.cycle_step(cycle.name, "publish")
	return frappe._dict(cycle=cycle.name, appraisals=appraisals, staff=staff_with_users, published=published)


def test_trial_then_formal_cycle(org):
	users = org.users
	trial = run_cycle(
		org, "_Test PL E2E Trial", "2026-01-01", "2026-03-31", ("2025-10-01", "2025-12-31"), is_trial=1
	)
	assert trial.published == {"status": "Published", "published": 0, "is_trial": 1}
	staff = trial.staff
	# trial results are never shown to the appraisee
	as_user(users[staff[0]])
	assert not frappe.get_list("PL Appraisal", filters={"review_cycle": trial.cycle}, pluck="name")
	as_user(users["manager"])
	assert frappe.db.get_value("PL Appraisal", trial.appraisals[staff[0]], "is_trial") == 1
	api.cycle_step(trial.cycle, "close")

	formal = run_cycle(
		org, "_Test PL E2E Q2", "2026-04-01", "2026-06-30", ("2026-01-01", "2026-03-31"), is_trial=0
	)
	assert formal.published["published"] == len(org.emp)
	first, second, third = formal.staff
	# the appraisee now sees his published result, and only his
	as_user(users[first])
	assert frappe.get_list("PL Appraisal", filters={"review_cycle": formal.cycle}, pluck="name") == [
		formal.appraisals[first]
	]
	workflow(formal.appraisals[first], "Acknowledge")
	assert frappe.db.get_value("PL Appraisal", formal.appraisals[first], "status") == "Acknowledged"

	# one appeal upheld, one rejected
	appeals = {}
	for key in (second, third):
		as_user(users[key])
		with pytest.raises(frappe.ValidationError, match="create an appeal"):
			workflow(formal.appraisals[key], "Appeal")  # the workflow button alone is not an appeal
		appeal = frappe.get_doc(
			{"doctype": "PL Appeal", "appraisal": formal.appraisals[key], "reason": f"Appeal of {key}"}
		).insert()
		appeals[key] = appeal.name
		assert frappe.db.get_value("PL Appraisal", formal.appraisals[key], "status") == "Appealed"
	as_user(users["manager"])
	with pytest.raises(frappe.ValidationError, match="still open"):
		api.cycle_step(formal.cycle, "close")
	upheld = frappe.get_doc("PL Appeal", appeals[second])
	upheld.status = "Upheld"
	upheld.revised_score = 96
	upheld.resolution = "Two cured cases were booked to the wrong collector."
	upheld.save()
	rejected = frappe.get_doc("PL Appeal", appeals[third])
	rejected.status = "Rejected"
	rejected.resolution = "The figures match the loan system."
	rejected.save()
	revised = frappe.get_doc("PL Appraisal", formal.appraisals[second])
	assert (revised.status, revised.total_score, revised.final_grade) == ("Published", 96, "S")
	versions = frappe.get_all(
		"Version", filters={"ref_doctype": "PL Appraisal", "docname": revised.name}, pluck="data"
	)
	assert any('"total_score"' in v and "96" in v for v in versions)  # the amendment is audited
	assert frappe.db.get_value("PL Appraisal", formal.appraisals[third], "status") == "Published"
	assert api.cycle_step(formal.cycle, "close")["status"] == "Closed"
