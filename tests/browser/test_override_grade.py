"""Calibration in the desk: the scheme owner overrides one grade, with the reason.

A trial cycle of the demo's first collection team is brought (server-side) to Scoring with every
appraisal reviewed: there, an appraisal in Calibration offers no Override Grade (the server refuses it
before the cycle's calibration). Once the owner presses Start Calibration, he opens the appraisee's
appraisal, presses Override Grade, picks another grade and gives the reason. The server keeps the
calibrated grade, the final grade and the reason, and the form shows them.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import delete_test_cycles, fresh
from tests.browser.cycles import appraisals, cycle_name, make_cycle, move_to, open_form, shown_text

REASON = "Carried the M2 bucket alone for six weeks; the score understates it."


@pytest.fixture
def scoring_cycle(server):
	from postloan_performance.services import cycle as service

	frappe = server
	fresh(frappe)
	delete_test_cycles(frappe)
	name = make_cycle(frappe, cycle_name("Calibration"), is_trial=True)
	move_to(frappe, [a.name for a in appraisals(frappe, name)], "Calibration")
	service.start_scoring(name)
	frappe.db.commit()
	yield name
	fresh(frappe)
	delete_test_cycles(frappe)
	frappe.db.commit()


def test_owner_overrides_a_grade_in_calibration(desk, server, people, stats, scoring_cycle):
	frappe = server
	cycle = scoring_cycle
	mine = next(a for a in appraisals(frappe, cycle) if a.appraisee_user == people["appraisee"])
	owner = desk("scheme_owner")

	# the cycle is still Scoring: no override yet
	open_form(owner, "pl-appraisal", mine.name)
	assert owner.js("() => cur_frm.doc.status") == "Calibration"
	assert "Override Grade" not in owner.buttons()[""]

	open_form(owner, "pl-review-cycle", cycle)
	owner.press("Start Calibration", "Steps")
	owner.page.wait_for_function("() => cur_frm.doc.status === 'Calibration'", timeout=30_000)
	owner.settle()
	owner.close_dialogs()
	stats["steps"] += 1

	open_form(owner, "pl-appraisal", mine.name)
	# Start Calibration proposed the grades on the server: the form opened before is refreshed (in CI
	# no realtime server tells the desk that the document changed)
	owner.js("() => cur_frm.reload_doc()")
	owner.settle()
	fresh(frappe)
	doc = frappe.get_doc("PL Appraisal", mine.name)
	grades = [b.grade for b in frappe.get_doc("PL KPI Template", doc.template).grade_bands]
	new_grade = next(g for g in grades if g != doc.final_grade)
	assert "Override Grade" in owner.buttons()[""]
	owner.press("Override Grade")
	dialog = owner.page.locator(".modal.show .modal-content").last
	dialog.wait_for(timeout=10_000)
	# the dialog offers the template's grades, the current one chosen
	select = dialog.locator('select[data-fieldname="grade"]')
	assert select.locator("option").all_inner_texts() == grades
	assert select.input_value() == doc.final_grade
	select.select_option(new_grade)
	dialog.locator('.frappe-control[data-fieldname="reason"] textarea').fill(REASON)
	dialog.locator(".btn-primary", has_text="Override Grade").click()
	owner.settle()
	owner.page.wait_for_function("(g) => cur_frm.doc.final_grade === g", arg=new_grade, timeout=30_000)
	owner.settle()

	fresh(frappe)
	saved = frappe.db.get_value(
		"PL Appraisal",
		mine.name,
		["grade", "calibrated_grade", "final_grade", "calibration_reason", "total_score"],
		as_dict=True,
	)
	assert (saved.calibrated_grade, saved.final_grade, saved.calibration_reason) == (
		new_grade,
		new_grade,
		REASON,
	)
	assert saved.grade == doc.grade and saved.total_score == pytest.approx(doc.total_score)
	# the form shows what the server keeps
	assert shown_text(owner, "calibrated_grade") == new_grade
	assert shown_text(owner, "final_grade") == new_grade
	assert shown_text(owner, "grade") == doc.grade
	assert shown_text(owner, "calibration_reason") == REASON
