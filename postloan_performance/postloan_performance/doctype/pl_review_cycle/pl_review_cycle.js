// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

frappe.ui.form.on("PL Review Cycle", {
	setup(frm) {
		// `teams` is a Table MultiSelect: its query is set on the field itself, not on a grid column
		frm.set_query("teams", () => ({ filters: { company: frm.doc.company, disabled: 0 } }));
		frm.set_query("template", "templates", (doc, cdt, cdn) => {
			const row = locals[cdt][cdn];
			return { filters: { layer: row.layer, disabled: 0 } };
		});
		frm.set_query("compare_with", () => ({
			filters: { company: frm.doc.company, name: ["!=", frm.doc.name] },
		}));
	},

	refresh(frm) {
		if (frm.is_new()) return;
		if (frm.doc.is_trial) {
			frm.dashboard.set_headline_alert(
				__("Trial run: results are never published as official results."),
				"orange"
			);
		}
		const manager =
			frappe.user.has_role("PL Performance Manager") || frappe.user.has_role("System Manager");
		if (!manager) return;

		// each step is a method of the PL Review Cycle document
		const step = (label, name, group, confirm_text) => {
			frm.add_custom_button(
				label,
				() => {
					const run = () =>
						frm.call({
							method: name,
							doc: frm.doc,
							freeze: true,
							freeze_message: label,
							callback: (r) => {
								if (r.message && r.message.queued) return;
								frm.reload_doc();
							},
						});
					confirm_text ? frappe.confirm(confirm_text, run) : run();
				},
				group
			);
		};
		const steps = __("Steps");
		const status = frm.doc.status;
		if (status === "Draft") step(__("Open Cycle"), "open_cycle", steps);
		if (status === "Open") {
			step(__("Create Appraisals"), "create_appraisals", steps);
			step(__("Start Self Review"), "start_self_review", steps);
			step(__("Compute"), "compute_kpis", steps);
			step(__("Start Scoring"), "start_scoring", steps);
		}
		if (status === "Scoring") {
			step(__("Compute"), "compute_kpis", steps);
			step(__("Start Calibration"), "start_calibration", steps);
		}
		if (["Open", "Scoring"].includes(status)) {
			// 360 requests: one draft feedback, ToDo and notice per reviewer (safe to press again)
			frm.add_custom_button(
				__("Request 360 Feedback"),
				() =>
					frappe.call({
						method: "postloan_performance.api.request_feedback",
						args: { cycle: frm.doc.name },
						freeze: true,
						freeze_message: __("Request 360 Feedback"),
						callback: (r) => {
							const created = (r.message && r.message.created) || 0;
							frappe.show_alert({
								message: __("{0} feedback requests sent.", [created]),
								indicator: "green",
							});
							frm.reload_doc();
						},
					}),
				steps
			);
		}
		if (status === "Calibration") {
			step(__("Approve All"), "approve_all", steps);
			step(
				__("Publish"),
				"publish_cycle",
				steps,
				frm.doc.is_trial
					? __("A trial cycle publishes nothing to employees. Close the trial?")
					: __("Publish every approved appraisal to its appraisee?")
			);
			frm.add_custom_button(__("Calibration View"), () => show_calibration(frm));
		}
		if (status === "Published") step(__("Close Cycle"), "close_cycle", steps);
		frm.add_custom_button(__("Appraisals"), () =>
			frappe.set_route("List", "PL Appraisal", { review_cycle: frm.doc.name })
		);
	},
});

function show_calibration(frm) {
	frappe.call({
		method: "postloan_performance.api.calibration_view",
		args: { cycle: frm.doc.name },
		callback: (r) => {
			const rows = (r.message || [])
				.map(
					(d) =>
						`<tr><td>${__(d.layer)}</td><td>${d.grade}</td><td>${d.target_share}%</td>` +
						`<td>${d.actual_count}</td><td>${flt(d.actual_share, 1)}%</td>` +
						`<td>${flt(d.deviation, 1)}</td></tr>`
				)
				.join("");
			frappe.msgprint({
				title: __("Calibration View"),
				message: `<table class="table table-bordered"><thead><tr><th>${__("Layer")}</th>
					<th>${__("Grade")}</th><th>${__("Target Share")}</th><th>${__("Count")}</th>
					<th>${__("Actual Share")}</th><th>${__("Deviation (points)")}</th></tr></thead>
					<tbody>${rows}</tbody></table>`,
				wide: true,
			});
		},
	});
}
