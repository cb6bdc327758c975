// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Service Level"] = {
	filters: [
		{
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
			default: frappe.defaults.get_user_default("Company"),
		},
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_months(frappe.datetime.month_start(), -3),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.month_start(), -1),
			reqd: 1,
		},
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
