// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Appraisal Results and Grade Distribution"] = {
	filters: [
		postloan_performance.report.review_cycle(),
		postloan_performance.report.layer(),
		postloan_performance.report.team(),
		{
			fieldname: "chart",
			label: __("Chart"),
			fieldtype: "Select",
			options: ["Grade Shares", "Score Histogram"],
			default: "Grade Shares",
		},
	],
	onload(report) {
		return postloan_performance.report.set_latest_review_cycle(report);
	},
};
