// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Service Level"] = {
	filters: [
		postloan_performance.report.company(),
		...postloan_performance.report.closed_months(3),
		{ fieldname: "agent", label: __("Agent"), fieldtype: "Link", options: "Employee" },
		{
			fieldname: "channel",
			label: __("Channel"),
			fieldtype: "Select",
			options: [
				{ value: "", label: "" },
				{ value: "Phone", label: __("Phone") },
				{ value: "App", label: __("App") },
				{ value: "WeChat", label: __("WeChat") },
				{ value: "Branch", label: __("Branch") },
				{ value: "Email", label: __("Email") },
			],
		},
		{
			fieldname: "group_by",
			label: __("Group By"),
			fieldtype: "Select",
			options: [
				{ value: "Agent", label: __("Agent") },
				{ value: "Channel", label: __("Channel") },
			],
			default: "Agent",
		},
	],
};
