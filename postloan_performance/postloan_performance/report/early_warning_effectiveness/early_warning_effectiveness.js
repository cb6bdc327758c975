// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Early Warning Effectiveness"] = {
	filters: [
		postloan_performance.report.company(),
		...postloan_performance.report.closed_months(3),
		{ fieldname: "rule", label: __("Rule"), fieldtype: "Data" },
		{ fieldname: "officer", label: __("Officer"), fieldtype: "Link", options: "Employee" },
		{
			fieldname: "group_by",
			label: __("Group By"),
			fieldtype: "Select",
			options: [
				{ value: "Rule", label: __("Rule") },
				{ value: "Officer", label: __("Officer") },
			],
			default: "Rule",
		},
	],
};
