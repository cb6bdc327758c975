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
	onload(report) {
		// team leaders and appraisees read no run: the report shows them the latest run that concerns them
		if (!frappe.model.can_read("PL Payout Run")) {
			report.get_filter("payout_run").toggle(false);
		}
	},
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		return data && data.bold ? `<b>${value}</b>` : value;
	},
};
