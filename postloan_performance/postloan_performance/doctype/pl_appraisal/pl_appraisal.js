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
		// An appeal needs its reason: Appeal opens a new PL Appeal of this appraisal, whose filing moves
		// the appraisal to Appealed. The workflow action itself is not sent (the server would refuse it
		// without an open appeal).
		if (frm.selected_workflow_action === "Appeal") {
			frappe.dom.unfreeze();
			frm.selected_workflow_action = null;
			pl_new_appeal(frm);
			return new Promise(() => {});
		}
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
		const calibrator =
			frappe.user.has_role("PL Performance Manager") || frappe.user.has_role("System Manager");
		if (calibrator && frm.doc.status === "Calibration" && frm.doc.template) {
			// grades are calibrated once the cycle is in Calibration (the server refuses before): an
			// appraisal reaches Calibration when its manager review is done, often while the cycle scores
			frappe.db.get_value("PL Review Cycle", frm.doc.review_cycle, "status").then((r) => {
				const cycle_status = r.message && r.message.status;
				if (cycle_status === "Calibration" && frm.doc.status === "Calibration") {
					frm.add_custom_button(__("Override Grade"), () => pl_override_grade(frm));
				}
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

// A new appeal of this appraisal, filled from it (the server sets the same values again on saving).
// Not through route options: on load the desk would check each link the appraisal fetched, Employee
// among them, which an appraisee may not read (a permission error before he has typed anything).
function pl_new_appeal(frm) {
	frappe.model.with_doctype("PL Appeal", () => {
		const appeal = frappe.model.get_new_doc("PL Appeal");
		Object.assign(appeal, {
			appraisal: frm.doc.name,
			employee: frm.doc.employee,
			employee_name: frm.doc.employee_name,
			appraisee_user: frm.doc.appraisee_user,
			pl_team: frm.doc.pl_team,
			review_cycle: frm.doc.review_cycle,
			original_score: frm.doc.total_score,
			// as Frappe's own copies do: the values are known, no link is checked again on load
			__run_link_triggers: false,
		});
		frappe.set_route("Form", "PL Appeal", appeal.name);
	});
}

// Calibration: the scheme owner sets the final grade by hand, with the reason (kept on the appraisal).
function pl_override_grade(frm) {
	frappe.model.with_doc("PL KPI Template", frm.doc.template).then((template) => {
		const grades = (template.grade_bands || []).map((b) => b.grade);
		const dialog = new frappe.ui.Dialog({
			title: __("Override Grade"),
			fields: [
				{
					fieldname: "grade",
					fieldtype: "Select",
					label: __("Grade"),
					options: grades.join("\n"),
					default: frm.doc.final_grade,
					reqd: 1,
				},
				{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: 1 },
			],
			primary_action_label: __("Override Grade"),
			primary_action(values) {
				frappe.call({
					method: "postloan_performance.api.override_grade",
					args: { appraisal: frm.doc.name, grade: values.grade, reason: values.reason },
					freeze: true,
					callback: () => {
						dialog.hide();
						frm.reload_doc();
					},
				});
			},
		});
		dialog.show();
	});
}

frappe.ui.form.on("PL Appraisal KPI", {
	// A Manual line starts with No Data ticked (nothing typed yet): typing its value means there is data,
	// or the value would be saved but left out of the score.
	actual(frm, cdt, cdn) {
		const row = locals[cdt][cdn];
		if (row.method === "Manual" && row.no_data) {
			frappe.model.set_value(cdt, cdn, "no_data", 0);
		}
	},
});
