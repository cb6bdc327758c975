"""The demo's scheme what-if: the scheme owner drafts the next version of the Collection scheme with the
targets KPI Health suggests and tries it on the last published formal cycle (the Scheme What-If
Comparison report opens on it). Removed with the demo."""

from __future__ import annotations

import frappe

from postloan_performance.services import scheme_versions, scheme_whatif
from postloan_performance.services.demo.plan import DEMO_COMPANY

WHAT_IF = "PL Scheme What-If"
TEMPLATE = "PL KPI Template"
LAYER = "Collection"


def make_what_if() -> str | None:
	"""A completed what-if of a draft Collection version over the last published formal cycle."""
	cycle = frappe.db.get_value(
		"PL Review Cycle",
		{"company": DEMO_COMPANY, "is_trial": 0, "status": ("in", ("Published", "Closed"))},
		"name",
		order_by="period_start desc",
	)
	template = cycle and frappe.db.get_value(
		"PL Appraisal", {"review_cycle": cycle, "layer": LAYER}, "template", order_by="name asc"
	)
	if not template:
		return None
	draft = scheme_versions.new_version(template)
	scheme_whatif.apply_suggested_targets(draft, cycle)
	name = scheme_whatif.create(draft, cycle)
	scheme_whatif.execute(name)
	return name


def remove_what_ifs(cycles: list[str]) -> int:
	"""Delete the what-ifs of the demo's cycles and the draft versions only they used."""
	if not cycles:
		return 0
	rows = frappe.get_all(WHAT_IF, {"review_cycle": ("in", cycles)}, ["name", "template"])
	names = [r.name for r in rows]
	for chunk_start in range(0, len(names), 500):
		chunk = names[chunk_start : chunk_start + 500]
		frappe.db.delete(WHAT_IF, {"name": ("in", chunk)})
		frappe.db.delete("Version", {"ref_doctype": WHAT_IF, "docname": ("in", chunk)})
	for template in sorted({r.template for r in rows}):
		if frappe.db.get_value(TEMPLATE, template, "version_status") != "Draft":
			continue
		if frappe.db.exists("PL Appraisal", {"template": template}) or frappe.db.exists(
			WHAT_IF, {"template": template}
		):
			continue
		for field in frappe.get_meta(TEMPLATE).get_table_fields():
			frappe.db.delete(field.options, {"parent": template, "parenttype": TEMPLATE})
		frappe.db.delete(TEMPLATE, {"name": template})
		frappe.db.delete("Version", {"ref_doctype": TEMPLATE, "docname": template})
	return len(names)
