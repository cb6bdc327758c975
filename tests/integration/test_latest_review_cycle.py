"""api.latest_review_cycle: the cycle a report's required Review Cycle filter opens on, per role.

Three cycles later than anything else on the site: a formal one (Open), a trial after it (Open) and a
draft after both. The draft never counts; the trial only for those who read trial results.
"""

import frappe

from postloan_performance import api
from tests.integration.factories import COMPANY, make_cycle

FORMAL, TRIAL, DRAFT = "_Test PL Latest Formal", "_Test PL Latest Trial", "_Test PL Latest Draft"


def _cycles(world):
	teams = [world.teams.north, world.teams.risk]
	make_cycle(FORMAL, teams, "2099-01-01", "2099-03-31")
	make_cycle(TRIAL, teams, "2099-04-01", "2099-06-30", is_trial=1)
	make_cycle(DRAFT, teams, "2099-07-01", "2099-09-30")
	for name in (FORMAL, TRIAL):
		frappe.db.set_value("PL Review Cycle", name, "status", "Open", update_modified=False)


def test_latest_review_cycle_per_role(world):
	_cycles(world)
	expected = {
		"Administrator": TRIAL,
		world.users.manager: TRIAL,
		world.users.executive: TRIAL,
		world.users.lena: TRIAL,  # a team leader sees his teams' trial appraisals
		world.users.ada: FORMAL,  # a trial's results are never published to an appraisee
		world.users.officer: None,  # may not read review cycles at all
	}
	seen = {}
	for user in expected:
		frappe.set_user(user)
		seen[user] = (api.latest_review_cycle(company=COMPANY), api.latest_review_cycle())
	frappe.set_user("Administrator")
	assert seen == {user: (cycle, cycle) for user, cycle in expected.items()}


def test_latest_review_cycle_prefers_the_users_default_company(world):
	_cycles(world)
	other = frappe.get_all("Company", {"name": ("!=", COMPANY)}, pluck="name", limit=1)
	if not other:
		return
	frappe.defaults.set_user_default("Company", other[0], world.users.manager)
	try:
		frappe.set_user(world.users.manager)
		in_other = frappe.get_list(
			"PL Review Cycle",
			{"company": other[0], "status": ("!=", "Draft")},
			order_by="period_end desc, period_start desc, creation desc",
			pluck="name",
			limit_page_length=1,
		)
		# the latest of his own company when it has any, else the latest anywhere
		assert api.latest_review_cycle() == (in_other[0] if in_other else TRIAL)
	finally:
		frappe.set_user("Administrator")
		frappe.defaults.clear_user_default("Company", world.users.manager)


def test_latest_review_cycle_is_whitelisted_and_typed():
	fn = api.latest_review_cycle
	assert fn in frappe.whitelisted
	assert set(fn.__annotations__) == {"company", "return"}
