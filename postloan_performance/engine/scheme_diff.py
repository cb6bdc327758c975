"""What changes between two versions of a KPI scheme (template): pure Python, no frappe.

A scheme is a plain dict: its settings (weights, policies) plus ``items`` (one dict per KPI, keyed by
``kpi``), ``grade_bands`` (keyed by ``grade``) and ``criteria`` (keyed by ``criterion``). The diff is a
list of change dicts ``{"section", "key", "field", "old", "new"}``; ``field`` is ``None`` when a whole row
is added (``old`` None) or removed (``new`` None).
"""

from __future__ import annotations

SETTINGS = (
	"quantitative_weight",
	"qualitative_weight",
	"no_data_policy",
	"threshold_score",
	"score_cap",
	"self_weight",
	"manager_weight",
	"peer_weight",
	"subordinate_weight",
	"use_forced_distribution",
)
ITEM_FIELDS = ("weight", "scoring_method", "threshold", "target", "use_stretch", "stretch", "bands")
BAND_FIELDS = ("min_score", "forced_share")
CRITERION_FIELDS = ("weight",)
TABLES = (
	("items", "kpi", ITEM_FIELDS),
	("grade_bands", "grade", BAND_FIELDS),
	("criteria", "criterion", CRITERION_FIELDS),
)


def _same(a, b) -> bool:
	if isinstance(a, int | float) or isinstance(b, int | float):
		try:
			return abs(float(a or 0) - float(b or 0)) < 1e-9
		except (TypeError, ValueError):
			return False
	return (a or "") == (b or "")


def _rows(scheme: dict, table: str, key: str) -> dict:
	return {str(r.get(key) or "").strip(): r for r in scheme.get(table) or []}


def diff_schemes(old: dict, new: dict) -> list[dict]:
	"""Changes from ``old`` to ``new``, settings first, then KPIs, grade bands and criteria."""
	changes = [
		{"section": "settings", "key": f, "field": f, "old": old.get(f), "new": new.get(f)}
		for f in SETTINGS
		if not _same(old.get(f), new.get(f))
	]
	for table, key, fields in TABLES:
		before, after = _rows(old, table, key), _rows(new, table, key)
		for name in sorted(before.keys() - after.keys()):
			changes.append({"section": table, "key": name, "field": None, "old": before[name], "new": None})
		for name in sorted(after.keys() - before.keys()):
			changes.append({"section": table, "key": name, "field": None, "old": None, "new": after[name]})
		for name in sorted(before.keys() & after.keys()):
			for f in fields:
				a, b = before[name].get(f), after[name].get(f)
				if not _same(a, b):
					changes.append({"section": table, "key": name, "field": f, "old": a, "new": b})
	return changes


def summarise(changes: list[dict]) -> dict:
	"""Counts for a one-line summary: KPIs added/removed/changed, other changes."""
	kpis = [c for c in changes if c["section"] == "items"]
	return {
		"kpis_added": sum(1 for c in kpis if c["field"] is None and c["old"] is None),
		"kpis_removed": sum(1 for c in kpis if c["field"] is None and c["new"] is None),
		"kpis_changed": len({c["key"] for c in kpis if c["field"] is not None}),
		"other_changes": sum(1 for c in changes if c["section"] != "items"),
	}
