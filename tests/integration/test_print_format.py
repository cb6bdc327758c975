"""The standard print format "PL Appraisal Print", in English and in Chinese.

Everything here runs in the test's own transaction (rolled back): frappe.get_print renders in-process.
"""

import pytest

import frappe

from tests.integration.factories import make_appraisal, make_company, make_cycle, make_employee, make_team

PRINT_FORMAT = "PL Appraisal Print"


@pytest.fixture
def appraisal():
	make_company()
	employee = make_employee("_Test PL PF Mei")
	team = make_team("_Test PL PF Team", "Collection", members=[(employee, "2025-01-01", None)])
	cycle = make_cycle("_Test PL PF Trial Cycle", [team], is_trial=1, layers=("Collection",))
	name = make_appraisal(employee, team, cycle)
	doc = frappe.get_doc("PL Appraisal", name)
	first, second = doc.kpis[0], doc.kpis[1]
	first.actual, first.no_data, first.data_date = 55, 0, "2026-03-31"
	second.actual, second.no_data = None, 1
	doc.self_assessment = "<p>I cured more cases than last quarter.</p>"
	doc.manager_comment = "<p>Solid work on early buckets.</p>"
	doc.calibrated_grade = "A"
	doc.calibration_reason = "Raised for the hardest portfolio"
	doc.save()
	return doc


def render(name: str) -> str:
	from frappe.utils import get_assets_json

	if not get_assets_json():
		# A bench whose front-end assets were never built (CI, offline) has no assets.json; the print
		# view only needs it to link the print stylesheet.
		frappe.local.assets_json = {}
	return frappe.get_print("PL Appraisal", name, PRINT_FORMAT)


def test_print_format_is_standard_jinja():
	pf = frappe.get_doc("Print Format", PRINT_FORMAT)
	assert (pf.doc_type, pf.standard, pf.custom_format, pf.print_format_type, pf.module) == (
		"PL Appraisal",
		"Yes",
		1,
		"Jinja",
		"Postloan Performance",
	)


def test_english_print_shows_the_appraisal(appraisal):
	html = render(appraisal.name)
	first = appraisal.kpis[0]
	for text in (
		"Performance Appraisal",
		"_Test PL PF Mei",
		appraisal.employee,
		"_Test PL PF Team",
		"_Test PL PF Trial Cycle",
		"pl-trial-badge",
		"Not an official result",
		first.kpi_name,
		appraisal.kpis[1].kpi_name,
		"No data",
		"Total Score",
		f"{appraisal.total_score:.2f}",
		f"{appraisal.quantitative_score:.2f}",
		f"{first.score:.2f}",
		f"{first.weighted_score:.2f}",
		"Grade by Bands",
		"Final Grade",
		"Raised for the hardest portfolio",
		"I cured more cases than last quarter.",
		"Solid work on early buckets.",
		"Not acknowledged yet.",
		"Employee Signature",
	):
		assert text in html, text
	assert appraisal.final_grade == "A"


def test_formal_appraisal_has_no_trial_badge(appraisal):
	frappe.db.set_value("PL Appraisal", appraisal.name, "is_trial", 0)
	html = render(appraisal.name)
	assert "pl-trial-badge" not in html
	assert "Not an official result" not in html


def test_acknowledged_appraisal_shows_the_date(appraisal):
	frappe.db.set_value("PL Appraisal", appraisal.name, "acknowledged_on", "2026-04-20 10:30:00")
	html = render(appraisal.name)
	assert "Acknowledged by the employee on" in html
	assert "Employee Signature" not in html


def test_chinese_print(appraisal):
	from frappe.translate import clear_cache

	clear_cache()  # zh.csv may have changed since the site cached its translations
	try:
		frappe.local.lang = "zh"
		html = render(appraisal.name)
	finally:
		frappe.local.lang = "en"
	for label in ("Total Score", "Final Grade", "No data", "Performance Appraisal", "Employee Signature"):
		chinese = frappe._(label, lang="zh")
		assert chinese != label, label
		assert chinese in html, label
	assert "总分" in html and "无数据" in html and "试运行" in html
	assert "Total Score" not in html
	assert f"{appraisal.total_score:.2f}" in html
