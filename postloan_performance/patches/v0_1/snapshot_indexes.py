"""Covering indexes on PL Loan Snapshot for sites installed before they existed.

Frappe adds a DocType's indexes (``on_doctype_update``) only when the DocType is synced, so existing
sites get them here; the (as_of_date, loan) index they replace is dropped (it is a prefix of the new
month-end index). On a large table this rebuilds two indexes: minutes for millions of rows.
"""

import frappe

from postloan_performance.postloan_performance.doctype.pl_loan_snapshot.pl_loan_snapshot import (
	on_doctype_update,
)

REPLACED_INDEX = "as_of_date_loan_index"


def execute():
	on_doctype_update()
	if frappe.db.db_type == "mariadb" and frappe.db.has_index("tabPL Loan Snapshot", REPLACED_INDEX):
		frappe.db.sql_ddl(f"alter table `tabPL Loan Snapshot` drop index `{REPLACED_INDEX}`")
