// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Portfolio Quality Trend"] = {
	filters: [
		postloan_performance.report.company(),
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_months(frappe.datetime.month_start(), -12),
		},
		{
			fieldname: "to_date",
			label: __("To Date"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
		},
		{
			fieldname: "managing_team",
			label: __("Managing Team"),
			fieldtype: "Link",
			options: "PL Team",
			description: __("Includes its sub-teams"),
		},
		{ fieldname: "product", label: __("Product"), fieldtype: "Data" },
		{
			fieldname: "go_live_date",
			label: __("Scheme Go-Live"),
			fieldtype: "Date",
			description: __("Empty: the start of the first formal review cycle"),
		},
	],
};
