// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.ui.form.on("PL Review Cycle", {
	setup(frm) {
		frm.set_query("pl_team", "teams", () => ({ filters: { company: frm.doc.company, disabled: 0 } }));
		frm.set_query("template", "templates", (doc, cdt, cdn) => {
			const row = locals[cdt][cdn];
			return { filters: { layer: row.layer, disabled: 0 } };
		});
		frm.set_query("compare_with", () => ({
			filters: { company: frm.doc.company, name: ["!=", frm.doc.name] },
		}));
	},
});
