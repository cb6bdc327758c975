"""A 360 Feedback KPI as a template line: its actual is the appraisal's 360 score, computed by hand here."""

import pytest

import frappe

from postloan_performance.services.compute import compute_appraisals
from postloan_performance.services.feedback import request_feedback
from tests.integration.factories import (
	make_appraisal,
	make_company,
	make_cycle,
	make_employee,
	make_team,
	make_user,
)

START = "2026-01-01"


def test_360_feedback_kpi_line_takes_the_feedback_score():
	make_company()
	lead_user = make_user("kpi360-lead@plp.test", ["PL Team Leader"])
	member_user = make_user("kpi360-member@plp.test", ["PL Appraisee"])
	lead = make_employee("_Test PL 360 Lead", user=lead_user)
	member = make_employee("_Test PL 360 Member", user=member_user)
	frappe.get_doc(
		{
			"doctype": "PL KPI",
			"kpi_code": "_TEST-360",
			"kpi_name": "Colleagues' View",
			"layer": "Collection",
			"category": "Qualitative",
			"unit": "points",
			"method": "360 Feedback",
		}
	).insert()
	template = frappe.get_doc(
		{
			"doctype": "PL KPI Template",
			"template_name": "_Test PL 360 Template",
			"layer": "Collection",
			"company": "",
			"quantitative_weight": 100,
			"qualitative_weight": 0,
			"items": [
				{
					"kpi": "COL-CSAT",
					"weight": 50,
					"threshold": 60,
					"target": 80,
					"use_stretch": 1,
					"stretch": 90,
				},
				{
					"kpi": "_TEST-360",
					"weight": 50,
					"threshold": 50,
					"target": 70,
					"use_stretch": 1,
					"stretch": 90,
				},
			],
			# the 360 line is scored by these criteria and rater weights
			"criteria": [{"criterion": "Teamwork", "weight": 60}, {"criterion": "Compliance", "weight": 40}],
			"self_weight": 20,
			"manager_weight": 80,
			"peer_weight": 0,
			"subordinate_weight": 0,
		}
	).insert()
	team = make_team("_Test PL 360 Team", "Collection", members=[(member, START, None)], team_lead=lead)
	cycle = make_cycle("_Test PL 360 Cycle", [team], layers=("Collection",))
	frappe.db.set_value(
		"PL Review Cycle Template", {"parent": cycle, "layer": "Collection"}, "template", template.name
	)
	appraisal = make_appraisal(member, team, cycle, template=template.name)

	# feedback is only given on requests, while the cycle is Open or Scoring
	frappe.db.set_value("PL Review Cycle", cycle, "status", "Open")
	request_feedback(cycle)
	for reviewer, user, relationship, ratings in (
		(member, member_user, "Self", {"Teamwork": 5, "Compliance": 4}),
		(lead, lead_user, "Manager", {"Teamwork": 3, "Compliance": 4}),
	):
		frappe.set_user(user)
		name = frappe.db.get_value("PL Feedback", {"appraisal": appraisal, "reviewer": reviewer})
		doc = frappe.get_doc("PL Feedback", name)
		assert doc.relationship == relationship
		for row in doc.ratings:
			row.rating = ratings[row.criterion]
		doc.save()
		doc.submit()
	frappe.set_user("Administrator")

	compute_appraisals([appraisal])
	doc = frappe.get_doc("PL Appraisal", appraisal)
	line = next(row for row in doc.kpis if row.kpi == "_TEST-360")
	# Teamwork: (20×5 + 80×3)/100 = 3.4; Compliance: (20×4 + 80×4)/100 = 4.0
	# combined: (60×3.4 + 40×4.0)/100 = 3.64 → 3.64/5×100 = 72.8
	assert line.no_data == 0
	assert line.actual == pytest.approx(72.8)
	# Linear: target 70 → 100, stretch 90 → 120: 100 + (72.8 − 70)/20 × 20 = 102.8
	assert line.score == pytest.approx(102.8)
	csat = next(row for row in doc.kpis if row.kpi == "COL-CSAT")
	assert csat.no_data == 1  # no customer feedback for this newcomer
	assert doc.quantitative_score == pytest.approx(102.8)
