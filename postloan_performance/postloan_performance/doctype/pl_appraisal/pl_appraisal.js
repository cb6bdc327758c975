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

	before_workflow_action(frm) {
		// An appraisee reads his appraisal only in Self Review and once it is published: once he has
		// submitted his self-assessment, refreshing the form would ask the server for what he may no
		// longer read (403). Skip that refresh; after_workflow_action takes him to his list.
		if (
			frm.selected_workflow_action === "Submit Self Review" &&
			frm.doc.appraisee_user === frappe.session.user &&
			!frappe.user.has_role(["PL Performance Manager", "System Manager", "PL Executive"])
		) {
			const refresh = frm.refresh;
			frm.refresh = () => {
				frm.refresh = refresh;
			};
			frm.pl_leaves_appraisal = true;
		}
	},

	after_workflow_action(frm) {
		if (frm.pl_leaves_appraisal) {
			frm.pl_leaves_appraisal = false;
			frappe.set_route("List", "PL Appraisal");
		}
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
