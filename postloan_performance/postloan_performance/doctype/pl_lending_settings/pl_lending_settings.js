frappe.ui.form.on("PL Lending Settings", {
	refresh(frm) {
		frm.add_custom_button(__("Run now"), () => {
			frappe.call({
				method: "postloan_performance.api.run_lending_sync",
				freeze: true,
				callback: (r) => {
					if (r.message) {
						frappe.show_alert({ message: __("Lending sync queued"), indicator: "blue" });
					}
				},
			});
		});
		frappe.realtime.on("pl_lending_sync_done", () => frm.reload_doc());
	},
});
