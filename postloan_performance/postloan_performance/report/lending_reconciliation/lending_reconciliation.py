# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

import frappe

from postloan_performance.services.reports.lending_reconciliation import get_data


@frappe.read_only()
def execute(filters=None):
	result = get_data(frappe._dict(filters or {}))
	return result["columns"], result["data"], result["message"]
