// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Appraisal Results and Grade Distribution"] = {
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
		{
			fieldname: "chart",
			label: __("Chart"),
			fieldtype: "Select",
			options: ["Grade Shares", "Score Histogram"],
			default: "Grade Shares",
		},
	],
};
