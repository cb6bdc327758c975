frappe.treeview_settings["PL Team"] = {
	breadcrumb: __("Post-Loan Performance"),
	title: __("Teams"),
	get_tree_root: false,
	root_label: __("All Teams"),
	get_tree_nodes: "frappe.desk.treeview.get_children",
	filters: [
		{
			fieldname: "company",
			fieldtype: "Link",
			options: "Company",
			label: __("Company"),
		},
	],
	fields: [
		{ fieldtype: "Data", fieldname: "team_name", label: __("Team Name"), reqd: true },
		{
			fieldtype: "Select",
			fieldname: "layer",
			label: __("Layer"),
			options: ["Management", "Collection", "Risk Control", "Customer Service"],
			reqd: true,
		},
		{ fieldtype: "Check", fieldname: "is_group", label: __("Is Group") },
	],
	ignore_fields: ["parent_pl_team"],
};
