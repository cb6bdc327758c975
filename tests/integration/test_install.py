"""The app on a real ERPNext site: one whose setup wizard is done, with a default company."""

import frappe

from postloan_performance.install import LAYERS, default_template_name
from postloan_performance.patches.v0_2 import company_neutral_default_templates


def test_the_test_site_is_a_real_site():
	# what the rest of this file proves is only worth something on a site like a user's
	assert frappe.utils.cint(frappe.db.get_single_value("System Settings", "setup_complete"))
	assert frappe.defaults.get_global_default("company")


def test_default_templates_serve_every_company():
	for layer in LAYERS:
		name = default_template_name(layer)
		assert frappe.db.exists("PL KPI Template", name)
		assert frappe.db.get_value("PL KPI Template", name, "company") is None, name


def test_a_blank_company_is_stored_as_null():
	tpl = frappe.copy_doc(frappe.get_doc("PL KPI Template", default_template_name("Collection")))
	tpl.update({"template_name": "_Test PL Blank Company", "company": "", "is_default": 0, "is_standard": 0})
	tpl.insert()
	assert frappe.db.get_value("PL KPI Template", tpl.name, "company") is None


def test_patch_clears_the_company_of_untouched_default_templates_only():
	company = frappe.defaults.get_global_default("company")
	untouched, edited = default_template_name("Collection"), default_template_name("Management")
	frappe.db.sql(
		"update `tabPL KPI Template` set company = %s, modified = creation where name = %s",
		(company, untouched),
	)
	frappe.db.sql(
		"update `tabPL KPI Template` set company = %s, modified = date_add(creation, interval 1 day)"
		" where name = %s",
		(company, edited),
	)
	company_neutral_default_templates.execute()
	assert frappe.db.get_value("PL KPI Template", untouched, "company") is None
	assert frappe.db.get_value("PL KPI Template", edited, "company") == company  # an admin chose it


def test_install_sees_the_app_on_a_site_whose_module_map_predates_it():
	"""A site used before the app reached the bench keeps a module map without it (Redis and the
	process); install-app would then sync none of its DocTypes. before_install rebuilds the map."""
	from postloan_performance import install

	stale = {
		app: modules for app, modules in frappe.local.app_modules.items() if app != "postloan_performance"
	}
	frappe.cache.set_value("app_modules", stale)
	frappe.local.app_modules = dict(stale)
	try:
		install.before_install()
		assert "postloan_performance" in frappe.local.app_modules["postloan_performance"]
		assert frappe.local.module_app["postloan_performance"] == "postloan_performance"
		assert frappe.cache.get_value("app_modules")["postloan_performance"]
	finally:
		frappe.cache.delete_value("app_modules")
		frappe.setup_module_map()


def test_a_demo_user_left_by_an_uninstall_gets_his_roles_back(monkeypatch):
	"""Uninstalling removes the PL roles from every user; loading the demo again must give them back."""
	from postloan_performance.services.demo import people as demo

	monkeypatch.setattr("frappe.core.doctype.user.user.update_gravatar", lambda *args, **kwargs: None)
	email = "_test.returning@pldemo.example"
	demo._make_user(email, "Test", "Returning", ["PL Performance Manager"], "Plp-Test-Returning-1!")
	frappe.db.delete("Has Role", {"parent": email, "role": "PL Performance Manager"})
	frappe.clear_cache(user=email)
	assert "PL Performance Manager" not in frappe.get_roles(email)
	demo._make_user(email, "Test", "Returning", ["PL Performance Manager"], "Plp-Test-Returning-1!")
	assert "PL Performance Manager" in frappe.get_roles(email)


def test_scheme_owner_and_officer_pick_employees_but_do_not_read_them(world, rest):
	"""Employee link fields search with "select"; the employee records themselves stay HR's."""
	from urllib.parse import quote

	employee = world.employees.ada
	for who in ("manager", "officer"):
		client = rest(world.users[who])
		response = client.post(
			"/api/method/frappe.desk.search.search_link", json={"doctype": "Employee", "txt": ""}
		)
		assert response.status_code == 200, (who, response.get_data(as_text=True)[:300])
		assert response.json["message"], f"{who} found no employee to pick"
		assert client.get(f"/api/resource/Employee/{quote(employee)}").status_code == 403
	# an appraisee picks no one but himself (his own employee record, as ERPNext lets him)
	response = rest(world.users["ada"]).post(
		"/api/method/frappe.desk.search.search_link", json={"doctype": "Employee", "txt": ""}
	)
	found = (
		{row["value"] for row in response.json.get("message") or []} if response.status_code == 200 else set()
	)
	assert found <= {employee}, found


def test_scheme_owner_saves_a_team_whose_names_come_from_employee(world, rest):
	"""He may not read employees, so the form fetches nothing from them: the server copies the lead's and
	members' names (and the lead's user) when the team is saved."""
	from urllib.parse import quote

	ada, bo = world.employees.ada, world.employees.bo
	client = rest(world.users["manager"])
	response = client.post(
		"/api/resource/" + quote("PL Team"),
		json={
			"team_name": "_Test PL Names Team",
			"layer": "Customer Service",
			"company": frappe.db.get_value("Employee", ada, "company"),
			"team_lead": ada,
			"members": [
				{"employee": ada, "from_date": "2030-01-01"},
				{"employee": bo, "from_date": "2030-01-01"},
			],
		},
	)
	try:
		assert response.status_code == 200, response.get_data(as_text=True)[:400]
		team = frappe.get_doc("PL Team", "_Test PL Names Team")
		expected = {e: frappe.db.get_value("Employee", e, ["employee_name", "user_id"]) for e in (ada, bo)}
		assert (team.team_lead_name, team.team_lead_user) == tuple(expected[ada])
		assert {m.employee: m.employee_name for m in team.members} == {e: v[0] for e, v in expected.items()}
		assert expected[ada][0] and expected[ada][1]
	finally:
		frappe.set_user("Administrator")
		if frappe.db.exists("PL Team", "_Test PL Names Team"):
			frappe.delete_doc("PL Team", "_Test PL Names Team", force=True)
		frappe.db.commit()
