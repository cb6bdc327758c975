frappe.listview_settings["PL Appraisal"] = {
	add_fields: ["status", "final_grade", "is_trial"],
	get_indicator(doc) {
		const colors = {
			Draft: "red",
			"Self Review": "orange",
			"Manager Review": "orange",
			Calibration: "purple",
			Approved: "blue",
			Published: "green",
			Acknowledged: "green",
			Appealed: "yellow",
			Cancelled: "grey",
		};
		const label = doc.is_trial ? `${__(doc.status)} (${__("Trial")})` : __(doc.status);
		return [label, colors[doc.status] || "grey", `status,=,${doc.status}`];
	},
};
