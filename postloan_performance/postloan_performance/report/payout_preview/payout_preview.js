// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Payout Preview"] = {
	filters: [
		{
			fieldname: "payout_run",
			label: __("Payout Run"),
			fieldtype: "Link",
			options: "PL Payout Run",
		},
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		return data && data.bold ? `<b>${value}</b>` : value;
	},
};
