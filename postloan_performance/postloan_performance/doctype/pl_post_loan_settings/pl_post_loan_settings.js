// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.ui.form.on("PL Post-Loan Settings", {
	refresh(frm) {
		const jobs = {
			classification: __("Loan classification"),
			collection: __("Collection cases"),
			early_warning: __("Early warning"),
		};
		for (const [job, label] of Object.entries(jobs)) {
			frm.add_custom_button(
				label,
				() =>
					frappe
						.call({ method: "postloan_performance.api.run_post_loan_job", args: { job: job } })
						.then((r) =>
							frappe.show_alert({
								message: __("Queued: {0}", [r.message.job_id]),
								indicator: "green",
							}),
						),
				__("Run Now"),
			);
		}
	},
});
