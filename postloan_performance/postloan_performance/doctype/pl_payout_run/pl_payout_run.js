// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.ui.form.on("PL Payout Run", {
	setup(frm) {
		frm.set_query("review_cycle", () => ({
			filters: { is_trial: 0, status: ["in", ["Published", "Closed"]] },
		}));
	},

	refresh(frm) {
		if (frm.is_new()) return;
		const has = (...roles) => roles.some((role) => frappe.user.has_role(role));
		const owner = has("PL Performance Manager", "System Manager");
		const hr = has("HR Manager", "System Manager");
		const step = (label, name, confirm_text) => {
			frm.add_custom_button(label, () => {
				const run = () =>
					frappe.call({
						method: "postloan_performance.api.payout_step",
						args: { run: frm.doc.name, step: name },
						freeze: true,
						freeze_message: label,
						callback: (r) => {
							if (r.message && r.message.queued) return;
							frm.reload_doc();
						},
					});
				if (confirm_text) frappe.confirm(confirm_text, run);
				else run();
			});
		};
		const status = frm.doc.status;
		if (owner && ["Draft", "Prepared"].includes(status)) step(__("Prepare"), "prepare");
		if (hr && ["Prepared", "Confirmed"].includes(status)) {
			step(
				__("Confirm"),
				"confirm",
				__("Create draft Additional Salary for every person of this run?")
			);
		}
		if ((owner || hr) && status !== "Cancelled" && status !== "Draft") {
			step(__("Cancel Run"), "cancel", __("Cancel this run and delete its draft Additional Salary?"));
		}
		if (status !== "Draft") {
			frm.add_custom_button(__("Payout Preview"), () =>
				frappe.set_route("query-report", "Payout Preview", { payout_run: frm.doc.name })
			);
			if (owner || hr) {
				for (const format of ["xlsx", "csv"]) {
					frm.add_custom_button(
						format.toUpperCase(),
						() =>
							window.open(
								`/api/method/postloan_performance.api.export_payout?run=${encodeURIComponent(
									frm.doc.name
								)}&file_format=${format}`
							),
						__("Export")
					);
				}
			}
		}
	},
});
