"""Bad input in the desk: the form shows the server's translated message and nothing is saved."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import fresh
from tests.browser.helpers import TEST_PREFIX

ITEM_FIELDS = ("kpi", "weight", "scoring_method", "threshold", "target", "use_stretch", "stretch", "bands")


@pytest.fixture
def language(server, people):
	"""language(code): the scheme owner's desk language for this test (restored afterwards)."""
	frappe = server
	user = people["scheme_owner"]
	fresh(frappe)
	before = frappe.db.get_value("User", user, "language")

	def set_to(code: str) -> None:
		frappe.db.set_value("User", user, "language", code)
		frappe.db.commit()
		frappe.clear_cache(user=user)

	yield set_to
	frappe.db.set_value("User", user, "language", before)
	frappe.db.commit()
	frappe.clear_cache(user=user)


def _rendered(text: str) -> str:
	"""A message as compared with what the dialog shows: without its white space. The browser drops a space
	that falls at the end of a wrapped line (CSS white-space processing), and where the dialog wraps depends
	on its width and fonts; every other character must match."""
	return re.sub(r"\s+", "", text)


def _collection_items(frappe) -> list[dict]:
	"""The weighted lines of the demo's Collection template, as a new template's rows."""
	source = frappe.get_all("PL KPI Template", {"layer": "Collection", "disabled": 0}, pluck="name", limit=1)[
		0
	]
	return [
		{f: row.get(f) for f in ITEM_FIELDS}
		for row in frappe.get_doc("PL KPI Template", source).items
		if row.weight
	]


def _save_new_template(desk, name: str, items: list[dict]):
	"""The scheme owner fills a new Collection template with `items` and presses Ctrl+S; returns his desk
	and the text of the dialog that refuses it."""
	owner = desk("scheme_owner")
	owner.watch.expect(r"HTTP 417: .*savedocs")  # the refused save is the point of the test
	owner.open("pl-kpi-template/new")
	owner.page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'PL KPI Template'")
	owner.settle()
	owner.fill("template_name", name)
	owner.js(
		"""(items) => {
			cur_frm.set_value('layer', 'Collection');
			for (const item of items) cur_frm.add_child('items', item);
			cur_frm.refresh_field('items');
		}""",
		items,
	)
	owner.settle()
	owner.page.keyboard.press("Control+s")
	dialog = owner.page.locator(".modal.show .msgprint").first
	dialog.wait_for()
	return owner, dialog.inner_text()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_kpi_template_weights_not_adding_up_are_refused(desk, server, language, lang):
	frappe = server
	fresh(frappe)
	items = _collection_items(frappe)
	assert len(items) >= 2, "the demo's Collection template has fewer than two KPIs"
	items[0]["weight"] -= 10  # the weights now add up to 90
	total = sum(i["weight"] for i in items)
	name = f"{TEST_PREFIX}weights {lang}"
	language(lang)

	owner, text = _save_new_template(desk, name, items)
	translate = frappe.get_attr("frappe.translate.get_all_translations")
	message = "KPI weights must add up to 100; they add up to {0}."
	expected = (translate(lang).get(message, message) if lang != "en" else message).format(
		round(float(total), 3)
	)
	assert _rendered(text) == _rendered(expected)
	if lang == "zh":
		assert "KPI weights" not in text
	owner.close_dialogs()
	assert owner.js("() => cur_frm.is_new()")
	fresh(frappe)
	assert not frappe.db.exists("PL KPI Template", name)


def _zh(frappe, lang: str):
	"""The server's translation of a message in `lang` (the message itself in English)."""
	if lang == "en":
		return lambda message: message
	translations = frappe.get_attr("frappe.translate.get_all_translations")(lang)
	return lambda message: translations.get(message, message)


def _number(value) -> str:
	"""A number as the server writes it into a message (the desk sends whole numbers as integers)."""
	value = float(value)
	return str(int(value)) if value.is_integer() else str(value)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_kpi_template_targets_out_of_order_are_refused(desk, server, language, lang):
	frappe = server
	fresh(frappe)
	items = _collection_items(frappe)
	line = next(
		(
			i
			for i in items
			if i["scoring_method"] == "Linear" and i["use_stretch"] and i["threshold"] is not None
		),
		None,
	)
	assert line, "the demo's Collection template has no Linear KPI line with a stretch"
	idx = items.index(line) + 1
	direction = frappe.db.get_value("PL KPI", line["kpi"], "direction")
	sign = 1 if direction == "Higher is Better" else -1
	# the stretch on the wrong side of the target: below it for a higher-is-better KPI, above otherwise
	line["stretch"] = line["target"] - sign * 5
	name = f"{TEST_PREFIX}targets {lang}"
	language(lang)

	owner, text = _save_new_template(desk, name, items)
	t = _zh(frappe, lang)
	expected = (
		t("Row {0} ({1}):").format(idx, line["kpi"])
		+ " "
		+ t(
			"Threshold, target and stretch must be ordered for {0}: got threshold {1}, target {2}, stretch {3}."
		).format(t(direction), _number(line["threshold"]), _number(line["target"]), _number(line["stretch"]))
	)
	assert _rendered(text) == _rendered(expected)
	title = owner.page.locator(".modal.show .modal-title").first.inner_text()
	assert title.strip() == t("Invalid Targets")
	if lang == "zh":
		assert "Threshold" not in text and direction not in text
	owner.close_dialogs()
	assert owner.js("() => cur_frm.is_new()")
	fresh(frappe)
	assert not frappe.db.exists("PL KPI Template", name)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_second_appraisal_for_the_same_employee_and_cycle_is_refused(desk, server, language, lang):
	frappe = server
	fresh(frappe)
	existing = frappe.get_all(
		"PL Appraisal",
		{"docstatus": ("<", 2)},
		["name", "employee", "review_cycle", "pl_team", "template"],
		order_by="modified desc",
		limit=1,
	)
	assert existing, "the demo has no appraisal"
	first = existing[0]
	before = frappe.db.count("PL Appraisal")
	language(lang)

	owner = desk("scheme_owner")
	owner.watch.expect(r"HTTP 417: .*savedocs")  # the refused save is the point of the test
	owner.open("pl-appraisal/new")
	owner.page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'PL Appraisal'")
	owner.settle()
	for fieldname in ("review_cycle", "pl_team", "employee", "template"):
		owner.js("([f, v]) => cur_frm.set_value(f, v)", [fieldname, first[fieldname]])
		owner.settle()
	values = owner.js(
		"() => [cur_frm.doc.review_cycle, cur_frm.doc.pl_team, cur_frm.doc.employee, cur_frm.doc.template]"
	)
	assert values == [first.review_cycle, first.pl_team, first.employee, first.template]
	# choosing the employee fetches nothing the scheme owner may not read (no "Cannot Fetch Values")
	assert not owner.close_dialogs(), "a dialog opened while the new appraisal was filled in"
	owner.page.keyboard.press("Control+s")
	dialog = owner.page.locator(".modal.show .msgprint").first
	dialog.wait_for()
	text = dialog.inner_text()
	t = _zh(frappe, lang)
	expected = t("Employee {0} already has appraisal {1} in review cycle {2}.").format(
		first.employee, first.name, first.review_cycle
	)
	assert _rendered(text) == _rendered(expected)
	title = owner.page.locator(".modal.show .modal-title").first.inner_text()
	assert title.strip() == t("Duplicate Appraisal")
	if lang == "zh":
		assert "already has" not in text
	owner.close_dialogs()
	assert owner.js("() => cur_frm.is_new()")
	fresh(frappe)
	assert frappe.db.count("PL Appraisal") == before
	assert (
		frappe.db.count(
			"PL Appraisal",
			{"employee": first.employee, "review_cycle": first.review_cycle, "docstatus": ("<", 2)},
		)
		== 1
	)
