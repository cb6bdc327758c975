"""Scheme configuration through the DocType API: every validation refuses bad input and changes nothing."""

from unittest.mock import patch

import pytest

import frappe

from tests.integration.factories import (
	COMPANY,
	OTHER_COMPANY,
	make_appraisal,
	make_company,
	make_cycle,
	make_employee,
	make_team,
)

START = "2026-01-01"


def template_doc(**overrides):
	base = {
		"doctype": "PL KPI Template",
		"template_name": "_Test PL Template",
		"layer": "Collection",
		"company": "",
		"quantitative_weight": 70,
		"qualitative_weight": 30,
		"items": [
			{
				"kpi": "COL-SUCCESS-RATE",
				"weight": 60,
				"threshold": 30,
				"target": 50,
				"use_stretch": 1,
				"stretch": 70,
			},
			{
				"kpi": "COL-CYCLE-DAYS",
				"weight": 40,
				"threshold": 60,
				"target": 30,
				"use_stretch": 1,
				"stretch": 15,
			},
		],
		"criteria": [{"criterion": "Teamwork", "weight": 50}, {"criterion": "Compliance", "weight": 50}],
		"self_weight": 10,
		"manager_weight": 50,
		"peer_weight": 30,
		"subordinate_weight": 10,
	}
	base.update(overrides)
	return frappe.get_doc(base)


def count(doctype: str, **filters) -> int:
	return frappe.db.count(doctype, filters)


# ---------------------------------------------------------------- install defaults
def test_defaults_installed():
	kpis = frappe.get_all("PL KPI", filters={"is_standard": 1}, fields=["name", "layer", "builtin_metric"])
	assert len(kpis) == 12
	by_layer = {}
	for k in kpis:
		by_layer.setdefault(k.layer, set()).add(k.builtin_metric)
	assert by_layer == {
		"Management": {"npl_ratio_reduction", "recovery_rate_improvement", "team_satisfaction"},
		"Collection": {"collection_success_rate", "avg_collection_cycle_days", "customer_satisfaction"},
		"Risk Control": {"warning_precision", "risk_report_quality", "risk_event_handling_hours"},
		"Customer Service": {"ticket_resolution_rate", "first_response_minutes", "customer_loyalty_nps"},
	}
	for layer in by_layer:
		tpl = frappe.get_doc("PL KPI Template", f"{layer} - Default")
		assert tpl.is_default and tpl.layer == layer
		assert sum(i.weight for i in tpl.items) == 100
		assert [(b.grade, b.min_score, b.forced_share) for b in tpl.grade_bands] == [
			("S", 95, 10),
			("A", 85, 20),
			("B", 70, 50),
			("C", 60, 15),
			("D", 0, 5),
		]


def test_migrate_leaves_edited_defaults_alone():
	"""What migrate runs for this app (fixtures sync + after_migrate hooks) keeps an admin's edit."""
	from frappe.utils.fixtures import sync_fixtures

	kpi = frappe.get_doc("PL KPI", "COL-CSAT")
	kpi.kpi_name = "CSAT (edited by admin)"
	kpi.save()
	tpl = frappe.get_doc("PL KPI Template", "Collection - Default")
	tpl.items[0].target = 55
	# an edit to a default template no appraisal uses yet (appraisals of other tests may exist)
	with patch("postloan_performance.services.scheme_versions.in_use", return_value=False):
		tpl.save()

	# sync_fixtures commits; keep this test inside its rolled-back transaction.
	with patch.object(frappe.db, "commit"):
		sync_fixtures("postloan_performance")
	for method in frappe.get_hooks("after_migrate", app_name="postloan_performance"):
		frappe.get_attr(method)()
	from postloan_performance.install import create_default_scheme

	create_default_scheme()  # what a re-install would run

	assert frappe.db.get_value("PL KPI", "COL-CSAT", "kpi_name") == "CSAT (edited by admin)"
	assert frappe.get_doc("PL KPI Template", "Collection - Default").items[0].target == 55
	assert frappe.db.count("PL KPI", {"is_standard": 1}) == 12


def test_roles_exist():
	for role in (
		"PL Performance Manager",
		"PL Team Leader",
		"PL Appraisee",
		"PL Executive",
		"PL Post-Loan Officer",
	):
		assert frappe.db.get_value("Role", role, "desk_access") == 1


# ---------------------------------------------------------------- template weights
def test_valid_template_saves():
	doc = template_doc().insert()
	assert doc.name == "_Test PL Template"
	assert [b.grade for b in doc.grade_bands] == ["S", "A", "B", "C", "D"]  # defaults filled in


@pytest.mark.parametrize(
	"overrides, message",
	[
		({"quantitative_weight": 60, "qualitative_weight": 30}, "must add up to 100"),
		(
			{
				"items": [
					{
						"kpi": "COL-SUCCESS-RATE",
						"weight": 60,
						"threshold": 30,
						"target": 50,
						"use_stretch": 0,
					},
					{"kpi": "COL-CYCLE-DAYS", "weight": 30, "threshold": 60, "target": 30, "use_stretch": 0},
				]
			},
			"KPI weights must add up to 100",
		),
		(
			{
				"criteria": [
					{"criterion": "Teamwork", "weight": 50},
					{"criterion": "Compliance", "weight": 40},
				]
			},
			"criterion weights",
		),
		({"peer_weight": 20}, "Rater weights"),
		(
			{
				"items": [
					{
						"kpi": "COL-SUCCESS-RATE",
						"weight": 50,
						"threshold": 30,
						"target": 50,
						"use_stretch": 0,
					},
					{
						"kpi": "COL-SUCCESS-RATE",
						"weight": 50,
						"threshold": 30,
						"target": 50,
						"use_stretch": 0,
					},
				]
			},
			"appears twice",
		),
		(
			{
				"grade_bands": [
					{"grade": "A", "min_score": 80, "forced_share": 50},
					{"grade": "B", "min_score": 0, "forced_share": 40},
				]
			},
			"Forced distribution shares",
		),
		(
			{
				"grade_bands": [
					{"grade": "A", "min_score": 80, "forced_share": 50},
					{"grade": "B", "min_score": 10, "forced_share": 50},
				]
			},
			"lowest grade must start at 0",
		),
	],
)
def test_template_refuses_bad_weights(overrides, message):
	before = count("PL KPI Template")
	with pytest.raises(frappe.ValidationError, match=message):
		template_doc(**overrides).insert()
	assert count("PL KPI Template") == before


@pytest.mark.parametrize(
	"kpi, threshold, target, stretch",
	[
		("COL-SUCCESS-RATE", 50, 30, 70),  # higher is better: threshold above target
		("COL-SUCCESS-RATE", 30, 70, 50),  # higher: stretch below target
		("COL-CYCLE-DAYS", 15, 30, 60),  # lower is better: threshold must be the largest
		("COL-CYCLE-DAYS", 60, 30, 45),  # lower: stretch above target
		("COL-SUCCESS-RATE", 50, 50, 70),  # equal threshold and target
	],
)
def test_template_refuses_unordered_targets(kpi, threshold, target, stretch):
	other = "COL-CYCLE-DAYS" if kpi == "COL-SUCCESS-RATE" else "COL-SUCCESS-RATE"
	items = [
		{
			"kpi": kpi,
			"weight": 50,
			"threshold": threshold,
			"target": target,
			"use_stretch": 1,
			"stretch": stretch,
		},
		{"kpi": other, "weight": 50, "scoring_method": "Binary", "target": 40},
	]
	with pytest.raises(frappe.ValidationError, match="must be ordered"):
		template_doc(items=items).insert()


def test_template_accepts_lower_is_better_mirror_and_bands():
	items = [
		{
			"kpi": "COL-CYCLE-DAYS",
			"weight": 50,
			"threshold": 60,
			"target": 30,
			"use_stretch": 1,
			"stretch": 15,
		},
		{
			"kpi": "COL-SUCCESS-RATE",
			"weight": 50,
			"scoring_method": "Banded",
			"bands": "0, 30, 0\n30, 50, 60\n50, , 100",
		},
	]
	doc = template_doc(items=items).insert()
	assert doc.items[1].scoring_method == "Banded"


def test_template_refuses_overlapping_bands():
	items = [
		{"kpi": "COL-CYCLE-DAYS", "weight": 50, "threshold": 60, "target": 30, "use_stretch": 0},
		{
			"kpi": "COL-SUCCESS-RATE",
			"weight": 50,
			"scoring_method": "Banded",
			"bands": "0, 40, 0\n30, 50, 60",
		},
	]
	with pytest.raises(frappe.ValidationError, match="bands overlap"):
		template_doc(items=items).insert()


def test_failed_template_update_changes_nothing():
	tpl = frappe.get_doc("PL KPI Template", "Collection - Default")
	old = [(i.kpi, i.weight) for i in tpl.items]
	tpl.items[0].weight = 90  # now adds up to 150
	with pytest.raises(frappe.ValidationError):
		tpl.save()
	fresh = frappe.get_doc("PL KPI Template", "Collection - Default")
	assert [(i.kpi, i.weight) for i in fresh.items] == old


# ---------------------------------------------------------------- KPIs
def test_kpi_formula_is_validated():
	kpi = frappe.get_doc(
		{
			"doctype": "PL KPI",
			"kpi_code": "_TEST-FORMULA",
			"kpi_name": "Blend",
			"layer": "Collection",
			"method": "Formula",
			"formula": "0.5 * ptp_kept_rate + 0.5 * right_party_contact_rate",
		}
	).insert()
	assert kpi.formula.startswith("0.5")
	for bad, message in (
		("ptp_kept_rate +", "not a valid expression"),
		("ptp_kept_rte * 2", "Unknown names"),
		("__import__('os')", "not allowed"),
		("ptp_kept_rate.real", "not allowed"),
		("42", "at least one built-in metric"),
	):
		kpi = frappe.get_doc("PL KPI", "_TEST-FORMULA")
		kpi.formula = bad
		with pytest.raises(frappe.ValidationError, match=message):
			kpi.save()


def test_builtin_kpi_direction_must_match_metric():
	with pytest.raises(frappe.ValidationError, match="Lower is Better"):
		frappe.get_doc(
			{
				"doctype": "PL KPI",
				"kpi_code": "_TEST-DIR",
				"kpi_name": "Cycle",
				"layer": "Collection",
				"method": "Built-in",
				"builtin_metric": "avg_collection_cycle_days",
				"direction": "Higher is Better",
			}
		).insert()


# ---------------------------------------------------------------- teams, cycle and appraisal
@pytest.fixture
def people():
	make_company()
	return [make_employee(f"_Test PL Member {i}") for i in range(1, 4)]


def test_team_with_three_members_cycle_and_appraisal(people):
	lead = make_employee("_Test PL Lead X")
	team = make_team(
		"_Test PL Team X",
		"Collection",
		members=[(e, START, None) for e in people],
		team_lead=lead,
	)
	cycle = make_cycle("_Test PL Cycle X", [team], layers=("Collection",))
	appraisal = frappe.get_doc("PL Appraisal", make_appraisal(people[0], team, cycle))
	assert appraisal.layer == "Collection"
	assert appraisal.company == COMPANY
	assert [line.kpi for line in appraisal.kpis] == ["COL-SUCCESS-RATE", "COL-CYCLE-DAYS", "COL-CSAT"]
	assert appraisal.kpis[1].direction == "Lower is Better"
	# A template in use is not edited but superseded by a new version; that never rewrites a running
	# cycle's lines.
	tpl = frappe.get_doc("PL KPI Template", "Collection - Default")
	tpl.items[0].target = 45
	with pytest.raises(frappe.ValidationError, match="cannot be edited"):
		tpl.save()
	version = frappe.get_doc("PL KPI Template", tpl.new_version())
	version.items[0].target = 45
	version.save()
	version.adopt_version("2027-01-01", "Lower the success-rate target")
	appraisal.reload()
	assert appraisal.kpis[0].target == 50

	# Entered actuals are scored by the template's rules (hand-worked):
	# success 50 = target -> 100; cycle 45 days, lower: threshold 60 -> 60, target 30 -> 100: 60 + (60-45)/30*40 = 80;
	# CSAT no data -> excluded; quantitative = (40*100 + 30*80) / 70 = 91.428571...
	appraisal.kpis[0].actual = 50
	appraisal.kpis[1].actual = 45
	appraisal.kpis[2].no_data = 1
	appraisal.save()
	assert appraisal.kpis[0].score == pytest.approx(100)
	assert appraisal.kpis[1].score == pytest.approx(80)
	assert appraisal.quantitative_score == pytest.approx(6400 / 70)
	# No 360 feedback yet: the total renormalises to the quantitative part.
	assert appraisal.total_score == pytest.approx(6400 / 70)
	assert appraisal.grade == "A"


def test_one_appraisal_per_employee_per_cycle(people):
	team = make_team("_Test PL Team Y", "Collection", members=[(people[0], START, None)])
	cycle = make_cycle("_Test PL Cycle Y", [team], layers=("Collection",))
	make_appraisal(people[0], team, cycle)
	before = count("PL Appraisal")
	with pytest.raises(frappe.ValidationError, match="already has appraisal"):
		frappe.get_doc(
			{
				"doctype": "PL Appraisal",
				"employee": people[0],
				"pl_team": team,
				"review_cycle": cycle,
				"template": "Collection - Default",
			}
		).insert()
	assert count("PL Appraisal") == before


def test_appraisal_refuses_non_member_and_other_company(people):
	team = make_team("_Test PL Team Z", "Collection", members=[(people[0], START, None)])
	cycle = make_cycle("_Test PL Cycle Z", [team], layers=("Collection",))
	with pytest.raises(frappe.ValidationError, match="not a member"):
		make_appraisal(people[1], team, cycle)
	make_company(OTHER_COMPANY, "_TPO")
	stranger = make_employee("_Test PL Stranger", company=OTHER_COMPANY)
	with pytest.raises(frappe.ValidationError, match="belongs to company"):
		make_appraisal(stranger, team, cycle)


def test_overlapping_membership_in_same_layer_refused(people):
	make_team("_Test PL Col A", "Collection", members=[(people[0], "2026-01-01", "2026-06-30")])
	before = count("PL Team")
	with pytest.raises(frappe.ValidationError, match="Overlapping team membership"):
		make_team("_Test PL Col B", "Collection", members=[(people[0], "2026-06-01", None)])
	assert count("PL Team") == before
	# The day after the first membership ends is fine, and so is another layer at the same time.
	make_team("_Test PL Col C", "Collection", members=[(people[0], "2026-07-01", None)])
	make_team("_Test PL CS A", "Customer Service", members=[(people[0], "2026-01-01", None)])
	# Twice in one team with overlapping dates is refused too.
	with pytest.raises(frappe.ValidationError, match="Overlapping team membership"):
		make_team(
			"_Test PL Col D",
			"Collection",
			members=[(people[1], "2026-01-01", None), (people[1], "2026-03-01", None)],
		)


def test_membership_dates_ordered(people):
	with pytest.raises(frappe.ValidationError, match="before From Date"):
		make_team("_Test PL Col E", "Collection", members=[(people[0], "2026-05-01", "2026-04-30")])


def test_team_tree_and_company(people):
	parent = make_team("_Test PL Mgmt", "Management", is_group=1)
	child = make_team("_Test PL Col F", "Collection", members=[(people[2], START, None)], parent=parent)
	lft, rgt = frappe.db.get_value("PL Team", parent, ["lft", "rgt"])
	clft, crgt = frappe.db.get_value("PL Team", child, ["lft", "rgt"])
	assert lft < clft < crgt < rgt
	make_company(OTHER_COMPANY, "_TPO")
	stranger = make_employee("_Test PL Stranger", company=OTHER_COMPANY)
	with pytest.raises(frappe.ValidationError, match="do not belong to company"):
		make_team("_Test PL Col G", "Collection", members=[(stranger, START, None)])


def test_cycle_validation(people):
	team = make_team("_Test PL Col H", "Collection", members=[(people[0], START, None)])
	base = {
		"doctype": "PL Review Cycle",
		"cycle_name": "_Test PL Bad Cycle",
		"company": COMPANY,
		"period_start": "2026-04-01",
		"period_end": "2026-06-30",
		"templates": [{"layer": "Collection", "template": "Collection - Default"}],
		"teams": [{"pl_team": team}],
	}
	cases = [
		({"period_end": "2026-03-31"}, "Period End cannot be before"),
		({"baseline_start": "2026-01-01", "baseline_end": "2026-04-15"}, "baseline must end before"),
		({"baseline_start": "2026-01-01"}, "Set both Baseline"),
		({"templates": [{"layer": "Collection", "template": "Risk Control - Default"}]}, "is for layer"),
		(
			{"templates": [{"layer": "Risk Control", "template": "Risk Control - Default"}]},
			"Choose a KPI template for layer",
		),
	]
	for overrides, message in cases:
		with pytest.raises(frappe.ValidationError, match=message):
			frappe.get_doc({**base, **overrides}).insert()
	cycle = frappe.get_doc(base).insert()
	assert cycle.status == "Draft"
	cycle.status = "Published"
	with pytest.raises(frappe.ValidationError, match="action buttons"):
		cycle.save()
