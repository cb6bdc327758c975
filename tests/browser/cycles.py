"""Server-side set-up of review cycles for the browser tests that start half-way through a cycle.

test_cycle.py clicks every step of a cycle through the desk; the tests of single steps (360 feedback,
manual KPI values, calibration, appeals) start from a cycle brought to that step here, on the server,
with the same services the step buttons call. Cycles are named with the tests' prefix, so that
`delete_test_cycles` removes them with everything they made.
"""

from __future__ import annotations

import time

from tests.browser.conftest import fresh
from tests.browser.helpers import TEST_PREFIX

TEAM = "PLD Collection 01"
DT = "PL Appraisal"


def cycle_name(label: str) -> str:
	return f"{TEST_PREFIX}{time.strftime('%H%M%S')} {label}"


def plan(frappe):
	"""The period of the demo's latest published formal cycle and its Collection template."""
	fresh(frappe)
	source = frappe.get_all(
		"PL Review Cycle",
		{
			"company": "PL Demo Lender",
			"status": ("in", ("Published", "Closed")),
			"is_trial": 0,
			"cycle_name": ("not like", f"{TEST_PREFIX}%"),
		},
		["name", "period_start", "period_end"],
		order_by="period_end desc",
		limit=1,
	)[0]
	template = frappe.db.get_value(
		"PL Review Cycle Template", {"parent": source.name, "layer": "Collection"}, "template"
	)
	return source, template


def make_cycle(frappe, name: str, *, is_trial: bool = True, template: str | None = None, **extra) -> str:
	"""A Draft cycle of the demo's first collection team, then opened, its appraisals created, in Self
	Review and computed (as the step buttons do). Returns its name."""
	from postloan_performance import api
	from postloan_performance.services import cycle as service

	source, default_template = plan(frappe)
	doc = frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": name,
			"company": "PL Demo Lender",
			"is_trial": int(is_trial),
			"period_start": source.period_start,
			"period_end": source.period_end,
			"templates": [{"layer": "Collection", "template": template or default_template}],
			"teams": [{"pl_team": TEAM}],
			**extra,
		}
	).insert()
	service.open_cycle(doc.name)
	service.create_appraisals(doc.name)
	service.start_self_review(doc.name)
	api.compute_cycle_job(doc.name)
	frappe.db.commit()
	frappe.clear_messages()
	return doc.name


def appraisals(frappe, cycle: str) -> list:
	fresh(frappe)
	return frappe.get_all(
		DT,
		{"review_cycle": cycle},
		["name", "employee", "appraisee_user", "status", "docstatus", "total_score", "final_grade"],
		order_by="name",
	)


def move_to(frappe, names: list[str], status: str) -> None:
	"""Move appraisals on as their own people would (the demo gives most of them no user)."""
	if names:
		frappe.db.sql("update `tabPL Appraisal` set status = %s where name in %s", (status, tuple(names)))
		frappe.db.commit()


def open_form(desk, doctype_slug: str, name: str) -> None:
	"""Open a form in the desk and wait until it shows that document."""
	desk.open(f"{doctype_slug}/{name}")
	desk.page.wait_for_function("(n) => window.cur_frm && cur_frm.docname === n", arg=name, timeout=30_000)
	desk.settle()


def shown_number(desk, fieldname: str) -> float:
	text = desk.page.locator(
		f'.form-layout .frappe-control[data-fieldname="{fieldname}"] .control-value'
	).first.inner_text()
	return float(text.replace(",", "").strip() or 0)


def shown_text(desk, fieldname: str) -> str:
	control = desk.page.locator(f'.form-layout .frappe-control[data-fieldname="{fieldname}"]').first
	value = control.locator(".control-value, .like-disabled-input")
	if value.count():
		return value.first.inner_text().strip()
	return control.locator("input, textarea").first.input_value().strip()
