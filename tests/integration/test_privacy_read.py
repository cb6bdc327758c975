"""Issue 13, read side: the side doors around the row rules, each tried as the attacker would.

1. child tables follow their parent; 2. counts and aggregates see only permitted rows; 4. results hidden
before publication, 360 summary only from MIN_RATERS raters; 5. survey groups hold across filters, the
respondent's team is not his choice; 8. chart sources check the chart's roles and show published formal
cycles only, Team Performance Summary leaves out the leader's own appraisal.
See tests/integration/world.py for who is who, and test_privacy_matrix.py for the full matrix.
"""

import json
from urllib.parse import quote

import pytest

import frappe

KPI_LINES = "/api/resource/" + quote("PL Appraisal KPI")
RATINGS = "/api/resource/" + quote("PL Feedback Rating")
APPRAISAL = "/api/resource/" + quote("PL Appraisal")
SURVEY = "/api/resource/" + quote("PL Satisfaction Survey")


def call(client, method: str, **data):
	payload = {k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in data.items()}
	return client.post(f"/api/method/{method}", data=payload)


def message(response):
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	return response.json["message"]


@pytest.fixture(scope="module")
def rated(world):
	"""Two submitted ratings on Ada's appraisal (Bo and Lena) and a rui Self Review with results,
	committed; undone afterwards."""
	frappe.set_user("Administrator")
	a, e, u = world.appraisals, world.employees, world.users
	made = []
	for reviewer, user, relationship in ((e.bo, u.bo, "Peer"), (e.lena, u.lena, "Manager")):
		doc = frappe.get_doc(
			{
				"doctype": "PL Feedback",
				"appraisal": a.ada,
				"appraisee": e.ada,
				"review_cycle": world.cycle,
				"reviewer": reviewer,
				"reviewer_user": user,
				"relationship": relationship,
				"ratings": [{"criterion": "Teamwork", "rating": 2}],
			}
		)
		doc.flags.ignore_validate = True
		doc.flags.ignore_links = True
		doc.insert(ignore_permissions=True)
		frappe.db.set_value("PL Feedback", doc.name, "docstatus", 1, update_modified=False)
		frappe.db.sql("update `tabPL Feedback Rating` set docstatus = 1 where parent = %s", doc.name)
		made.append(doc.name)
	before = frappe.db.get_value(
		"PL Appraisal", a.rui, ["total_score", "final_grade", "manager_comment"], as_dict=True
	)
	frappe.db.set_value(
		"PL Appraisal",
		a.rui,
		{"total_score": 77.5, "final_grade": "A", "manager_comment": "Strong quarter"},
		update_modified=False,
	)
	frappe.db.sql("update `tabPL Appraisal KPI` set score = 88, actual = 0.5 where parent = %s", a.rui)
	frappe.db.commit()
	yield world
	frappe.set_user("Administrator")
	for name in made:
		frappe.db.delete("PL Feedback Rating", {"parent": name})
		frappe.db.delete("PL Feedback", {"name": name})
	frappe.db.set_value("PL Appraisal", a.rui, before, update_modified=False)
	frappe.db.sql("update `tabPL Appraisal KPI` set score = 0, actual = 0 where parent = %s", a.rui)
	frappe.db.commit()


# ---------------------------------------------------------------- 1. child tables follow their parent
def test_appraisee_lists_only_kpi_lines_of_appraisals_he_may_read(world, rest, rated):
	ada = rest(world.users.ada)
	fields = quote(json.dumps(["parent", "kpi", "actual", "score"]))
	response = ada.get(f"{KPI_LINES}?parent={quote('PL Appraisal')}&fields={fields}&limit_page_length=0")
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	parents = {row["parent"] for row in response.json["data"]}
	assert parents <= {world.appraisals.ada}, parents
	assert world.appraisals.ada in parents


def test_appraisee_sees_no_ratings_of_feedback_he_did_not_write(world, rest, rated):
	ada = rest(world.users.ada)
	fields = quote(json.dumps(["parent", "rating", "owner", "modified_by"]))
	response = ada.get(f"{RATINGS}?parent={quote('PL Feedback')}&fields={fields}&limit_page_length=0")
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	assert response.json["data"] == []
	# the reviewer sees the ratings of his own feedback only
	bo = rest(world.users.bo)
	response = bo.get(f"{RATINGS}?parent={quote('PL Feedback')}&fields={fields}&limit_page_length=0")
	mine = set(frappe.get_all("PL Feedback", filters={"reviewer_user": world.users.bo}, pluck="name"))
	assert {row["parent"] for row in response.json["data"]} == mine


def test_a_single_kpi_line_of_someone_else_is_refused(world, rest, rated):
	other = frappe.db.get_value("PL Appraisal KPI", {"parent": world.appraisals.chen}, "name")
	assert rest(world.users.ada).get(f"{KPI_LINES}/{quote(other)}").status_code == 403


# ---------------------------------------------------------------- 2. counts and aggregates
def test_get_count_counts_only_permitted_rows(world, rest, rated):
	ada = rest(world.users.ada)
	count = message(
		call(ada, "frappe.client.get_count", doctype="PL Appraisal", filters={"total_score": [">", -1]})
	)
	assert count <= 1  # her own published appraisal at most
	# whose feedback, by whom: she wrote none
	count = message(
		call(
			ada, "frappe.client.get_count", doctype="PL Feedback", filters={"appraisee": world.employees.ada}
		)
	)
	assert count == 0
	count = message(call(ada, "frappe.client.get_count", doctype="PL Appraisal KPI", parent="PL Appraisal"))
	assert count == frappe.db.count("PL Appraisal KPI", {"parent": world.appraisals.ada})


def test_survey_answer_cannot_be_found_by_counting(world, rest):
	frappe.set_user("Administrator")
	survey = frappe.get_doc(
		{
			"doctype": "PL Satisfaction Survey",
			"review_cycle": world.cycle,
			"respondent": world.employees.chen,
			"fairness": 1,
			"clarity": 1,
			"motivation": 1,
			"workload": 1,
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	try:
		bo = rest(world.users.bo)
		count = message(
			call(
				bo,
				"frappe.client.get_count",
				doctype="PL Satisfaction Survey",
				filters={"respondent": world.employees.chen, "fairness": 1},
			)
		)
		assert count == 0
	finally:
		frappe.db.delete("PL Satisfaction Survey", {"name": survey.name})
		frappe.db.commit()


def test_assigned_to_counts_only_permitted_rows(world, rest):
	frappe.set_user("Administrator")
	todo = frappe.get_doc(
		{
			"doctype": "ToDo",
			"allocated_to": world.users.manager,
			"reference_type": "PL Appraisal",
			"reference_name": world.appraisals.chen,
			"description": "privacy",
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	try:
		ada = rest(world.users.ada)
		counts = message(
			call(
				ada,
				"frappe.desk.listview.get_group_by_count",
				doctype="PL Appraisal",
				current_filters=[["PL Appraisal", "name", "=", world.appraisals.chen]],
				field="assigned_to",
			)
		)
		assert counts == []
	finally:
		frappe.db.delete("ToDo", {"name": todo.name})
		frappe.db.commit()


def test_result_filters_narrow_the_appraisee_to_published_formal_appraisals(world, rest, rated):
	rui = rest(world.users.rui)
	a = world.appraisals
	in_cycle = [["PL Appraisal", "review_cycle", "=", world.cycle]]
	plain = message(call(rui, "frappe.client.get_list", doctype="PL Appraisal", filters=in_cycle))
	assert a.rui in {r["name"] for r in plain}  # his own, in Self Review
	for filters in (
		[*in_cycle, ["PL Appraisal", "total_score", ">", 77]],
		[*in_cycle, ["PL Appraisal", "final_grade", "=", "A"]],
	):
		rows = message(call(rui, "frappe.client.get_list", doctype="PL Appraisal", filters=filters))
		assert a.rui not in {r["name"] for r in rows}
		count = message(call(rui, "frappe.client.get_count", doctype="PL Appraisal", filters=filters))
		assert count == len([r for r in rows if r["name"] != a.rui])
	grouped = message(
		call(
			rui,
			"frappe.client.get_list",
			doctype="PL Appraisal",
			fields=["final_grade", "count(name) as n"],
			filters=in_cycle,
			group_by="final_grade",
		)
	)
	assert "A" not in {r["final_grade"] for r in grouped}
	value = message(
		call(rui, "frappe.client.get_value", doctype="PL Appraisal", fieldname="total_score", filters=a.rui)
	)
	assert not value


# ---------------------------------------------------------------- 4. results before publication
def test_appraisee_reads_no_results_before_publication(world, rest, rated):
	rui = rest(world.users.rui)
	name = world.appraisals.rui
	doc = rui.get(f"{APPRAISAL}/{quote(name)}").json["data"]
	assert doc["status"] == "Self Review"
	for field in ("total_score", "final_grade", "manager_comment"):
		assert not doc.get(field), field
	assert all(not line.get("score") and not line.get("actual") for line in doc["kpis"])
	form = message(call(rui, "frappe.client.get", doctype="PL Appraisal", name=name))
	assert not form.get("total_score") and not form.get("manager_comment")
	line = frappe.db.get_value("PL Appraisal KPI", {"parent": name}, "name")
	assert not rui.get(f"{KPI_LINES}/{quote(line)}").json["data"].get("score")
	# the desk's list view keeps the row, with its results blank
	listed = message(
		call(
			rui,
			"frappe.desk.reportview.get",
			doctype="PL Appraisal",
			fields=["`tabPL Appraisal`.`name`", "`tabPL Appraisal`.`total_score`"],
			filters=[["PL Appraisal", "review_cycle", "=", world.cycle]],
		)
	)
	rows = {row[0]: row for row in listed["values"]}
	assert name in rows and not rows[name][1]
	# his team lead (Rui leads Risk; Chen's appraisal) still reads the results of his team
	assert frappe.db.get_value("PL Appraisal", name, "total_score") == 77.5


def test_print_shows_no_results_before_publication(world, rest, rated):
	"""The print view (both ways in, the standard and the app's print format) blanks the results as the
	form does; the scheme owner's print of the same appraisal still shows them."""
	name = world.appraisals.rui
	for who, shown in (("rui", False), ("manager", True)):
		client = rest(world.users[who])
		for print_format in ("Standard", "PL Appraisal Print"):
			html = message(
				call(
					client,
					"frappe.www.printview.get_html_and_style",
					doc="PL Appraisal",
					name=name,
					print_format=print_format,
				)
			)["html"]
			page = client.get(
				f"/printview?doctype={quote('PL Appraisal')}&name={quote(name)}&format={quote(print_format)}"
			)
			assert page.status_code == 200
			for text in (html, page.get_data(as_text=True)):
				assert ("Strong quarter" in text) is shown, (who, print_format)
				assert ("77.5" in text) is shown, (who, print_format)


def test_result_reports_show_no_results_before_publication(world, rest, rated):
	"""Appraisal Results and KPI Achievement name no result column in their request: the appraisee's
	own appraisal in Self Review is still not in them (its score, its KPI actuals); the scheme owner's
	run of the same reports shows it."""
	name = world.appraisals.rui
	for report, key in (
		("Appraisal Results and Grade Distribution", "name"),
		("KPI Achievement", "appraisal"),
	):
		for who, shown in (("rui", False), ("manager", True)):
			result = message(
				call(
					rest(world.users[who]),
					"frappe.desk.query_report.run",
					report_name=report,
					filters={"review_cycle": world.cycle},
				)
			)["result"]
			rows = [row for row in result if isinstance(row, dict) and row.get(key) == name]
			assert bool(rows) is shown, (report, who)
			if report == "Appraisal Results and Grade Distribution" and shown:
				assert rows[0]["total_score"] == 77.5


def test_saving_the_self_assessment_keeps_the_hidden_results(world, rest, rated):
	rui = rest(world.users.rui)
	name = world.appraisals.rui
	doc = rui.get(f"{APPRAISAL}/{quote(name)}").json["data"]
	doc["self_assessment"] = "Cut event handling time."
	response = rui.put(f"{APPRAISAL}/{quote(name)}", json=doc)
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	stored = frappe.db.get_value("PL Appraisal", name, ["manager_comment", "self_assessment"], as_dict=True)
	assert stored.manager_comment == "Strong quarter"
	frappe.db.set_value("PL Appraisal", name, "self_assessment", None, update_modified=False)
	frappe.db.commit()


def test_feedback_summary_needs_min_raters(world, rest, rated):
	from postloan_performance.services.feedback import MIN_RATERS

	assert MIN_RATERS == 3
	summary = message(
		call(
			rest(world.users.ada), "postloan_performance.api.feedback_summary", appraisal=world.appraisals.ada
		)
	)
	assert summary["raters"] is None
	assert summary["qualitative_score"] is None
	assert all(c["rating"] is None for c in summary["criteria"])


# ---------------------------------------------------------------- 5. survey anonymity across filters
def test_survey_groups_hold_across_team_filters(world):
	from postloan_performance.services.reports.scheme_satisfaction import MIN_RESPONSES, get_data

	frappe.set_user("Administrator")
	e = world.employees
	for employee in (e.lena, e.bo, e.ada, e.chen):
		doc = frappe.get_doc(
			{
				"doctype": "PL Satisfaction Survey",
				"review_cycle": world.cycle,
				"respondent": employee,
				"fairness": 5 if employee == e.chen else 3,
				"clarity": 3,
				"motivation": 3,
				"workload": 3,
			}
		)
		doc.insert(ignore_permissions=True)
	frappe.set_user(world.users.manager)

	def responses(**filters) -> int:
		rows = get_data(frappe._dict(review_cycle=world.cycle, **filters))["data"]
		return max((r["responses"] for r in rows if r["question_code"] == "fairness"), default=0)

	whole, north = responses(), responses(pl_team=world.teams.north)
	assert whole == 4
	# Chen (Risk) answered alone: the whole minus North must never be his single answer
	assert whole - north == 0 or whole - north >= MIN_RESPONSES


def test_respondent_cannot_choose_his_team(world, rest):
	ada = rest(world.users.ada)
	response = ada.post(
		SURVEY,
		json={
			"review_cycle": world.cycle,
			"respondent": world.employees.ada,
			"pl_team": world.teams.risk,
			"fairness": 1,
			"clarity": 1,
			"motivation": 1,
			"workload": 1,
		},
	)
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	name = response.json["data"]["name"]
	try:
		assert frappe.db.get_value("PL Satisfaction Survey", name, "pl_team") == world.teams.north1
	finally:
		frappe.db.delete("PL Satisfaction Survey", {"name": name})
		frappe.db.commit()


# ---------------------------------------------------------------- 8. charts and Team Performance Summary
def test_chart_sources_check_the_charts_roles(world, rest):
	ada = rest(world.users.ada)  # PL Appraisee: not in the charts' role lists
	for method in (
		"postloan_performance.api.grade_distribution_chart",
		"postloan_performance.api.kpi_achievement_chart",
	):
		assert call(ada, method).status_code == 403, method
	# the open cycle's card sits on his workspace: it answers quietly, with no figure
	response = call(ada, "postloan_performance.api.open_cycle_progress")
	assert response.status_code == 200 and not isinstance(response.json["message"], dict)
	assert (
		call(rest(world.users.manager), "postloan_performance.api.grade_distribution_chart").status_code
		== 200
	)


def test_kpi_achievement_chart_shows_no_trial_nor_unpublished_cycle(world):
	from postloan_performance import api
	from tests.integration.factories import COMPANY, make_appraisal, make_cycle

	frappe.set_user("Administrator")
	t, e = world.teams, world.employees
	trial = make_cycle(
		"_Test PL Chart Trial", [t.north1], is_trial=1, period_start="2030-01-01", period_end="2030-03-31"
	)
	name = make_appraisal(e.ada, t.north1, trial)
	frappe.db.set_value("PL Appraisal", name, "computed_on", frappe.utils.now_datetime())
	frappe.db.sql("update `tabPL Appraisal KPI` set achievement = 150 where parent = %s", name)
	frappe.set_user(world.users.manager)
	chart = api.kpi_achievement_chart(filters={"company": COMPANY})
	assert chart["cycle"] != trial
	assert chart["cycle"] != world.cycle or frappe.db.get_value("PL Review Cycle", world.cycle, "status") in (
		"Published",
		"Closed",
	)


def test_kpi_achievement_chart_shows_no_group_below_the_minimum(world):
	"""The latest published formal cycle has one computed appraisal (Ada's): the chart's mean per KPI is
	her own achievement. A team leader of another team (Rui) must not get it; the scheme owner does."""
	from postloan_performance import api
	from tests.integration.factories import COMPANY, make_appraisal, make_cycle
	from tests.integration.world import _set_state

	frappe.set_user("Administrator")
	t, e = world.teams, world.employees
	cycle = make_cycle(
		"_Test PL Chart Published", [t.north1], period_start="2031-01-01", period_end="2031-03-31"
	)
	name = make_appraisal(e.ada, t.north1, cycle)
	_set_state(name, "Published", submit=True)
	frappe.db.set_value("PL Review Cycle", cycle, "status", "Published")
	frappe.db.set_value("PL Appraisal", name, "computed_on", frappe.utils.now_datetime())
	frappe.db.sql("update `tabPL Appraisal KPI` set achievement = 64.27, no_data = 0 where parent = %s", name)
	frappe.set_user(world.users.manager)
	chart = api.kpi_achievement_chart(filters={"company": COMPANY})
	assert chart["cycle"] == cycle and 64.27 in chart["datasets"][0]["values"]
	frappe.set_user(world.users.rui)
	chart = api.kpi_achievement_chart(filters={"company": COMPANY})
	assert chart["labels"] == [] and 64.27 not in chart["datasets"][0]["values"]


def test_team_performance_summary_leaves_out_the_leaders_own_appraisal(world):
	from postloan_performance.services.reports.team_performance_summary import appraisals_of

	frappe.set_user(world.users.lena)
	names = {row.name for row in appraisals_of([world.cycle], None)}
	assert world.appraisals.lena not in names
	assert world.appraisals.bo in names and world.appraisals.ada in names


# ---------------------------------------------------------------- whitelisted methods without a test elsewhere
def test_post_loan_job_methods_refuse_other_roles(world, rest):
	ada = rest(world.users.ada)
	assert call(ada, "postloan_performance.api.run_post_loan_job", job="classification").status_code == 403
	assert call(ada, "postloan_performance.api.post_loan_job_status", job_id="pl-daily-x").status_code == 403
