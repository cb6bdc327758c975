// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.query_reports["Scheme Effect Evaluation"] = {
	filters: [
		postloan_performance.report.review_cycle(),
		{
			fieldname: "compare_cycle",
			label: __("Compare with Cycle"),
			fieldtype: "Link",
			options: "PL Review Cycle",
			description: __("Optional: compare the KPI actuals of another cycle, e.g. the trial run"),
		},
	],
	onload(report) {
		const ready = postloan_performance.report.set_latest_review_cycle(report);
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
