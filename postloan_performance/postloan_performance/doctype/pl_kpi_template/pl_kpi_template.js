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
		const owner = ["PL Performance Manager", "System Manager"].some((r) => frappe.user.has_role(r));
		const cycle_field = [
			{
				fieldname: "review_cycle",
				fieldtype: "Link",
				label: __("Review Cycle"),
				options: "PL Review Cycle",
				reqd: 1,
				get_query: () => ({ filters: { status: ["!=", "Draft"] } }),
			},
		];
		if (owner) frm.add_custom_button(__("What-If…"), () => {
			frappe.prompt(
				cycle_field,
				(values) => {
					frm.call({
						method: "what_if",
						doc: frm.doc,
						args: values,
						freeze: true,
						freeze_message: __("Running What-If"),
					}).then((r) => {
						if (!r.message) return;
						if (r.message.status === "Queued") {
							frappe.show_alert({
								message: __("What-if queued; its form shows the progress."),
								indicator: "blue",
							});
							frappe.set_route("Form", "PL Scheme What-If", r.message.name);
						} else {
							frappe.set_route("query-report", "Scheme What-If Comparison", { what_if: r.message.name });
						}
					});
				},
				__("What-If: Score a Past Cycle with This Version"),
				__("Run")
			);
		}, __("Versions"));
		if (owner || frappe.user.has_role("PL Executive")) frm.add_custom_button(__("What-If Runs"), () => {
			frappe.set_route("List", "PL Scheme What-If", { template: frm.doc.name });
		}, __("Versions"));
		if (owner && frm.doc.version_status === "Draft") {
			frm.add_custom_button(__("Apply KPI Health Targets…"), () => {
				frappe.prompt(
					cycle_field,
					(values) => {
						frm.call({ method: "apply_suggested_targets", doc: frm.doc, args: values }).then((r) => {
							const changed = (r.message && r.message.changed) || [];
							frappe.show_alert({
								message: __("{0} targets changed", [changed.length]),
								indicator: changed.length ? "green" : "orange",
							});
							frm.reload_doc();
						});
					},
					__("Apply KPI Health's Suggested Targets"),
					__("Apply")
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
