// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Collector Performance"] = {
	filters: [
		postloan_performance.report.company(),
		...postloan_performance.report.closed_months(3),
		postloan_performance.report.team(),
		{ fieldname: "collector", label: __("Collector"), fieldtype: "Link", options: "Employee" },
	],
};
