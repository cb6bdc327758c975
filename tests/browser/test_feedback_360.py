"""360 feedback through the desk: the scheme owner requests it, the appraisee gives his from his ToDo.

The owner presses Steps > Request 360 Feedback on an open cycle; the alert's count equals the
feedback requests the server made. The appraisee opens his To Do list, opens the request's document
from its row, rates every criterion in the grid and submits (accepting the confirmation). The server
then holds his ratings, the feedback is submitted and his ToDo closed; the owner recomputes the
appraisal and its 360 (qualitative) score on screen equals the server's.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import delete_test_cycles, fresh
from tests.browser.cycles import appraisals, cycle_name, make_cycle, open_form, shown_number


@pytest.fixture
def open_cycle(server):
	frappe = server
	fresh(frappe)
	delete_test_cycles(frappe)
	frappe.db.commit()
	yield make_cycle(frappe, cycle_name("360"), is_trial=True)
	fresh(frappe)
	delete_test_cycles(frappe)
	frappe.db.commit()


def test_request_and_give_360_feedback(desk, server, people, stats, open_cycle):
	frappe = server
	cycle = open_cycle
	owner = desk("scheme_owner")
	open_form(owner, "pl-review-cycle", cycle)
	assert "Request 360 Feedback" in owner.buttons()["Steps"]
	owner.press("Request 360 Feedback", "Steps")
	alert = owner.page.locator(".desk-alert", has_text="feedback requests sent").last
	alert.wait_for(timeout=30_000)
	owner.settle()
	stats["steps"] += 1
	fresh(frappe)
	requested = frappe.get_all(
		"PL Feedback", {"review_cycle": cycle}, ["name", "reviewer_user", "appraisal", "relationship"]
	)
	assert requested, "the request made no feedback"
	assert int(alert.inner_text().split()[0]) == len(requested)

	# ---- the appraisee's own request, from his To Do list
	user = people["appraisee"]
	mine = [f for f in requested if f.reviewer_user == user]
	assert mine, f"no feedback request for {user}"
	feedback = mine[0]
	todo = frappe.get_all(
		"ToDo",
		{"reference_type": "PL Feedback", "reference_name": feedback.name, "allocated_to": user},
		["name", "status"],
	)
	assert [t.status for t in todo] == ["Open"]

	appraisee = desk("appraisee")
	appraisee.open("todo")
	appraisee.page.wait_for_function("() => window.cur_list && cur_list.doctype === 'ToDo'", timeout=30_000)
	appraisee.settle()
	row_button = appraisee.page.locator(
		f'.list-row-container button[data-name][title$="{feedback.name}"]'
	).first
	row_button.wait_for(timeout=30_000)
	row_button.click()
	appraisee.page.wait_for_function(
		"(n) => window.cur_frm && cur_frm.doctype === 'PL Feedback' && cur_frm.docname === n",
		arg=feedback.name,
		timeout=30_000,
	)
	appraisee.settle()
	criteria = appraisee.js("() => cur_frm.doc.ratings.map((r) => r.criterion)")
	assert criteria and all(
		r == 0 for r in appraisee.js("() => cur_frm.doc.ratings.map((r) => r.rating || 0)")
	)

	# rate every criterion in the grid, as a person types them
	given = {c: 5 - i % 3 for i, c in enumerate(criteria)}
	for idx, criterion in enumerate(criteria, start=1):
		row = appraisee.page.locator(
			f'.frappe-control[data-fieldname="ratings"] .grid-body .grid-row[data-idx="{idx}"]'
		)
		row.locator('.grid-static-col[data-fieldname="rating"]').click()
		field = row.locator('input[data-fieldname="rating"]')
		field.wait_for(timeout=10_000)
		field.fill(str(given[criterion]))
		# no Tab: from the last row it would add a new, empty row (the next click leaves the cell)
		field.blur()
		appraisee.settle()
	appraisee.fill("comment", "Kept every promise-to-pay follow-up on time.")
	assert appraisee.js("() => cur_frm.doc.ratings.map((r) => r.rating)") == [given[c] for c in criteria]
	appraisee.save()

	# submit: the primary button, then the confirmation
	appraisee.page.locator(".page-actions .primary-action", has_text="Submit").click()
	appraisee.page.locator(".modal.show .btn-primary", has_text="Yes").click()
	appraisee.settle()
	appraisee.page.wait_for_function("() => cur_frm.doc.docstatus === 1", timeout=30_000)
	fresh(frappe)
	saved = frappe.get_doc("PL Feedback", feedback.name)
	assert saved.docstatus == 1
	assert {r.criterion: r.rating for r in saved.ratings} == given
	assert "promise-to-pay" in saved.comment
	assert frappe.db.get_value("ToDo", todo[0].name, "status") == "Closed"

	# ---- the 360 score counts his feedback: recomputed by the owner, shown as the server has it
	open_form(owner, "pl-appraisal", feedback.appraisal)
	owner.press("Recompute KPIs")
	owner.settle()
	owner.page.wait_for_function(
		"(n) => cur_frm && cur_frm.docname === n && !cur_frm.is_dirty()", arg=feedback.appraisal
	)
	owner.settle()
	fresh(frappe)
	row = next(a for a in appraisals(frappe, cycle) if a.name == feedback.appraisal)
	qualitative = frappe.db.get_value("PL Appraisal", row.name, "qualitative_score")
	assert qualitative > 0
	assert shown_number(owner, "qualitative_score") == pytest.approx(qualitative, abs=0.01)
	assert shown_number(owner, "total_score") == pytest.approx(row.total_score, abs=0.01)
