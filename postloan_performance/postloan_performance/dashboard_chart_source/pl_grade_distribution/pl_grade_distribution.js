frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["PL Grade Distribution"] = {
	method: "postloan_performance.api.grade_distribution_chart",
	filters: [
		{
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
		},
	],
};
