// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.ui.form.on("PL KPI Template", {
	refresh(frm) {
		if (frm.is_new()) return;
		frm.add_custom_button(__("New Version"), () => {
			frm.call("new_version").then((r) => {
				if (r.message) frappe.set_route("Form", "PL KPI Template", r.message);
			});
		}, __("Versions"));
		if (frm.doc.version_status === "Draft") {
			frm.add_custom_button(__("Adopt"), () => {
				frappe.prompt(
					[
						{ fieldname: "effective_from", fieldtype: "Date", label: __("Effective From"), reqd: 1 },
						{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: 1 },
					],
					(values) => {
						frm.call("adopt_version", values).then(() => frm.reload_doc());
					},
					__("Adopt Version"),
					__("Adopt")
				);
			}, __("Versions"));
		}
		if (frm.doc.previous_version) {
			frm.call("version_diff").then((r) => {
				frm.get_field("version_diff_html").$wrapper.html((r.message && r.message.html) || "");
			});
		}
	},
});
