"""Lending Reconciliation: per month-end, Frappe Lending's own totals against the app's snapshots.

Lending's side is computed here from its tables (loans disbursed by the date, principal less principal
repaid by submitted repayments, the last Days Past Due Log on or before the date), independently of the
connector's SQL; the app's side is read from PL Loan Snapshot for the loans that exist in Lending.
"""

from __future__ import annotations

import pandas as pd

import frappe
from frappe import _
from frappe.utils import getdate, today

from postloan_performance.services import access
from postloan_performance.services.lending import is_active
from postloan_performance.services.lending.sync import month_ends

ROLES = ("PL Post-Loan Officer", "PL Performance Manager", "System Manager")


def _columns() -> list[dict]:
	columns = [{"fieldname": "month_end", "label": _("Month End"), "fieldtype": "Date", "width": 110}]
	for key, label, fieldtype in (
		("loans", _("Loans"), "Int"),
		("outstanding", _("Outstanding"), "Currency"),
		("dpd_loans", _("Loans with DPD > 0"), "Int"),
	):
		columns += [
			{"fieldname": f"lending_{key}", "label": _("Lending: {0}").format(label), "fieldtype": fieldtype},
			{"fieldname": f"app_{key}", "label": _("App: {0}").format(label), "fieldtype": fieldtype},
			{"fieldname": f"diff_{key}", "label": _("Difference: {0}").format(label), "fieldtype": fieldtype},
		]
	return columns


def lending_totals(days) -> pd.DataFrame:
	loans = pd.DataFrame(
		frappe.db.sql(
			"""select name, disbursement_date, coalesce(nullif(disbursed_amount, 0), loan_amount) principal
			from `tabLoan` where docstatus = 1 and disbursement_date is not null""",
		),
		columns=["name", "disbursement_date", "principal"],
	)
	paid = pd.DataFrame(
		frappe.db.sql(
			"""select against_loan loan, date(posting_date) day, principal_amount_paid paid
			from `tabLoan Repayment` where docstatus = 1""",
		),
		columns=["loan", "day", "paid"],
	)
	logs = pd.DataFrame(
		frappe.db.sql(
			"select loan, posting_date day, days_past_due dpd, creation from `tabDays Past Due Log`",
		),
		columns=["loan", "day", "dpd", "creation"],
	).sort_values(["day", "creation"])
	rows = []
	for day in days:
		book = loans[loans["disbursement_date"] <= day]
		repaid = paid[(paid["day"] <= day) & paid["loan"].isin(book["name"])].groupby("loan")["paid"].sum()
		outstanding = (
			book.set_index("name")["principal"]
			.astype(float)
			.sub(repaid.astype(float), fill_value=0)
			.clip(lower=0)
		)
		last = logs[(logs["day"] <= day) & logs["loan"].isin(book["name"])].groupby("loan")["dpd"].last()
		rows.append(
			{
				"month_end": day,
				"lending_loans": len(book),
				"lending_outstanding": round(float(outstanding.sum()), 2),
				"lending_dpd_loans": int((last > 0).sum()),
			}
		)
	return pd.DataFrame(rows)


def get_data(filters) -> dict:
	access.require_roles(*ROLES)
	columns = _columns()
	if not is_active():
		return {
			"columns": columns,
			"data": [],
			"message": _("The Lending app is not installed on this site."),
		}
	first = frappe.db.sql("select min(disbursement_date) from `tabLoan` where docstatus = 1")[0][0]
	start = max(getdate(filters.get("from_date") or first or today()), getdate(first or today()))
	end = min(getdate(filters.get("to_date") or today()), getdate(today()))
	days = month_ends(start, end) if start <= end else []
	if not days:
		return {"columns": columns, "data": [], "message": None}
	ours = frappe.db.sql(
		"""select s.as_of_date, count(*), sum(s.outstanding), sum(s.dpd > 0)
		from `tabPL Loan Snapshot` s join `tabLoan` l on l.name = s.loan and l.docstatus = 1
		where s.as_of_date in %(days)s group by s.as_of_date""",
		{"days": tuple(days)},
	)
	app = {row[0]: row[1:] for row in ours}
	data = []
	for row in lending_totals(days).to_dict("records"):
		loans, outstanding, dpd_loans = app.get(row["month_end"], (0, 0, 0))
		row.update(
			{
				"app_loans": int(loans),
				"app_outstanding": round(float(outstanding or 0), 2),
				"app_dpd_loans": int(dpd_loans or 0),
			}
		)
		for key in ("loans", "outstanding", "dpd_loans"):
			row[f"diff_{key}"] = round(row[f"app_{key}"] - row[f"lending_{key}"], 2)
		data.append(row)
	return {"columns": columns, "data": data, "message": None}
