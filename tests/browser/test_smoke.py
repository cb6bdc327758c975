"""The smoke matrix: for every role, every page of the app the role may open, generated from the
metadata (DocType JSON permissions and report JSON roles), never hand-listed.

Per role: the workspace; every PL DocType's list (or form, for a single DocType), its new form when
the role may create, one existing record the role may read (as the server decides it); every report
with its default filters. Each page must load without an uncaught error or failed request; fields show;
what the role may not do is not offered (Add, Save, the review cycle's steps) and read-only fields are
read-only.
"""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import fresh
from tests.browser.helpers import MODULE, ROLE_KEYS, WORKSPACE_ROUTE, doctypes, reports, slug

DOCTYPES = doctypes()
REPORTS = reports()
STEP_ROLES = {"scheme_owner", "system_manager"}


def _cases():
	cases = []
	for role in ROLE_KEYS:
		cases.append(pytest.param(role, "workspace", WORKSPACE_ROUTE, id=f"{role}-workspace"))
	for meta in DOCTYPES:
		has_page, why = meta.desk_page
		if not has_page:
			cases.append(
				pytest.param("-", "doctype", meta.name, id=f"{meta.name}", marks=pytest.mark.skip(reason=why))
			)
			continue
		for role in ROLE_KEYS:
			if not meta.allowed(role, "read"):
				continue
			if meta.issingle:
				cases.append(pytest.param(role, "single", meta.name, id=f"{role}-single-{meta.name}"))
				continue
			cases.append(pytest.param(role, "doctype", meta.name, id=f"{role}-{meta.name}"))
	for report in REPORTS:
		for role in ROLE_KEYS:
			if report.allowed(role):
				cases.append(pytest.param(role, "report", report.name, id=f"{role}-report-{report.name}"))
	return cases


CASES = _cases()
META = {m.name: m for m in DOCTYPES}
REPORT_META = {r.name: r for r in REPORTS}


@pytest.mark.parametrize(("role", "kind", "target"), CASES)
def test_page(role, kind, target, role_desk, server, people, stats):
	desk = role_desk(role)
	stats["pages"] += 1
	stats["roles"].add(role)
	{
		"workspace": check_workspace,
		"doctype": check_doctype,
		"single": check_single,
		"report": check_report,
	}[kind](desk, target, server, people[role], *([stats] if kind == "doctype" else []))
	desk.watch.assert_clean()


# ---------------------------------------------------------------- workspace
def check_workspace(desk, route, server, user):
	desk.open(route)
	desk.page.wait_for_selector(".layout-main-section .ce-block", state="visible")
	desk.settle()
	workspace = json.loads(
		(MODULE / "workspace/post_loan_performance/post_loan_performance.json").read_text()
	)
	labels = {link["label"]: link for link in workspace["links"] if link["type"] == "Link"}
	shown = desk.js(
		"() => [...document.querySelectorAll('.links-widget-box .link-item')]"
		".filter(e => e.offsetParent !== null).map(e => e.getAttribute('title') || e.innerText.trim())"
	)
	shown = {label.strip() for label in shown if label and label.strip() in labels}
	allowed = set()
	for label, link in labels.items():
		if link["link_type"] == "DocType":
			meta = META[link["link_to"]]
			# Frappe links read-only DocTypes for Administrator only (they have no desk page)
			if meta.allowed(desk.role_key, "read") and (not meta.read_only or user == "Administrator"):
				allowed.add(label)
		elif REPORT_META[link["link_to"]].allowed(desk.role_key):
			allowed.add(label)
	assert shown == allowed, f"links shown {sorted(shown ^ allowed)} differ from what the role may open"


# ---------------------------------------------------------------- list, new form, a record
def check_doctype(desk, doctype, server, user, stats):
	"""The list; the new form when the role may create; one record the role may read."""
	check_list(desk, doctype, server, user)
	meta = META[doctype]
	if meta.allowed(desk.role_key, "create") and not meta.in_create:
		stats["pages"] += 1
		check_new_form(desk, doctype, server, user)
	stats["pages"] += 1
	check_record(desk, doctype, server, user)


def check_list(desk, doctype, server, user):
	meta = META[doctype]
	desk.open(slug(doctype))
	desk.page.wait_for_function("(dt) => window.cur_list && cur_list.doctype === dt", arg=doctype)
	desk.settle()
	desk.page.wait_for_function(
		"() => cur_list.$frappe_list && cur_list.$frappe_list.find('.result, .no-result').filter(':visible').length"
	)
	add_shown = desk.js("() => { const b = cur_list.page.btn_primary; return !!b && b.is(':visible') }")
	may_add = meta.allowed(desk.role_key, "create") and not meta.in_create
	assert add_shown == may_add, f"Add button shown: {add_shown}, the role may create: {may_add}"
	# the rows the list shows are those the server lets the user read
	fresh(server)
	server.set_user(user)
	try:
		count = (
			server.db.count(doctype)
			if user == "Administrator"
			else len(server.get_list(doctype, limit_page_length=21, pluck="name"))
		)
	finally:
		server.set_user("Administrator")
	rows = desk.js("() => cur_list.data.length")
	page_length = desk.js("() => cur_list.page_length")
	assert rows == min(count, page_length), f"the list shows {rows} rows; the server has {count} for the user"


# ---------------------------------------------------------------- forms
VISIBLE_CONTROLS = """(dt) => {
	const frm = window.cur_frm;
	if (!frm || frm.doctype !== dt) return null;
	const out = {};
	for (const [name, field] of Object.entries(frm.fields_dict)) {
		if (!field.df || ['Section Break', 'Column Break', 'Tab Break', 'HTML', 'Button', 'Fold'].includes(field.df.fieldtype)) continue;
		const wrapper = field.wrapper instanceof HTMLElement ? field.wrapper : field.wrapper && field.wrapper[0];
		out[name] = {
			status: field.disp_status,
			visible: !!(wrapper && wrapper.offsetParent !== null),
			reqd: !!field.df.reqd,
			read_only: !!field.df.read_only,
			allow_on_submit: !!field.df.allow_on_submit,
		};
	}
	return {
		fields: out,
		docname: frm.docname,
		docstatus: frm.doc.docstatus,
		is_new: frm.is_new(),
		save: !!(frm.page.btn_primary && frm.page.btn_primary.is(':visible')),
		primary_label: frm.page.btn_primary ? frm.page.btn_primary.text().trim() : '',
		groups: [...frm.page.wrapper[0].querySelectorAll('.inner-group-button, .custom-actions .btn')]
			.filter(e => e.offsetParent !== null).map(e => e.innerText.trim()),
	};
}"""


def _form_state(desk, doctype):
	desk.page.wait_for_function(
		"(dt) => window.cur_frm && cur_frm.doctype === dt && cur_frm.fields_dict"
		" && cur_frm.layout && frappe.get_route()[0] === 'Form'",
		arg=doctype,
	)
	desk.settle()
	return desk.js(VISIBLE_CONTROLS, doctype)


def _assert_fields_show(state, doctype):
	fields = state["fields"]
	visible = [f for f, d in fields.items() if d["visible"]]
	assert visible, f"{doctype}: the form shows no field at all"
	# a required field the form shows by status is on the page (not lost to a script error)
	lost = [f for f, d in fields.items() if d["reqd"] and d["status"] == "Write" and not d["visible"]]
	assert not lost, f"{doctype}: required fields not on the page: {lost}"


# Known findings, declared so that the matrix checks everything else; each is reported, not fixed here.
# The scheme owner has no permission on Employee (an HRMS DocType), so the Employee field a new form
# focuses first cannot search (frappe.desk.search.search_link answers 403).
KNOWN_NEW_FORM_ERRORS: dict[tuple[str, str], str] = {}


def check_new_form(desk, doctype, server, user):
	known = KNOWN_NEW_FORM_ERRORS.get((desk.role_key, doctype))
	if known:
		desk.watch.expect(known)
	desk.open(f"{slug(doctype)}/new")
	state = _form_state(desk, doctype)
	assert state["is_new"]
	_assert_fields_show(state, doctype)
	assert state["save"], f"{doctype}: a new form without Save for a role that may create"
	editable = [f for f, d in state["fields"].items() if d["status"] == "Write"]
	assert editable, f"{doctype}: nothing to fill in on a new form"
	wrongly = [f for f, d in state["fields"].items() if d["read_only"] and d["status"] == "Write"]
	assert not wrongly, f"{doctype}: read-only fields editable: {wrongly}"


def _a_record(server, doctype, user) -> tuple[str | None, bool]:
	"""One record the user may read (the newest), and whether the server lets him write it."""
	fresh(server)
	server.set_user(user)
	try:
		names = server.get_list(doctype, order_by="modified desc", limit_page_length=1, pluck="name")
		if not names:
			return None, False
		may_write = bool(server.has_permission(doctype, "write", doc=names[0], user=user))
		return names[0], may_write
	finally:
		server.set_user("Administrator")


def check_record(desk, doctype, server, user):
	name, may_write = _a_record(server, doctype, user)
	if not name:
		return  # nothing on the site this role may read: the list showed none
	desk.open(f"{slug(doctype)}/{name}")
	state = _form_state(desk, doctype)
	assert state["docname"] == name
	_check_existing(state, doctype, may_write, desk.role_key)


def check_single(desk, doctype, server, user):
	desk.open(slug(doctype))
	state = _form_state(desk, doctype)
	fresh(server)
	may_write = bool(server.has_permission(doctype, "write", user=user))
	_check_existing(state, doctype, may_write, desk.role_key)


def _check_existing(state, doctype, may_write, role_key):
	_assert_fields_show(state, doctype)
	fields = state["fields"]
	editable = sorted(f for f, d in fields.items() if d["status"] == "Write")
	if state["docstatus"] == 0:
		if may_write:
			wrongly = [f for f in editable if fields[f]["read_only"]]
			assert not wrongly, f"{doctype}: read-only fields editable: {wrongly}"
		else:
			assert not editable, f"{doctype}: fields editable for a role that may not write: {editable}"
			assert not (state["save"] and state["primary_label"] == "Save"), f"{doctype}: Save shown"
	else:
		wrongly = [f for f in editable if not fields[f]["allow_on_submit"]]
		assert not wrongly, f"{doctype}: submitted, yet fields editable: {wrongly}"
	if doctype == "PL Review Cycle":
		steps_shown = any("Steps" in g or "步骤" in g for g in state["groups"])
		if role_key not in STEP_ROLES:
			assert not steps_shown, f"review cycle steps offered to {role_key}"


# ---------------------------------------------------------------- reports
def check_report(desk, report_name, server, user):
	meta = REPORT_META[report_name]
	# a report's first open may build a summary (Portfolio Quality Trend's monthly totals): more time
	desk.open(f"query-report/{report_name}", settle_timeout=120.0)
	desk.page.wait_for_function(
		"(name) => window.frappe && frappe.query_report && frappe.query_report.report_name === name"
		" && frappe.query_report.filters && frappe.query_report.filters.length",
		arg=report_name,
	)
	desk.settle(quiet_ms=500)
	values = desk.js("() => frappe.query_report.get_filter_values(false)")
	missing = [f for f in meta.required_filters if not values.get(f)]
	assert not missing, f"{report_name}: required filters without a default: {missing}"
	if "review_cycle" in meta.required_filters:
		from postloan_performance import api

		fresh(server)
		server.set_user(user)
		try:
			expected = api.latest_review_cycle()
		finally:
			server.set_user("Administrator")
		assert values["review_cycle"] == expected
	shown = desk.js(
		"() => { const r = frappe.query_report; const msg = r.$message && r.$message.is(':visible')"
		" ? r.$message.text().trim() : ''; return {table: !!(r.datatable && r.$report.is(':visible')),"
		" message: msg, rows: r.data ? r.data.length : null} }"
	)
	assert shown["table"] or shown["message"], f"{report_name}: neither a table nor a message shows"
	assert "Please set filters" not in shown["message"] and "请设置" not in shown["message"]
