"""The desk in Chinese: no label of this app shows in English to a user whose language is zh.

The app's labels come from its metadata, never a hand list: DocType names, field, section and tab labels,
report names, report filter and column labels, the workspace's labels (links, cards, shortcuts, number
cards, charts) and the short __("...") strings of its .js (buttons, dialog fields). A label whose zh
translation differs from it must not be visible text (a text node or an input's placeholder) on any page
of the pass: the workspace, every PL DocType's list (form for a single DocType), its new form and one
record, and every report. The scheme owner (language zh) opens what he may; Administrator (language zh)
the rest. Both users' languages are restored afterwards.
"""

from __future__ import annotations

import csv
import json
import re

import pytest

from tests.browser.conftest import BASE_URL, Desk, fresh
from tests.browser.helpers import APP, MODULE, WORKSPACE_ROUTE, doctypes, reports, slug
from tests.report_js import report_script

LANG = "zh"
USERS = ("scheme_owner", "system_manager")
SHORT_JS_STRING = re.compile(r'__\(\s*"([^"{}\\]{1,40})"\s*[,)]')


def app_labels() -> dict[str, str]:
	"""Every label of the app, with where it comes from (for the failure message)."""
	labels: dict[str, str] = {}

	def add(label, where):
		label = (label or "").strip()
		if label and not label.isdigit():
			labels.setdefault(label, where)

	for meta in doctypes():
		add(meta.name, "DocType")
		for df in meta.fields:
			add(df.get("label"), f"{meta.name}.{df.get('fieldname')}")
	for report in reports():
		add(report.name, "Report")
	for path in MODULE.glob("report/*/*.js"):
		for label in re.findall(r'label:\s*__\("([^"]+)"\)', report_script(path)):
			add(label, f"{path.name} filter")
	for path in (APP / "services" / "reports").glob("*.py"):
		for label in re.findall(r'"label":\s*_\("([^"]+)"\)', path.read_text()):
			add(label, f"{path.name} column")
	workspace = json.loads(
		(MODULE / "workspace/post_loan_performance/post_loan_performance.json").read_text()
	)
	add(workspace["label"], "workspace")
	for key in ("links", "shortcuts", "number_cards", "charts"):
		for row in workspace.get(key, []):
			add(row.get("label"), f"workspace {key}")
	for path in sorted(MODULE.glob("doctype/*/*.js")) + sorted((APP / "public" / "js").rglob("*.js")):
		if ".bundle." in path.name and path.parent.name == "dist":
			continue
		for label in SHORT_JS_STRING.findall(path.read_text()):
			if not label.rstrip().endswith((".", "?", "!", ":")):
				add(label, path.name)
	return labels


def app_zh_csv() -> dict[str, str]:
	with (APP / "translations" / f"{LANG}.csv").open(newline="", encoding="utf-8") as f:
		return {row[0]: row[1] for row in csv.reader(f) if len(row) >= 2}


VISIBLE_TEXTS = """() => {
	const out = new Set();
	const seen = (el) => el && el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
		&& el.getClientRects().length > 0;
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	let node;
	while ((node = walker.nextNode())) {
		const text = node.nodeValue.replace(/\\s+/g, ' ').trim();
		if (!text || text.length > 120) continue;
		const el = node.parentElement;
		if (!el || el.closest('script, style, noscript, template') || !seen(el)) continue;
		out.add(text.replace(/\\s*[:：*]$/, ''));
	}
	for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
		if (seen(el) && el.placeholder.trim()) out.add(el.placeholder.trim());
	}
	return [...out];
}"""


DOCTYPES = [m for m in doctypes() if m.desk_page[0]]
REPORTS = reports()


def _cases():
	cases = [pytest.param("scheme_owner", "workspace", WORKSPACE_ROUTE, id="workspace")]
	for meta in DOCTYPES:
		reader = "scheme_owner" if meta.allowed("scheme_owner", "read") else "system_manager"
		if meta.issingle:
			cases.append(pytest.param(reader, "single", meta.name, id=f"{reader}-single-{meta.name}"))
			continue
		cases.append(pytest.param(reader, "list", meta.name, id=f"{reader}-list-{meta.name}"))
		if not meta.in_create:
			creator = "scheme_owner" if meta.allowed("scheme_owner", "create") else "system_manager"
			cases.append(pytest.param(creator, "new", meta.name, id=f"{creator}-new-{meta.name}"))
		cases.append(pytest.param(reader, "record", meta.name, id=f"{reader}-record-{meta.name}"))
	for report in REPORTS:
		reader = "scheme_owner" if report.allowed("scheme_owner") else "system_manager"
		cases.append(pytest.param(reader, "report", report.name, id=f"{reader}-report-{report.name}"))
	return cases


@pytest.fixture(scope="module")
def zh_translations(server):
	"""What the desk shows for a string in zh (every app's translations, this app's last)."""
	fresh(server)
	return server.get_attr("frappe.translate.get_all_translations")(LANG)


@pytest.fixture(scope="module")
def zh_desks(browser, storage_states, people, server):
	"""zh_desks(role_key) -> that role's Desk, its user's language zh for this module (restored after)."""
	frappe = server
	fresh(frappe)
	users = {role: people[role] for role in USERS}
	before = {user: frappe.db.get_value("User", user, "language") for user in users.values()}

	def set_languages(languages):
		for user, code in languages.items():
			frappe.db.set_value("User", user, "language", code)
		frappe.db.commit()
		for user in languages:
			frappe.clear_cache(user=user)

	set_languages({user: LANG for user in users.values()})
	desks: dict[str, Desk] = {}

	def get(role_key: str) -> Desk:
		if role_key not in desks:
			context = browser.new_context(
				base_url=BASE_URL,
				storage_state=storage_states(role_key),
				viewport={"width": 1400, "height": 900},
			)
			desks[role_key] = Desk(context, role_key, users[role_key])
		desks[role_key].watch.reset()
		return desks[role_key]

	try:
		yield get
	finally:
		for d in desks.values():
			d.close()
		fresh(frappe)
		set_languages(before)


def test_every_label_has_a_zh_translation(zh_translations):
	"""A label of the app the zh desk has no translation for would show in English."""
	missing = {label: where for label, where in app_labels().items() if label not in zh_translations}
	assert not missing, f"labels without a zh translation: {missing}"


@pytest.mark.parametrize(("role", "kind", "target"), _cases())
def test_no_english_label_shows(role, kind, target, zh_desks, server, people, zh_translations, stats):
	desk = zh_desks(role)
	stats["pages"] += 1
	stats["roles"].add(role)
	if kind == "workspace":
		desk.open(target)
		desk.page.wait_for_selector(".layout-main-section .ce-block", state="visible")
	elif kind == "list":
		desk.open(slug(target))
		desk.page.wait_for_function("(dt) => window.cur_list && cur_list.doctype === dt", arg=target)
		desk.page.wait_for_function(
			"() => cur_list.$frappe_list && cur_list.$frappe_list.find('.result, .no-result')"
			".filter(':visible').length"
		)
	elif kind in ("new", "single", "record"):
		if kind == "record":
			fresh(server)
			server.set_user(people[role])
			try:
				names = server.get_list(target, order_by="modified desc", limit_page_length=1, pluck="name")
			finally:
				server.set_user("Administrator")
			if not names:
				pytest.skip(f"no {target} on the site")
			desk.open(f"{slug(target)}/{names[0]}")
		else:
			desk.open(f"{slug(target)}/new" if kind == "new" else slug(target))
		desk.page.wait_for_function(
			"(dt) => window.cur_frm && cur_frm.doctype === dt && cur_frm.layout"
			" && frappe.get_route()[0] === 'Form'",
			arg=target,
		)
	else:
		desk.open(f"query-report/{target}")
		desk.page.wait_for_function(
			"(name) => window.frappe && frappe.query_report && frappe.query_report.report_name === name"
			" && frappe.query_report.filters && frappe.query_report.filters.length",
			arg=target,
		)
	desk.settle(quiet_ms=500)
	assert desk.js("() => frappe.boot.lang") == LANG
	labels = app_labels()
	english = {
		label for label in labels if zh_translations.get(label) is None or zh_translations[label] != label
	}
	shown = sorted(set(desk.js(VISIBLE_TEXTS)) & english)
	assert not shown, "English labels shown in the zh desk: " + ", ".join(
		f"{label!r} ({labels[label]})" for label in shown
	)
	desk.watch.assert_clean()
