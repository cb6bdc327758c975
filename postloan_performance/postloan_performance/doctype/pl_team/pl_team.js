// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.ui.form.on("PL Team", {
	setup(frm) {
		const by_company = () => ({ filters: { company: frm.doc.company, status: "Active" } });
		frm.set_query("team_lead", by_company);
		frm.set_query("employee", "members", by_company);
		frm.set_query("parent_pl_team", () => ({
			filters: { company: frm.doc.company, name: ["!=", frm.doc.name] },
		}));
	},
});
