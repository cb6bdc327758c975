// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

// The list is the history of imports: who (owner), when, which file, the counts and the result.
frappe.listview_settings["PL Data Import"] = {
	add_fields: ["status", "inserted_rows", "rejected_rows"],
	get_indicator(doc) {
		const colors = {
			Draft: "gray",
			Checked: "blue",
			Refused: "red",
			Queued: "orange",
			Importing: "orange",
			Imported: "green",
			Failed: "red",
		};
		return [__(doc.status), colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
