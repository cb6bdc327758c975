"""The README's screenshots of the desk, written by the suite on demand (--screenshots or
PLP_SCREENSHOTS=docs): docs/workspace.png, docs/review-cycle.png and docs/scheme-what-if.png (the demo's
what-if of a draft Collection version, in the Scheme What-If Comparison report), as the demo's scheme
owner."""

from __future__ import annotations

import pytest

from tests.browser.conftest import fresh


def test_screenshots(desk, server, screenshots_dir):
	if screenshots_dir is None:
		pytest.skip("screenshots are written with --screenshots or PLP_SCREENSHOTS=docs")
	owner = desk("scheme_owner")
	owner.open("post-loan-performance")
	owner.page.wait_for_selector(".layout-main-section .ce-block", state="visible")
	owner.settle(quiet_ms=1000)
	owner.page.screenshot(path=str(screenshots_dir / "workspace.png"), full_page=False)

	fresh(server)
	cycle = server.get_all(
		"PL Review Cycle",
		{"company": "PL Demo Lender", "status": "Open"},
		pluck="name",
		order_by="period_end desc",
	)[0]
	owner.open(f"pl-review-cycle/{cycle}")
	owner.page.wait_for_function("(n) => window.cur_frm && cur_frm.docname === n", arg=cycle)
	owner.settle(quiet_ms=500)
	owner.page.locator('.page-actions .inner-group-button[data-label="Steps"] > button').click()
	owner.page.wait_for_timeout(300)
	owner.page.screenshot(path=str(screenshots_dir / "review-cycle.png"), full_page=False)
	owner.page.keyboard.press("Escape")

	owner.open("query-report/Scheme What-If Comparison")
	owner.page.wait_for_function(
		"() => window.frappe && frappe.query_report && frappe.query_report.report_name"
		" === 'Scheme What-If Comparison' && frappe.query_report.data && frappe.query_report.data.length"
	)
	owner.settle(quiet_ms=1000)
	owner.page.screenshot(path=str(screenshots_dir / "scheme-what-if.png"), full_page=False)
	for name in ("workspace.png", "review-cycle.png", "scheme-what-if.png"):
		assert (screenshots_dir / name).stat().st_size > 10_000
