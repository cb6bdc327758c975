// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["KPI Achievement"] = {
	filters: [
		{
			fieldname: "review_cycle",
			label: __("Review Cycle"),
			fieldtype: "Link",
			options: "PL Review Cycle",
			reqd: 1,
		},
		{
			fieldname: "layer",
			label: __("Layer"),
			fieldtype: "Select",
			options: ["", "Management", "Collection", "Risk Control", "Customer Service"],
		},
		{ fieldname: "pl_team", label: __("Team"), fieldtype: "Link", options: "PL Team" },
		{ fieldname: "employee", label: __("Employee"), fieldtype: "Link", options: "Employee" },
		{ fieldname: "kpi", label: __("KPI"), fieldtype: "Link", options: "PL KPI" },
	],
	onload(report) {
		return pl_set_latest_review_cycle(report);
	},
	formatter(value, row, column, data, default_formatter) {
		if (column.fieldname === "actual" && data && data.no_data) {
			return `<span class="text-muted">${__("No data")}</span>`;
		}
		return default_formatter(value, row, column, data);
	},
};

// A required Review Cycle filter opens on the latest cycle the user may see (unless the route set one).
function pl_set_latest_review_cycle(report) {
	if (report.get_filter_value("review_cycle")) return;
	return frappe.xcall("postloan_performance.api.latest_review_cycle").then((cycle) => {
		// set_input shows the value without a change event: the report then runs once, with it
		if (cycle) report.get_filter("review_cycle").set_input(cycle);
	});
}
