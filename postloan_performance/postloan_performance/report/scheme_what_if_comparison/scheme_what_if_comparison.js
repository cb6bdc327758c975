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
				{ value: "Payout", label: __("Payout") },
			],
			default: "Distribution",
		},
		{
			// read by the Payout view only; empty: the plan a payout of the cycle would use (no depends_on:
			// hiding it made the page refresh before the route had set the what-if)
			fieldname: "incentive_plan",
			label: __("Incentive Plan"),
			fieldtype: "Link",
			options: "PL Incentive Plan",
		},
	],
	// opens on the latest completed what-if the user may read (unless the route set one)
	onload(report) {
		if (report.get_filter_value("what_if")) return;
		return frappe.db
			.get_list("PL Scheme What-If", {
				filters: { status: "Completed" },
				fields: ["name"],
				order_by: "modified desc",
				limit: 1,
			})
			.then((rows) => {
				if (rows.length) report.get_filter("what_if").set_input(rows[0].name);
			});
	},
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		return data && data.bold ? `<b>${value}</b>` : value;
	},
};
