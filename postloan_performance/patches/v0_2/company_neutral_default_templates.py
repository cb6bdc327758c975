"""Default templates installed on a site whose setup wizard was done took the site's default company
(Frappe fills an empty Link with the user's default). They are meant for every company: clear the
company of the standard templates that nobody has edited since they were installed."""

import frappe


def execute():
	default_company = frappe.defaults.get_global_default("company")
	if not default_company:
		return
	names = frappe.get_all(
		"PL KPI Template",
		filters={"is_standard": 1, "company": default_company},
		fields=["name", "creation", "modified"],
	)
	untouched = [t.name for t in names if t.modified == t.creation]
	if untouched:
		frappe.db.set_value(
			"PL KPI Template", {"name": ("in", untouched)}, "company", None, update_modified=False
		)
		print(f"PL KPI Template: company cleared on {', '.join(untouched)} (they serve every company)")
