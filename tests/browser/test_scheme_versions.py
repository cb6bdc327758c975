"""Scheme versions in the desk: the scheme owner makes a new version of a scheme, edits it, reads what it
changes, tries it on a past cycle (what-if, then its comparison report) and adopts it from a date with a
reason; the server records it and closes the predecessor.

The test works on a copy of the demo's Collection template (named with the tests' prefix), never on the
demo's own templates.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import fresh
from tests.browser.cycles import open_form, plan
from tests.browser.helpers import TEST_PREFIX

TEMPLATE = f"{TEST_PREFIX}Collection Versioned"


def _drop(frappe) -> None:
	fresh(frappe)
	names = frappe.get_all("PL KPI Template", {"template_name": ("like", f"{TEMPLATE}%")}, pluck="name")
	for what_if in frappe.get_all("PL Scheme What-If", {"template": ("in", names or ["-"])}, pluck="name"):
		frappe.delete_doc("PL Scheme What-If", what_if, force=True, ignore_permissions=True)
	for name in sorted(names, key=len, reverse=True):
		frappe.delete_doc("PL KPI Template", name, force=True, ignore_permissions=True)
	frappe.db.commit()


@pytest.fixture
def scheme(server):
	frappe = server
	_drop(frappe)
	source, base = plan(frappe)
	doc = frappe.copy_doc(frappe.get_doc("PL KPI Template", base))
	# the copy is for the demo's company: left empty, insert would give it the site's default company,
	# and the what-if (rightly) refuses a template of another company than the cycle's
	company = frappe.db.get_value("PL Review Cycle", source.name, "company")
	doc.update(
		{
			"template_name": TEMPLATE,
			"company": company,
			"is_default": 0,
			"is_standard": 0,
			"effective_from": "2020-01-01",
		}
	)
	doc.insert()
	frappe.db.commit()
	doc.flags.past_cycle = source.name
	yield doc
	_drop(frappe)


def test_scheme_owner_makes_edits_and_adopts_a_new_version(desk, server, scheme):
	frappe = server
	owner = desk("scheme_owner")
	open_form(owner, "pl-kpi-template", scheme.name)
	owner.press("New Version", group="Versions")
	owner.page.wait_for_function(
		"(n) => cur_frm && cur_frm.docname !== n && !cur_frm.is_new()", arg=scheme.name
	)
	owner.settle()
	version = owner.js("() => cur_frm.docname")
	assert owner.js("() => cur_frm.doc.version_status") == "Draft"

	new_threshold = 55 if scheme.threshold_score != 55 else 50
	owner.fill("threshold_score", str(new_threshold))
	owner.save()
	owner.page.wait_for_function(
		"() => (cur_frm.get_field('version_diff_html').$wrapper.html() || '').includes('<table')"
	)
	shown = owner.js("() => cur_frm.get_field('version_diff_html').$wrapper.text()")
	assert str(new_threshold) in shown

	# try it on the last published cycle: the what-if runs and its comparison report opens
	owner.press("What-If…", group="Versions")
	prompt = owner.page.locator(".modal.show").last
	prompt.wait_for()
	owner.page.wait_for_function("() => window.cur_dialog && cur_dialog.fields_dict.review_cycle")
	owner.js("(c) => cur_dialog.set_value('review_cycle', c)", scheme.flags.past_cycle)
	prompt.locator(".btn-primary").click()
	owner.page.wait_for_function(
		"() => window.frappe && frappe.query_report && frappe.query_report.report_name"
		" === 'Scheme What-If Comparison' && frappe.query_report.data && frappe.query_report.data.length",
		timeout=60_000,
	)
	owner.settle()
	fresh(frappe)
	what_if = frappe.get_all(
		"PL Scheme What-If", {"template": version}, ["name", "status", "subjects"], limit=1
	)[0]
	assert what_if.status == "Completed" and what_if.subjects > 0
	assert owner.js("() => frappe.query_report.get_filter_value('what_if')") == what_if.name
	teams = owner.js("() => frappe.query_report.data.map((r) => r.pl_team || '')")
	assert any(teams), "the comparison report shows no team row"

	# its payout view: the demo's incentive plan split between the teams, before and after
	owner.js("() => frappe.query_report.set_filter_value('view', 'Payout')")
	owner.page.wait_for_function(
		"() => (frappe.query_report.data || []).some((r) => r.amount_after !== undefined)", timeout=60_000
	)
	owner.settle()
	paid = owner.js("() => frappe.query_report.data.filter((r) => r.pl_team).map((r) => r.amount_after)")
	assert paid and sum(paid) > 0, "the payout view shows no team's amount"
	shown = owner.page.locator(".report-summary").inner_text()
	assert "Paid After" in shown

	open_form(owner, "pl-kpi-template", version)
	owner.press("Adopt", group="Versions")
	dialog = owner.page.locator(".modal.show").last
	dialog.wait_for()
	owner.page.wait_for_function("() => window.cur_dialog && cur_dialog.fields_dict.effective_from")
	# the date as the site's date format would show it: set through the dialog's control
	owner.js("() => cur_dialog.set_value('effective_from', '2027-01-01')")
	dialog.locator('.frappe-control[data-fieldname="reason"] textarea').fill("Lower the bar at threshold")
	dialog.locator(".btn-primary").click()
	owner.settle()
	owner.page.wait_for_function("() => cur_frm.doc.version_status === 'Active'")

	fresh(frappe)
	adopted = frappe.get_doc("PL KPI Template", version)
	assert (adopted.version_status, str(adopted.effective_from)) == ("Active", "2027-01-01")
	assert adopted.adopted_by == owner.user and adopted.adoption_reason == "Lower the bar at threshold"
	assert adopted.threshold_score == new_threshold and adopted.previous_version == scheme.name
	old = frappe.db.get_value(
		"PL KPI Template", scheme.name, ["version_status", "effective_to"], as_dict=True
	)
	assert (old.version_status, str(old.effective_to)) == ("Superseded", "2026-12-31")
