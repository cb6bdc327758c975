// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

// The filters and set-up that several of the app's script reports share, in one place. Loaded on every
// desk page (hooks.app_include_js) so that a report's own JS, evaluated later, can use them.
frappe.provide("postloan_performance.report");

Object.assign(postloan_performance.report, {
	company() {
		return {
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
			default: frappe.defaults.get_user_default("Company"),
		};
	},

	// From the first day `months` months back to the last day of the previous month (closed months).
	closed_months(months = 3) {
		const month_start = frappe.datetime.month_start();
		return [
			{
				fieldname: "from_date",
				label: __("From Date"),
				fieldtype: "Date",
				default: frappe.datetime.add_months(month_start, -months),
				reqd: 1,
			},
			{
				fieldname: "to_date",
				label: __("To Date"),
				fieldtype: "Date",
				default: frappe.datetime.add_days(month_start, -1),
				reqd: 1,
			},
		];
	},

	review_cycle() {
		return {
			fieldname: "review_cycle",
			label: __("Review Cycle"),
			fieldtype: "Link",
			options: "PL Review Cycle",
			reqd: 1,
		};
	},

	layer() {
		return {
			fieldname: "layer",
			label: __("Layer"),
			fieldtype: "Select",
			options: ["", "Management", "Collection", "Risk Control", "Customer Service"],
		};
	},

	team() {
		return { fieldname: "pl_team", label: __("Team"), fieldtype: "Link", options: "PL Team" };
	},

	// A required Review Cycle filter opens on the latest cycle the user may see (unless the route set one).
	set_latest_review_cycle(report) {
		if (report.get_filter_value("review_cycle")) return;
		return frappe.xcall("postloan_performance.api.latest_review_cycle").then((cycle) => {
			// set_input shows the value without a change event: the report then runs once, with it
			if (cycle) report.get_filter("review_cycle").set_input(cycle);
		});
	},
});
