"""A manual KPI value typed by the team leader in the desk, with its note; the score recomputes.

The demo's templates have built-in KPIs only, so the test makes (server-side, named with the tests'
prefix) a Manual KPI and a copy of the demo's Collection template that weighs it at 20%. In a trial
cycle on that template the team leader opens his staff member's appraisal in Manager Review, opens the
Manual KPI line of the KPI grid, types the value and the note that explains it, and saves. The server
keeps both, scores the line, and the totals on screen equal the server's (and a fresh scoring of the
stored appraisal).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import delete_test_cycles, fresh
from tests.browser.cycles import appraisals, cycle_name, make_cycle, move_to, open_form, plan, shown_number
from tests.browser.helpers import TEST_PREFIX

KPI = "PLBT-MANUAL-AUDIT"
TEMPLATE = f"{TEST_PREFIX}Collection Manual"
MANUAL_WEIGHT = 20


def _make_scheme(frappe, base_template: str) -> None:
	_drop_scheme(frappe)
	frappe.get_doc(
		{
			"doctype": "PL KPI",
			"kpi_code": KPI,
			"kpi_name": f"{TEST_PREFIX}File audit score",
			"layer": "Collection",
			"category": "Quantitative",
			"unit": "points",
			"direction": "Higher is Better",
			"subject": "Employee",
			"method": "Manual",
			"enabled": 1,
		}
	).insert()
	template = frappe.copy_doc(frappe.get_doc("PL KPI Template", base_template))
	template.template_name = TEMPLATE
	template.is_default = 0
	template.is_standard = 0
	template.company = "PL Demo Lender"
	heaviest = max(template.items, key=lambda i: i.weight)
	heaviest.weight -= MANUAL_WEIGHT
	template.append(
		"items",
		{
			"kpi": KPI,
			"weight": MANUAL_WEIGHT,
			"scoring_method": "Linear",
			"threshold": 60,
			"target": 90,
			"use_stretch": 0,
		},
	)
	template.insert()
	frappe.db.commit()


def _drop_scheme(frappe) -> None:
	for doctype, name in (("PL KPI Template", TEMPLATE), ("PL KPI", KPI)):
		if frappe.db.exists(doctype, name):
			frappe.delete_doc(doctype, name, force=True, ignore_permissions=True)
	frappe.db.commit()


@pytest.fixture
def manual_cycle(server):
	frappe = server
	fresh(frappe)
	delete_test_cycles(frappe)
	_, base = plan(frappe)
	_make_scheme(frappe, base)
	yield make_cycle(frappe, cycle_name("Manual KPI"), is_trial=True, template=TEMPLATE)
	fresh(frappe)
	delete_test_cycles(frappe)
	_drop_scheme(frappe)


def test_team_leader_types_a_manual_kpi_value(desk, server, people, manual_cycle):
	frappe = server
	mine = next(a for a in appraisals(frappe, manual_cycle) if a.appraisee_user == people["appraisee"])
	move_to(frappe, [mine.name], "Manager Review")
	fresh(frappe)
	before = frappe.get_doc("PL Appraisal", mine.name)
	line = next(row for row in before.kpis if row.kpi == KPI)
	assert line.method == "Manual" and line.no_data == 1 and line.weighted_score == 0

	leader = desk("team_leader")
	open_form(leader, "pl-appraisal", mine.name)
	assert shown_number(leader, "total_score") == pytest.approx(before.total_score, abs=0.01)
	# the Manual line's row form, from the KPI grid
	row = leader.page.locator(
		f'.frappe-control[data-fieldname="kpis"] .grid-body .grid-row[data-idx="{line.idx}"]'
	)
	row.locator(".btn-open-row").click()
	form = leader.page.locator(".grid-row-open .form-in-grid")
	form.wait_for(timeout=10_000)
	actual = form.locator('.frappe-control[data-fieldname="actual"] input')
	actual.fill("84")
	actual.blur()
	note = form.locator('.frappe-control[data-fieldname="note"] textarea')
	note.fill("84 of 100 files passed the branch audit of the month.")
	note.blur()
	# the open row holds the desk frozen (Frappe's grid form): close it, then wait for the desk
	form.locator(".grid-collapse-row").first.click()
	leader.page.locator(".grid-row-open").wait_for(state="detached", timeout=10_000)
	leader.settle()
	leader.save()

	fresh(frappe)
	after = frappe.get_doc("PL Appraisal", mine.name)
	saved = next(row for row in after.kpis if row.kpi == KPI)
	assert saved.actual == 84 and saved.no_data == 0
	assert "branch audit" in saved.note
	# linear between 60 (threshold) and 90 (target): 84 scores above the threshold score
	assert saved.score > 60 and saved.weighted_score == pytest.approx(saved.score * MANUAL_WEIGHT / 100)
	assert after.total_score != pytest.approx(before.total_score, abs=0.001)
	# the stored totals are what scoring the stored lines gives
	from postloan_performance.services.appraisal import score_appraisal

	check = frappe.get_doc("PL Appraisal", mine.name)
	score_appraisal(check)
	assert after.total_score == pytest.approx(check.total_score, abs=0.01)
	# and the desk shows the server's numbers
	for fieldname in ("quantitative_score", "total_score"):
		assert shown_number(leader, fieldname) == pytest.approx(after.get(fieldname), abs=0.01), fieldname
	shown_line = leader.js(
		"(kpi) => cur_frm.doc.kpis.filter((r) => r.kpi === kpi).map((r) => [r.actual, r.score, r.note])[0]",
		KPI,
	)
	assert shown_line[0] == 84 and shown_line[1] == pytest.approx(saved.score, abs=0.01)
	assert "branch audit" in shown_line[2]
