frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["PL KPI Achievement"] = {
	method: "postloan_performance.api.kpi_achievement_chart",
	filters: [
		{
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
		},
	],
};
