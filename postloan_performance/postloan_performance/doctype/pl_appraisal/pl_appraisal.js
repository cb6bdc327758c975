// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.ui.form.on("PL Appraisal", {
	setup(frm) {
		frm.set_query("employee", () => ({
			filters: { company: frm.doc.company, status: "Active" },
		}));
		frm.set_query("template", () => ({ filters: { layer: frm.doc.layer, disabled: 0 } }));
		frm.set_query("pl_team", () => ({ filters: { company: frm.doc.company, disabled: 0 } }));
	},

	refresh(frm) {
		const can_compute =
			frm.doc.docstatus === 0 &&
			!frm.is_new() &&
			(frappe.user.has_role("PL Performance Manager") || frappe.user.has_role("System Manager"));
		if (can_compute) {
			frm.add_custom_button(__("Recompute KPIs"), () => {
				frappe.call({
					method: "postloan_performance.api.compute_appraisal",
					args: { appraisal: frm.doc.name },
					freeze: true,
					freeze_message: __("Computing KPIs"),
					callback: () => frm.reload_doc(),
				});
			});
		}
		if (frm.doc.is_trial) {
			frm.dashboard.set_headline_alert(
				__("Trial run: this appraisal never counts as an official result."),
				"orange"
			);
		}
	},
});
