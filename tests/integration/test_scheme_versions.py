"""Scheme versions: the version chain and its diff, the version a cycle uses, the lock on versions in use,
adoption (who, why, from when, who is told) and who may do what over REST."""

import json

import pytest

import frappe

from tests.integration.factories import (
	COMPANY,
	make_appraisal,
	make_company,
	make_employee,
	make_team,
	make_user,
)
from tests.integration.test_scheme_validation import template_doc

TEMPLATE = "PL KPI Template"


@pytest.fixture
def v1():
	make_company()
	doc = template_doc(template_name="_Test PL Versioned")
	doc.insert()
	return doc


def cycle_doc(template: str, period_start: str, is_trial: int = 0, team: str | None = None):
	team = team or make_team("_Test PL Versioned Team", "Collection")
	return frappe.get_doc(
		{
			"doctype": "PL Review Cycle",
			"cycle_name": f"_Test PL Version Cycle {period_start} {is_trial}",
			"company": COMPANY,
			"is_trial": is_trial,
			"period_start": period_start,
			"period_end": frappe.utils.add_days(period_start, 60),
			"templates": [{"layer": "Collection", "template": template}],
			"teams": [{"pl_team": team}],
		}
	)


def test_new_version_copies_as_draft_and_diffs_against_its_predecessor(v1):
	v2 = frappe.get_doc(TEMPLATE, v1.new_version())
	assert (v2.version_status, v2.previous_version, v2.version_of) == ("Draft", v1.name, v1.name)
	assert v2.scheme_version == "2.0" and v2.name != v1.name
	assert [(i.kpi, i.target) for i in v2.items] == [(i.kpi, i.target) for i in v1.items]
	assert v2.version_diff()["changes"] == []

	v2.items[0].target = 55
	v2.no_data_policy = "Score Zero"
	v2.grade_bands[0].forced_share = v2.grade_bands[0].forced_share + 5
	v2.grade_bands[1].forced_share = v2.grade_bands[1].forced_share - 5
	v2.save()
	diff = v2.version_diff()
	got = {(c["section"], c["key"], c["field"]) for c in diff["changes"]}
	assert got == {
		("items", "COL-SUCCESS-RATE", "target"),
		("settings", "no_data_policy", "no_data_policy"),
		("grade_bands", v2.grade_bands[0].grade, "forced_share"),
		("grade_bands", v2.grade_bands[1].grade, "forced_share"),
	}
	assert diff["summary"]["kpis_changed"] == 1 and "55" in diff["html"]

	v3 = frappe.get_doc(TEMPLATE, v2.new_version())
	assert (v3.previous_version, v3.version_of, v3.scheme_version) == (v2.name, v1.name, "3.0")


def test_a_cycle_uses_the_version_active_at_its_period_start(v1):
	v2 = frappe.get_doc(TEMPLATE, v1.new_version())
	v2.items[0].target = 55
	v2.save()
	v2.adopt_version("2026-04-01", "Raise the success-rate target")

	before = cycle_doc(v2.name, "2026-01-01").insert()
	after = cycle_doc(v1.name, "2026-04-01").insert()
	assert before.template_for_layer("Collection") == v1.name
	assert after.template_for_layer("Collection") == v2.name


def test_a_draft_version_runs_only_in_a_trial_cycle(v1):
	draft = v1.new_version()
	with pytest.raises(frappe.ValidationError, match="draft version"):
		cycle_doc(draft, "2026-01-01").insert()
	trial = cycle_doc(draft, "2026-01-01", is_trial=1).insert()
	assert trial.template_for_layer("Collection") == draft


def test_a_version_used_by_appraisals_cannot_be_edited_only_superseded(v1):
	employee = make_employee("_Test PL Versioned Staff")
	team = make_team("_Test PL Versioned Staff Team", "Collection", members=[(employee, "2025-01-01", None)])
	cycle = cycle_doc(v1.name, "2026-01-01", team=team).insert()
	make_appraisal(employee, team, cycle.name, template=v1.name)

	doc = frappe.get_doc(TEMPLATE, v1.name)
	doc.items[0].target = 45
	with pytest.raises(frappe.ValidationError, match="cannot be edited"):
		doc.save()
	assert frappe.db.get_value("PL KPI Template Item", doc.items[0].name, "target") == 50

	v2 = frappe.get_doc(TEMPLATE, v1.new_version())  # superseding it is allowed
	v2.items[0].target = 45
	v2.save()
	v2.adopt_version("2026-07-01", "New target")
	assert frappe.db.get_value(TEMPLATE, v1.name, "version_status") == "Superseded"


def test_adoption_records_who_why_closes_the_predecessor_and_notifies_leaders(v1):
	leader_user = make_user("_test_version_leader@plp.test", ["PL Team Leader"])
	leader = make_employee("_Test PL Version Leader", user=leader_user)
	make_team(
		"_Test PL Version Lead Team", "Collection", members=[(leader, "2025-01-01", None)], team_lead=leader
	)

	v2 = frappe.get_doc(TEMPLATE, v1.new_version())
	v2.items[0].target = 55
	v2.save()
	with pytest.raises(frappe.ValidationError):
		v2.adopt_version("2026-04-01", "  ")
	result = v2.adopt_version("2026-04-01", "Raise the success-rate target")
	assert result["summary"]["kpis_changed"] == 1

	v2.reload()
	assert (v2.version_status, str(v2.effective_from)) == ("Active", "2026-04-01")
	assert (v2.adopted_by, v2.adoption_reason) == ("Administrator", "Raise the success-rate target")
	old = frappe.db.get_value(TEMPLATE, v1.name, ["version_status", "effective_to"], as_dict=True)
	assert (old.version_status, str(old.effective_to)) == ("Superseded", "2026-03-31")

	note = frappe.get_all(
		"Notification Log",
		filters={"for_user": leader_user, "document_name": v2.name},
		fields=["subject", "email_content"],
	)
	assert (
		len(note) == 1
		and "2026-04-01" in note[0].subject
		and "Raise the success-rate" in note[0].email_content
	)

	with pytest.raises(frappe.ValidationError, match="Only a draft"):
		v2.adopt_version("2026-05-01", "again")


def test_two_versions_cannot_be_active_on_the_same_date(v1):
	v2 = frappe.get_doc(TEMPLATE, v1.new_version())
	v2.adopt_version("2026-04-01", "Next year")
	old = frappe.get_doc(TEMPLATE, v1.name)
	old.version_status = "Active"
	old.effective_to = None
	with pytest.raises(frappe.ValidationError, match="only one version is active"):
		old.save()
	v3 = frappe.get_doc(TEMPLATE, v2.new_version())
	with pytest.raises(frappe.ValidationError, match="after the previous version"):
		v3.adopt_version("2026-03-01", "Too early")


def _doc_method(client, name: str, method: str, **args):
	return client.post(
		"/api/method/frappe.handler.run_doc_method",
		data={"dt": TEMPLATE, "dn": name, "method": method, "args": json.dumps(args)},
	)


def test_only_the_scheme_owner_versions_and_adopts_over_rest(world, rest):
	template = "Collection - Default"
	for user in (world.users.executive, world.users.lena, world.users.ada):
		response = _doc_method(rest(user), template, "new_version")
		assert response.status_code == 403, (user, response.get_data(as_text=True))
	assert not frappe.db.exists(TEMPLATE, {"version_of": template})

	response = _doc_method(rest(world.users.manager), template, "new_version")
	assert response.status_code == 200, response.get_data(as_text=True)
	created = response.json["message"]
	try:
		assert frappe.db.get_value(TEMPLATE, created, ["version_status", "previous_version"]) == (
			"Draft",
			template,
		)
		response = _doc_method(rest(world.users.executive), created, "version_diff")
		assert response.status_code == 200 and response.json["message"]["previous"] == template
		response = _doc_method(
			rest(world.users.lena), created, "adopt_version", effective_from="2027-01-01", reason="x"
		)
		assert response.status_code == 403
		assert frappe.db.get_value(TEMPLATE, created, "version_status") == "Draft"
	finally:
		frappe.delete_doc(TEMPLATE, created, force=True, ignore_permissions=True)
		frappe.db.commit()


def test_a_plain_copy_of_a_version_starts_its_own_scheme(v1):
	v2 = frappe.get_doc(TEMPLATE, v1.new_version())
	v2.adopt_version("2026-04-01", "Next quarter")
	copy = frappe.copy_doc(frappe.get_doc(TEMPLATE, v2.name))
	copy.template_name = "_Test PL Versioned Copy"
	copy.insert()
	assert (copy.version_of, copy.previous_version, copy.version_status, copy.effective_to) == (
		None,
		None,
		"Active",
		None,
	)


def _briefing(title: str):
	return frappe.get_doc(
		{
			"doctype": "PL Scheme Briefing",
			"title": title,
			"company": COMPANY,
			"briefing_date": "2026-04-02",
		}
	).insert()


def test_an_adopted_version_feeds_the_next_scheme_briefing(v1):
	"""A new briefing without content starts from the versions adopted since the company's previous
	briefing; one written by hand keeps its text; the one after starts empty again."""
	earlier = _briefing("_Test PL Briefing Before")  # the previous briefing: the log starts after it
	frappe.db.set_value("PL Scheme Briefing", earlier.name, "creation", "2020-01-01 00:00:00")
	v2 = frappe.get_doc(TEMPLATE, v1.new_version())
	v2.items[0].target = 55
	v2.save()
	v2.adopt_version("2026-04-01", "Raise the success-rate target")

	briefing = _briefing("_Test PL Briefing After Adoption")
	assert v2.template_name in briefing.content and "Raise the success-rate target" in briefing.content
	assert "KPIs added: 0, removed: 0, changed: 1" in briefing.content and "<table" in briefing.content

	written = frappe.get_doc(
		{
			"doctype": "PL Scheme Briefing",
			"title": "_Test PL Briefing Written",
			"company": COMPANY,
			"briefing_date": "2026-04-03",
			"content": "<p>Our own agenda</p>",
		}
	).insert()
	assert written.content == "<p>Our own agenda</p>"
	assert not _briefing("_Test PL Briefing Next").content
