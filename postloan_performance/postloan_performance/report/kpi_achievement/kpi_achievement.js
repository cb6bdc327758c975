// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["KPI Achievement"] = {
	filters: [
		postloan_performance.report.review_cycle(),
		postloan_performance.report.layer(),
		postloan_performance.report.team(),
		{ fieldname: "employee", label: __("Employee"), fieldtype: "Link", options: "Employee" },
		{ fieldname: "kpi", label: __("KPI"), fieldtype: "Link", options: "PL KPI" },
	],
	onload(report) {
		return postloan_performance.report.set_latest_review_cycle(report);
	},
	formatter(value, row, column, data, default_formatter) {
		if (column.fieldname === "actual" && data && data.no_data) {
			return `<span class="text-muted">${__("No data")}</span>`;
		}
		return default_formatter(value, row, column, data);
	},
};
