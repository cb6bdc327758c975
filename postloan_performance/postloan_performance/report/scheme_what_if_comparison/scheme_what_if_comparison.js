// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Scheme What-If Comparison"] = {
	filters: [
		{
			fieldname: "what_if",
			label: __("What-If"),
			fieldtype: "Link",
			options: "PL Scheme What-If",
			reqd: 1,
		},
		{
			fieldname: "view",
			label: __("View"),
			fieldtype: "Select",
			options: [
				{ value: "Distribution", label: __("Distribution") },
				{ value: "Grade Moves", label: __("Grade Moves") },
				{ value: "KPIs", label: __("KPIs") },
			],
			default: "Distribution",
		},
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		return data && data.bold ? `<b>${value}</b>` : value;
	},
};
