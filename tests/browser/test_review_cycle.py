"""The PL Review Cycle form, new and existing, as the scheme owner: its fields and step buttons show."""

from __future__ import annotations

from tests.browser.conftest import fresh
from tests.browser.helpers import slug

DT = "PL Review Cycle"
SHOWN = ("cycle_name", "company", "is_trial", "period_start", "period_end", "templates", "teams")
# a saved cycle is named by its cycle name: the desk shows it as the title, not as a field
SHOWN_SAVED = SHOWN[1:]


def _fields_on_page(desk, names=SHOWN) -> dict[str, bool]:
	desk.page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'PL Review Cycle'")
	desk.settle()
	return desk.js(
		"""(names) => Object.fromEntries(names.map((n) => {
			const f = cur_frm.fields_dict[n];
			const w = f && (f.wrapper instanceof HTMLElement ? f.wrapper : f.wrapper && f.wrapper[0]);
			return [n, !!(w && w.offsetParent !== null)];
		}))""",
		list(names),
	)


def test_new_review_cycle_form_shows_its_fields(desk):
	owner = desk("scheme_owner")
	owner.open(f"{slug(DT)}/new")
	assert _fields_on_page(owner) == {name: True for name in SHOWN}
	assert owner.js("() => cur_frm.page.btn_primary.is(':visible') && cur_frm.is_new()")
	# the Teams picker offers the company's teams (its query is set on the Table MultiSelect)
	owner.js("() => cur_frm.set_value('company', 'PL Demo Lender')")
	owner.settle()
	query = owner.js("() => cur_frm.fields_dict.teams.get_query()")
	assert query == {"filters": {"company": "PL Demo Lender", "disabled": 0}}


def test_existing_review_cycle_shows_fields_and_step_buttons(desk, server):
	fresh(server)
	cycle = server.get_all(
		DT, {"company": "PL Demo Lender", "status": "Open"}, pluck="name", order_by="period_end desc"
	)[0]
	owner = desk("scheme_owner")
	owner.open(f"{slug(DT)}/{cycle}")
	assert _fields_on_page(owner, SHOWN_SAVED) == {name: True for name in SHOWN_SAVED}
	buttons = owner.buttons()
	assert buttons.get("Steps") == [
		"Create Appraisals",
		"Start Self Review",
		"Compute",
		"Start Scoring",
		"Request 360 Feedback",
	]
	assert "Appraisals" in buttons[""]


def test_executive_sees_the_cycle_without_step_buttons(desk, server):
	fresh(server)
	cycle = server.get_all(DT, {"company": "PL Demo Lender"}, pluck="name", order_by="period_end desc")[0]
	executive = desk("executive")
	executive.open(f"{slug(DT)}/{cycle}")
	assert _fields_on_page(executive, SHOWN_SAVED) == {name: True for name in SHOWN_SAVED}
	assert "Steps" not in executive.buttons()
