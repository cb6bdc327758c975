"""What the demo made: its scope, row counts and checksum."""

from __future__ import annotations

import hashlib

import frappe

from postloan_performance.engine.row_rules import SPECS
from postloan_performance.services.demo.plan import DEMO_COMPANY, USER_DOMAIN

# ---------------------------------------------------------------- what the demo made
POST_LOAN_DOCTYPES = tuple(SPECS)  # the DocTypes of post-loan data: those the importer loads


class _Scope:
	"""The names of everything that belongs to the demo, read from the database (a few queries)."""

	def __init__(self):
		company = DEMO_COMPANY
		self.employees = frappe.get_all("Employee", {"company": company}, pluck="name")
		self.teams = frappe.get_all("PL Team", {"company": company}, pluck="name")
		self.loans = frappe.get_all("PL Loan", {"company": company}, pluck="name")
		self.cycles = frappe.get_all("PL Review Cycle", {"company": company}, pluck="name")
		self.appraisals = self._any("PL Appraisal", company=[company], review_cycle=self.cycles)
		self.feedback = self._any("PL Feedback", appraisal=self.appraisals, review_cycle=self.cycles)
		self.appeals = self._any("PL Appeal", appraisal=self.appraisals)
		self.surveys = self._any(
			"PL Satisfaction Survey", review_cycle=self.cycles, respondent=self.employees
		)
		self.briefings = frappe.get_all("PL Scheme Briefing", {"company": company}, pluck="name")
		self.plans = frappe.get_all("PL Incentive Plan", {"company": company}, pluck="name")
		self.payouts = frappe.get_all("PL Payout Run", {"company": company}, pluck="name")
		self.cases = self._any(
			"PL Collection Case", loan=self.loans, pl_team=self.teams, collector=self.employees
		)
		self.tickets = self._any("PL Service Ticket", loan=self.loans, agent=self.employees)
		self.users = frappe.get_all("User", {"name": ("like", f"%@{USER_DOMAIN}")}, pluck="name")

	@staticmethod
	def _any(doctype: str, **columns: list[str]) -> list[str]:
		"""Names of rows whose column is one of the given values, for any of the columns."""
		found: set[str] = set()
		for column, values in columns.items():
			for chunk in _chunks(values):
				found.update(frappe.get_all(doctype, {column: ("in", chunk)}, pluck="name"))
		return sorted(found)


def _chunks(values: list, size: int = 1000):
	values = list(values)
	for start in range(0, len(values), size):
		yield values[start : start + size]


def _delete(doctype: str, column: str, values: list) -> int:
	deleted = 0
	for chunk in _chunks(values):
		deleted += frappe.db.count(doctype, {column: ("in", chunk)})
		frappe.db.delete(doctype, {column: ("in", chunk)})
	return deleted


def demo_counts() -> dict[str, int]:
	"""Rows that belong to the demo, per DocType (users and employees included)."""
	scope = _Scope()
	counts = {
		"Employee": len(scope.employees),
		"User": len(scope.users),
		"PL Team": len(scope.teams),
		"PL Review Cycle": len(scope.cycles),
		"PL Appraisal": len(scope.appraisals),
		"PL Feedback": len(scope.feedback),
		"PL Appeal": len(scope.appeals),
		"PL Satisfaction Survey": len(scope.surveys),
		"PL Scheme Briefing": len(scope.briefings),
		"PL Incentive Plan": len(scope.plans),
		"PL Payout Run": len(scope.payouts),
		"PL Loan": len(scope.loans),
		"PL Collection Case": len(scope.cases),
		"PL Service Ticket": len(scope.tickets),
	}
	for doctype, column, values in (
		("PL Loan Snapshot", "loan", scope.loans),
		("PL Collection Action", "collection_case", scope.cases),
		("PL Recovery", "loan", scope.loans),
		("PL Risk Alert", "loan", scope.loans),
		("PL Risk Event", "loan", scope.loans),
		("PL Risk Assessment", "loan", scope.loans),
		("PL Customer Feedback", "employee", scope.employees),
	):
		counts[doctype] = sum(frappe.db.count(doctype, {column: ("in", c)}) for c in _chunks(values))
	return counts


def demo_checksum() -> str:
	"""SHA-256 over the demo's appraisal results, keyed by names that do not depend on the site
	(cycle, employee name, layer, total score to 6 decimals, final grade, status)."""
	rows = frappe.db.sql(
		"""
		select a.review_cycle, a.employee_name, a.layer, a.total_score, ifnull(a.final_grade, ''), a.status
		from `tabPL Appraisal` a
		where a.company = %s and a.docstatus < 2
		""",
		DEMO_COMPANY,
	)
	lines = sorted(f"{c}|{e}|{layer}|{float(t or 0):.6f}|{g}|{s}" for c, e, layer, t, g, s in rows)
	return hashlib.sha256("\n".join(lines).encode()).hexdigest()
