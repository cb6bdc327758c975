// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.ui.form.on("PL Risk Alert", {
	refresh(frm) {
		if (frm.is_new() || frm.doc.outcome !== "Pending") {
			return;
		}
		const close = (outcome) =>
			frappe.prompt(
				{ fieldname: "note", fieldtype: "Small Text", label: __("Outcome Note") },
				(values) =>
					frappe
						.call({
							method: "postloan_performance.api.close_risk_alert",
							args: { alert: frm.doc.name, outcome: outcome, note: values.note },
						})
						.then(() => frm.reload_doc()),
				__("Close Alert"),
			);
		frm.add_custom_button(__("Confirmed"), () => close("Confirmed"), __("Close Alert"));
		frm.add_custom_button(__("False Alarm"), () => close("False Alarm"), __("Close Alert"));
	},
});
