// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["KPI Health"] = {
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
