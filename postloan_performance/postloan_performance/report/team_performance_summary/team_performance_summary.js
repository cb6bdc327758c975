// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Team Performance Summary"] = {
	filters: [
		postloan_performance.report.company(),
		{
			fieldname: "review_cycle",
			label: __("Review Cycle"),
			fieldtype: "Link",
			options: "PL Review Cycle",
			description: __("Empty: the last four cycles with results"),
			get_query() {
				const company = frappe.query_report.get_filter_value("company");
				return { filters: company ? { company } : {} };
			},
		},
		postloan_performance.report.layer(),
		{
			fieldname: "include_trial",
			label: __("Include Trial Cycles"),
			fieldtype: "Check",
			default: 0,
		},
	],
};
