"""The same payout run as tests/integration/test_payout.py, on a site where HRMS is not installed:
the app installs and loads, the run prepares the same amounts and exports them (CSV, XLSX) for payroll,
confirming is refused with a translated message, and the workspace with its payout number card works."""

import json
from urllib.parse import quote

import pytest

import frappe
from frappe.translate import get_full_dict

from postloan_performance import api
from postloan_performance.services import payout as service
from tests.integration.test_payout import EXPECTED, amounts, make_pay_org

REFUSAL = "HRMS is not installed on this site: export the payout run and enter it in payroll."


@pytest.fixture
def pay(world):
	return make_pay_org(salary_setup=False)


def test_the_site_has_erpnext_and_the_app_but_no_hrms():
	apps = frappe.get_installed_apps()
	assert "erpnext" in apps and "postloan_performance" in apps
	assert "hrms" not in apps
	assert not service.hrms_installed()
	assert not frappe.db.exists("DocType", "Additional Salary")
	assert not frappe.db.exists("DocType", "Salary Structure Assignment")
	# every PL DocType of the app is there, with its table
	for doctype in ("PL Incentive Plan", "PL Payout Run", "PL Payout Team", "PL Payout Line"):
		assert frappe.db.table_exists(doctype), doctype


def test_the_run_prepares_the_same_amounts_and_exports_them(pay):
	result = api.payout_step(pay.run, "prepare")
	assert result["status"] == "Prepared" and result["lines"] == 4
	assert amounts(pay.run) == EXPECTED
	run = frappe.get_doc("PL Payout Run", pay.run)
	assert (run.pool, run.total_amount, run.unallocated) == (10000, 10000, 0)
	assert {t.pl_team: t.amount for t in run.teams} == {
		"_Test PL Pay Alpha": 4714.29,
		"_Test PL Pay Beta": 5285.71,
	}
	name, content = service.export(pay.run, "csv")
	assert name.endswith(".csv")
	text = content.decode("utf-8-sig")
	assert text.count("\n") == 5  # header and four people
	for key, amount in EXPECTED.items():
		assert f"_Test PL Pay {key}" in text and f"{amount:.2f}" in text
	name, content = service.export(pay.run, "xlsx")
	assert name.endswith(".xlsx") and content[:2] == b"PK"


def test_confirm_is_refused_with_a_translated_message(pay):
	api.payout_step(pay.run, "prepare")
	with pytest.raises(frappe.ValidationError) as refused:
		api.payout_step(pay.run, "confirm")
	assert str(refused.value) == REFUSAL
	translation = get_full_dict("zh").get(REFUSAL)
	assert translation and translation != REFUSAL
	frappe.local.lang = "zh"
	try:
		with pytest.raises(frappe.ValidationError) as refused:
			api.payout_step(pay.run, "confirm")
	finally:
		frappe.local.lang = "en"
	assert str(refused.value) == translation
	assert frappe.db.get_value("PL Payout Run", pay.run, "status") == "Prepared"
	assert {
		line.status for line in frappe.get_all("PL Payout Line", {"payout_run": pay.run}, ["status"])
	} == {"Prepared"}


def test_the_workspace_and_the_payout_card_answer(world, rest):
	manager = rest(world.users.manager)
	page = json.dumps({"name": "Post-Loan Performance", "title": "Post-Loan Performance", "public": 1})
	response = manager.post("/api/method/frappe.desk.desktop.get_desktop_page", data={"page": page})
	assert response.status_code == 200, response.get_data(as_text=True)[:500]
	cards = [c["number_card_name"] for c in response.json["message"]["number_cards"]["items"]]
	assert "PL Last Payout Pool" in cards
	links = [
		link["link_to"]
		for group in response.json["message"]["cards"]["items"]
		for link in group.get("links", [])
	]
	assert {"PL Payout Run", "Payout Preview"} <= set(links)
	card = manager.get("/api/method/postloan_performance.api.last_payout_pool")
	assert card.status_code == 200, card.get_data(as_text=True)[:500]
	assert card.json["message"] == "No confirmed payout yet"
	runs = manager.get("/api/resource/" + quote("PL Payout Run"))
	assert runs.status_code == 200
