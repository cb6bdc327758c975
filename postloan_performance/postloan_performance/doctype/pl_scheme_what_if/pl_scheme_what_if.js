// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.ui.form.on("PL Scheme What-If", {
	setup(frm) {
		frm.set_query("review_cycle", () => ({ filters: { status: ["!=", "Draft"] } }));
	},

	refresh(frm) {
		if (frm.is_new()) return;
		const owner = ["PL Performance Manager", "System Manager"].some((r) => frappe.user.has_role(r));
		if (owner && !["Queued", "Running"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Run What-If"), () => {
				frm.call({ method: "run_what_if", doc: frm.doc, freeze: true, freeze_message: __("Running What-If") })
					.then((r) => {
						if (r.message && r.message.status === "Queued") {
							frappe.show_alert({ message: __("What-if queued; this form updates when it is done."), indicator: "blue" });
						}
						frm.reload_doc();
					});
			});
		}
		if (frm.doc.status === "Completed") {
			frm.add_custom_button(__("Comparison Report"), () => {
				frappe.set_route("query-report", "Scheme What-If Comparison", { what_if: frm.doc.name });
			});
		}
		if (["Queued", "Running"].includes(frm.doc.status)) {
			if (frm.whatif_progress) frappe.realtime.off("progress", frm.whatif_progress);
			frm.whatif_progress = (data) => {
				if (data.doctype === frm.doctype && data.docname === frm.doc.name && data.percent >= 100) {
					frm.reload_doc();
				}
			};
			frappe.realtime.on("progress", frm.whatif_progress);
		}
	},
});
