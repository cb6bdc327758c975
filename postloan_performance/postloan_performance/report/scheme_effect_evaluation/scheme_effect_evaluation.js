// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Scheme Effect Evaluation"] = {
	filters: [
		{
			fieldname: "review_cycle",
			label: __("Review Cycle"),
			fieldtype: "Link",
			options: "PL Review Cycle",
			reqd: 1,
		},
		{
			fieldname: "compare_cycle",
			label: __("Compare with Cycle"),
			fieldtype: "Link",
			options: "PL Review Cycle",
			description: __("Optional: compare the KPI actuals of another cycle, e.g. the trial run"),
		},
	],
	onload(report) {
		const ready = pl_set_latest_review_cycle(report);
		// the metric values are stored per cycle; recompute them in the background on demand
		report.page.add_inner_button(__("Recompute Metric Values"), () => {
			const cycle = report.get_filter_value("review_cycle");
			if (!cycle) {
				frappe.msgprint(__("Select a review cycle first."));
				return;
			}
			frappe.call({
				method: "postloan_performance.api.refresh_scheme_evaluation",
				args: { cycle },
				freeze: true,
			});
		});
		return ready;
	},
	formatter(value, row, column, data, default_formatter) {
		const formatted = default_formatter(value, row, column, data);
		if (column.fieldname === "delta" && data && data.trend_code) {
			const colour = { Improved: "green", Worsened: "red" }[data.trend_code];
			return colour ? `<span style="color: var(--${colour}-600)">${formatted}</span>` : formatted;
		}
		return formatted;
	},
};

// A required Review Cycle filter opens on the latest cycle the user may see (unless the route set one).
function pl_set_latest_review_cycle(report) {
	if (report.get_filter_value("review_cycle")) return;
	return frappe.xcall("postloan_performance.api.latest_review_cycle").then((cycle) => {
		// set_input shows the value without a change event: the report then runs once, with it
		if (cycle) report.get_filter("review_cycle").set_input(cycle);
	});
}
