frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["PL NPL Trend"] = {
	method: "postloan_performance.api.npl_trend_chart",
	filters: [
		{
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
		},
	],
};
