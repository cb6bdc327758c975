// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Scheme Satisfaction"] = {
	filters: [
		postloan_performance.report.review_cycle(),
		postloan_performance.report.team(),
	],
	onload(report) {
		return postloan_performance.report.set_latest_review_cycle(report);
	},
};
