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
});
