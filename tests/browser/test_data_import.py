"""The data import wizard in the desk: a post-loan officer uploads a file, checks it, reads the preview,
imports it and finds it in the history; an appraisee may not open the wizard."""

from __future__ import annotations

import pytest

from tests.browser.conftest import BASE_URL, fresh

PREFIX = "PLBT-LN-"
DOCTYPE = "PL Data Import"


def _loans_csv(company: str, team: str) -> str:
	lines = ["Loan No,Company,Managing Team,Disbursed On,Principal,Maturity Date"]
	lines += [f"{PREFIX}{i},{company},{team},2025-01-15,{i * 1000}0,2028-01-15" for i in (1, 2, 3)]
	return "\n".join(lines) + "\n"


def _clean(frappe):
	fresh(frappe)
	names = frappe.get_all(DOCTYPE, filters={"file_name": ("like", f"{PREFIX}%")}, pluck="name")
	for name in names:
		for file in frappe.get_all(
			"File", filters={"attached_to_doctype": DOCTYPE, "attached_to_name": name}, pluck="name"
		):
			frappe.delete_doc("File", file, force=True, ignore_permissions=True)
		frappe.db.delete(DOCTYPE, {"name": name})
	frappe.db.delete("PL Loan", {"name": ("like", f"{PREFIX}%")})
	frappe.db.commit()


@pytest.fixture
def loans_file(server, tmp_path):
	frappe = server
	_clean(frappe)
	team = frappe.db.get_value("PL Team", {"company": "PL Demo Lender", "is_group": 0}, "name")
	path = tmp_path / f"{PREFIX}loans.csv"
	path.write_text(_loans_csv("PL Demo Lender", team), encoding="utf-8")
	yield path
	_clean(frappe)


def test_officer_uploads_checks_previews_imports_and_finds_the_history(
	desk, server, loans_file, screenshots_dir
):
	frappe = server
	officer = desk("officer")
	officer.open("pl-data-import/new")
	officer.page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'PL Data Import'")
	officer.settle()
	# 1. the data type, chosen in its select as a person would
	officer.page.locator('.frappe-control[data-fieldname="import_type"] select').select_option("PL Loan")
	officer.settle()
	officer.save()
	name = officer.js("() => cur_frm.doc.name")

	# 2. the file, through Frappe's upload dialog
	officer.page.locator('.frappe-control[data-fieldname="import_file"] button').first.click()
	officer.page.locator(".modal.show input[type='file']").set_input_files(str(loans_file))
	officer.page.locator(".modal.show .modal-footer .btn-primary").click()
	officer.page.wait_for_function("() => cur_frm.doc.import_file", timeout=30_000)
	officer.settle()
	if officer.js("() => cur_frm.is_dirty()"):
		officer.save()

	# 3. check: counts and the preview, nothing written yet
	officer.page.locator(".page-actions .pl-import-check").first.click()
	officer.page.wait_for_function("() => cur_frm.doc.status === 'Checked'", timeout=60_000)
	officer.settle()
	preview = officer.page.locator(".pl-import-preview table")
	assert preview.is_visible()
	assert preview.locator("tbody tr").count() == 3
	assert f"{PREFIX}1" in preview.inner_text()
	fresh(frappe)
	assert not frappe.db.exists("PL Loan", f"{PREFIX}1"), "checking the file wrote a loan"
	assert frappe.db.get_value(DOCTYPE, name, ["total_rows", "new_rows"]) == (3, 3)
	if screenshots_dir:
		officer.page.screenshot(path=str(screenshots_dir / "data-import-preview.png"), full_page=True)

	# 4. import, after the confirmation
	officer.page.locator(".page-actions .pl-import-start").first.click()
	officer.page.locator(".modal.show .modal-footer .btn-primary").last.click()
	officer.page.wait_for_function("() => cur_frm.doc.status === 'Imported'", timeout=60_000)
	officer.settle()
	assert officer.page.locator(".pl-import-done").is_visible()
	fresh(frappe)
	stored = frappe.get_all(
		"PL Loan",
		filters={"name": ("like", f"{PREFIX}%")},
		fields=["name", "principal", "owner"],
		order_by="name",
	)
	assert [(r.name, r.principal, r.owner) for r in stored] == [
		(f"{PREFIX}{i}", i * 10000, officer.user) for i in (1, 2, 3)
	]

	# 5. the history: the list of imports shows this one with its result
	officer.open("pl-data-import")
	row = officer.page.locator(f'.list-row-container:has(a[data-name="{name}"])')
	assert row.count() == 1, f"{name} is not in the officer's import history"
	assert "Imported" in row.inner_text()
	if screenshots_dir:
		officer.page.screenshot(path=str(screenshots_dir / "data-import-list.png"))


def test_appraisee_may_not_open_the_wizard(desk, server):
	appraisee = desk("appraisee")
	# the desk knows no such DocType for him and answers the route with "not found" (declared)
	appraisee.watch.expect(r"HTTP 404: .*desk_page\.getpage")
	appraisee.page.goto(f"{BASE_URL}/app/pl-data-import/new", wait_until="domcontentloaded")
	appraisee.page.wait_for_function("() => window.frappe && frappe.boot && frappe.container")
	appraisee.settle()
	# the DocType is not in his desk at all: no form, the route is unknown to him
	assert not appraisee.js("() => !!(window.cur_frm && cur_frm.doctype === 'PL Data Import')")
	assert not appraisee.js("() => (frappe.boot.user.can_read || []).includes('PL Data Import')")
	text = appraisee.page.locator("body").inner_text().lower()
	assert "not found" in text or "not permitted" in text, text[:300]
	# and the server refuses what the desk does not offer (the refusal is the point: declared)
	appraisee.watch.expect(r"HTTP 403")
	status = appraisee.js(
		"""() => fetch('/api/method/postloan_performance.api.check_data_import', {method: 'POST',
			headers: {'Content-Type': 'application/json', 'X-Frappe-CSRF-Token': frappe.csrf_token},
			body: JSON.stringify({data_import: 'x'})}).then((r) => r.status)"""
	)
	assert status == 403, status
