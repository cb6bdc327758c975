// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Appraisal Results and Grade Distribution"] = {
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
		{
			fieldname: "chart",
			label: __("Chart"),
			fieldtype: "Select",
			options: ["Grade Shares", "Score Histogram"],
			default: "Grade Shares",
		},
	],
	onload(report) {
		return pl_set_latest_review_cycle(report);
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
