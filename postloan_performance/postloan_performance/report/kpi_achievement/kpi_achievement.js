// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["KPI Achievement"] = {
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
		{ fieldname: "employee", label: __("Employee"), fieldtype: "Link", options: "Employee" },
		{ fieldname: "kpi", label: __("KPI"), fieldtype: "Link", options: "PL KPI" },
	],
	formatter(value, row, column, data, default_formatter) {
		if (column.fieldname === "actual" && data && data.no_data) {
			return `<span class="text-muted">${__("No data")}</span>`;
		}
		return default_formatter(value, row, column, data);
	},
};
