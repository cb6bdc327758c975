"""The diff between two scheme versions (engine/scheme_diff.py)."""

import copy

from postloan_performance.engine.scheme_diff import diff_schemes, summarise

BASE = {
	"quantitative_weight": 70,
	"qualitative_weight": 30,
	"no_data_policy": "Exclude and Renormalise",
	"use_forced_distribution": 1,
	"manager_weight": 50,
	"items": [
		{"kpi": "A", "weight": 60, "scoring_method": "Linear", "threshold": 30, "target": 50, "stretch": 70},
		{"kpi": "B", "weight": 40, "scoring_method": "Linear", "threshold": 60, "target": 30, "stretch": 15},
	],
	"grade_bands": [{"grade": "S", "min_score": 90, "forced_share": 10}, {"grade": "C", "min_score": 0}],
	"criteria": [{"criterion": "Teamwork", "weight": 100}],
}


def test_identical_schemes_have_no_changes():
	assert diff_schemes(BASE, copy.deepcopy(BASE)) == []
	assert summarise([]) == {"kpis_added": 0, "kpis_removed": 0, "kpis_changed": 0, "other_changes": 0}


def test_numbers_compare_by_value_not_type():
	new = copy.deepcopy(BASE)
	new["quantitative_weight"] = 70.0
	new["items"][0]["target"] = 50.0
	assert diff_schemes(BASE, new) == []


def test_every_kind_of_change_is_reported():
	new = copy.deepcopy(BASE)
	new["no_data_policy"] = "Score Zero"
	new["manager_weight"] = 40
	new["items"] = [dict(new["items"][0], target=55, weight=100), {"kpi": "C", "weight": 0}]
	new["grade_bands"][0]["forced_share"] = 15
	new["criteria"][0]["weight"] = 90
	changes = diff_schemes(BASE, new)
	got = {(c["section"], c["key"], c["field"]) for c in changes}
	assert got == {
		("settings", "no_data_policy", "no_data_policy"),
		("settings", "manager_weight", "manager_weight"),
		("items", "A", "target"),
		("items", "A", "weight"),
		("items", "B", None),
		("items", "C", None),
		("grade_bands", "S", "forced_share"),
		("criteria", "Teamwork", "weight"),
	}
	target = next(c for c in changes if c["field"] == "target")
	assert (target["old"], target["new"]) == (50, 55)
	removed = next(c for c in changes if c["key"] == "B")
	assert removed["new"] is None and removed["old"]["weight"] == 40
	assert summarise(changes) == {"kpis_added": 1, "kpis_removed": 1, "kpis_changed": 1, "other_changes": 4}
