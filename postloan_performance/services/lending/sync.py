"""Set-wise sync from Frappe Lending's tables into the app's post-loan DocTypes.

Every step is idempotent: names are deterministic (a PL Loan is named by its Lending loan, a snapshot by
loan and date, a recovery by its Loan Repayment), rows are upserted, and rows whose source was cancelled
are removed. Nothing is guessed: a loan whose team the admin did not map is counted and listed, not
imported.
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager

import frappe
from frappe.utils import get_last_day, getdate, now_datetime

from postloan_performance.services import bulk, portfolio_months
from postloan_performance.services.lending import is_active

RECOVERY_PREFIX = "LND-"
# the PL Loan fields a later run compares and updates (the others are written when the loan is imported)
KEPT_ON_UPDATE = ("managing_team", "status", "principal", "customer", "product", "company")


def _require_active() -> None:
	if not is_active():
		frappe.throw(frappe._("The Lending app is not installed on this site."))


def _scope(companies, products) -> tuple[str, dict]:
	conditions, params = bulk.given_conditions(
		{
			"companies": ("l.company in %(companies)s", tuple(companies or ())),
			"products": ("l.loan_product in %(products)s", tuple(products or ())),
		}
	)
	return " and ".join(["l.docstatus = 1", "l.disbursement_date is not null", *conditions]), params


def team_for(mapping: list[dict], product: str | None, branch: str | None, cost_center: str | None):
	"""The PL Team an admin mapped for this loan: the most specific matching rule (product and
	branch/cost center, then product only, then branch/cost center only), or None."""
	best, best_rank = None, -1
	for rule in mapping:
		p, b, c = rule.get("loan_product"), rule.get("branch"), rule.get("cost_center")
		if p and p != product or b and b != branch or c and c != cost_center:
			continue
		rank = (2 if p else 0) + (1 if b or c else 0)
		if rank > best_rank:
			best, best_rank = rule["pl_team"], rank
	return best


def sync_loans(companies=None, products=None, mapping=None) -> dict:
	"""Upsert a PL Loan for each submitted, disbursed Lending Loan in scope."""
	_require_active()
	where, params = _scope(companies, products)
	rows = frappe.db.sql(
		f"""select l.name, l.applicant, l.loan_product, l.branch, l.cost_center, l.company,
			l.disbursement_date, coalesce(nullif(l.disbursed_amount, 0), l.loan_amount) principal,
			l.status, l.written_off_amount,
			w.loan is not null written_off
		from `tabLoan` l
		left join (select distinct loan from `tabLoan Write Off` where docstatus = 1) w on w.loan = l.name
		where {where}""",  # nosemgrep
		params,
		as_dict=True,
	)
	# only the app's loans that are these Lending loans (not every PL Loan of the site)
	existing = {
		r.name: r
		for r in frappe.db.sql(
			f"""select pl.name, {", ".join(f"pl.{f}" for f in KEPT_ON_UPDATE)}
			from `tabPL Loan` pl join `tabLoan` l on l.name = pl.name
			where {where}""",  # nosemgrep
			params,
			as_dict=True,
		)
	}
	unmapped, inserts, updates = [], [], {}
	now = now_datetime()
	for r in rows:
		team = team_for(mapping or [], r.loan_product, r.branch, r.cost_center)
		if not team:
			unmapped.append(r.name)
			continue
		status = "Written Off" if r.written_off else ("Settled" if r.status == "Closed" else "Active")
		values = {
			"customer": r.applicant,
			"product": r.loan_product,
			"branch": r.branch,
			"company": r.company,
			"managing_team": team,
			"disbursed_on": r.disbursement_date,
			"principal": float(r.principal or 0),
			"status": status,
		}
		if r.name in existing:
			old = existing[r.name]
			changed = {
				k: v
				for k, v in values.items()
				if k in KEPT_ON_UPDATE and (float(old[k] or 0) != v if k == "principal" else old[k] != v)
			}
			if changed:
				updates[r.name] = changed
		else:
			inserts.append((r.name, now, now, "Administrator", "Administrator", 0, r.name, *values.values()))
	if inserts:
		bulk.insert_many(
			"PL Loan",
			["name", "creation", "modified", "owner", "modified_by", "docstatus", "loan_no", *values],
			inserts,
		)
	if updates:
		bulk.bulk_update("PL Loan", updates)
	return {"loans": len(rows), "inserted": len(inserts), "updated": len(updates), "unmapped": unmapped}


def month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
	out, day = [], getdate(get_last_day(start))
	while day <= end:
		out.append(day)
		day = getdate(get_last_day(day + dt.timedelta(days=1)))
	return out


def snapshot_month(as_of, companies=None, products=None, totals: RunningTotals | None = None) -> int:
	"""Write the snapshots of one date for every imported Lending loan in one statement (upsert).

	outstanding: disbursed principal less principal paid by submitted repayments up to the date;
	overdue_amount: scheduled principal due up to the date less principal paid, at least 0;
	dpd: the last Days Past Due Log on or before the date (latest posting date, then latest creation;
	0 when none). Bucket and classification follow from the dpd (services.delinquency's rules in SQL).

	The sums and the last log per loan come from ``totals`` (:class:`RunningTotals`) advanced to the
	date: a run over many month-ends reads each source row once; without ``totals``, one is made."""
	_require_active()
	as_of = getdate(as_of)
	if totals is None:
		with RunningTotals() as totals:
			return snapshot_month(as_of, companies, products, totals)
	totals.advance(as_of)
	where, params = _scope(companies, products)
	params.update({"as_of": as_of, "now": now_datetime()})
	written, records = _upsert_snapshots(where, params)
	if written:  # the Portfolio Quality Trend summary read these snapshots
		portfolio_months.invalidate([as_of])
	return records


def _statement_records() -> int | None:
	"""Rows an INSERT … SELECT read (the server's "Records: N  Duplicates: …" of the last statement:
	new, changed and unchanged rows alike), or None when the driver does not say."""
	result = getattr(frappe.db._cursor, "_result", None)
	message = getattr(result, "message", None) or b""
	if isinstance(message, bytes):
		message = message.decode(errors="replace")
	match = re.search(r"Records:\s*(\d+)", message)
	return int(match.group(1)) if match else None


TOTALS = "`_plp_lending_totals`"


class RunningTotals:
	"""Per Lending loan, in a session temporary table: principal paid by submitted repayments, principal
	scheduled by active schedules and the last Days Past Due Log, each up to the date it was last
	advanced to. Advancing from one month-end to the next reads only the source rows dated in between
	(grouped by loan, added to the totals), so a back-fill of N month-ends groups each source row once
	instead of N times. Lending has no index on the loan or date columns of these tables: each advance
	scans them, but groups only the new rows.

	The last log is the maximum of "posting date, creation | DPD" (both fixed-width, so the text order is
	their order): the later of the totals' and the new rows' maximum is the maximum of all.

	MariaDB does not end the transaction on CREATE/DROP TEMPORARY TABLE (Frappe's guard against implicit
	commits would refuse them after a write): they run on the cursor itself."""

	def __init__(self) -> None:
		self.day: dt.date | None = None

	def __enter__(self) -> RunningTotals:
		self._session(f"drop temporary table if exists {TOTALS}")
		self._session(
			f"""create temporary table {TOTALS} (loan varchar(140) not null primary key,
				paid decimal(40, 9) not null default 0, due decimal(40, 9) not null default 0,
				last_log varchar(100)) engine = InnoDB"""
		)
		return self

	def __exit__(self, *exc) -> None:
		self._session(f"drop temporary table if exists {TOTALS}")

	@staticmethod
	def _session(query: str) -> None:
		frappe.db.sql("select 1")  # connected
		frappe.db._cursor.execute(query)

	def advance(self, day: dt.date) -> None:
		"""Add the source rows dated after the previous date up to ``day`` (all up to ``day`` the first
		time); a date not after the previous one starts again from nothing."""
		day = getdate(day)
		if self.day is not None and day <= self.day:
			frappe.db.sql(f"delete from {TOTALS}")  # nosemgrep
			self.day = None
		params = {
			"day": day,
			"day_end": dt.datetime.combine(day, dt.time.max),
			"after": self.day or dt.date.min,
			"after_end": dt.datetime.combine(self.day, dt.time.max) if self.day else dt.datetime.min,
		}
		with _large_temporary_tables():
			frappe.db.sql(
				f"""insert into {TOTALS} (loan, paid)
				select against_loan, coalesce(sum(principal_amount_paid), 0) from `tabLoan Repayment`
				where docstatus = 1 and posting_date <= %(day_end)s and posting_date > %(after_end)s
					and against_loan is not null
				group by against_loan
				on duplicate key update paid = paid + values(paid)""",  # nosemgrep
				params,
			)
			frappe.db.sql(
				f"""insert into {TOTALS} (loan, due)
				select rs.loan, coalesce(sum(r.principal_amount), 0) from `tabLoan Repayment Schedule` rs
				join `tabRepayment Schedule` r on r.parent = rs.name
				where rs.docstatus = 1 and rs.status = 'Active' and r.payment_date <= %(day)s
					and r.payment_date > %(after)s and rs.loan is not null
				group by rs.loan
				on duplicate key update due = due + values(due)""",  # nosemgrep
				params,
			)
			frappe.db.sql(
				f"""insert into {TOTALS} (loan, last_log)
				select g.loan, max(concat(g.posting_date, ifnull(g.creation, '0000-00-00 00:00:00.000000'),
					'|', ifnull(g.days_past_due, 0)))
				from `tabDays Past Due Log` g
				where g.posting_date <= %(day)s and g.posting_date > %(after)s and g.loan is not null
				group by g.loan
				on duplicate key update last_log = if(last_log is null or values(last_log) > last_log,
					values(last_log), last_log)""",  # nosemgrep
				params,
			)
		self.day = day


TEMPORARY_TABLE_BYTES = 512 * 1024 * 1024


@contextmanager
def _large_temporary_tables():
	"""This connection's in-memory temporary tables up to TEMPORARY_TABLE_BYTES (session variables,
	restored afterwards): the grouped derived tables of 200,000 loans exceed MariaDB's 16 MB default."""
	if frappe.db.db_type != "mariadb":
		yield
		return
	old = frappe.db.sql("select @@session.tmp_table_size, @@session.max_heap_table_size")[0]
	frappe.db.sql(
		"set session tmp_table_size = %(n)s, max_heap_table_size = %(n)s", {"n": TEMPORARY_TABLE_BYTES}
	)
	try:
		yield
	finally:
		frappe.db.sql("set session tmp_table_size = %s, max_heap_table_size = %s", (int(old[0]), int(old[1])))


def _upsert_snapshots(where: str, params: dict) -> tuple[int, int]:
	"""The upsert of one date, classified in the same statement (the rules of services.delinquency as
	SQL); a row keeps its ``modified`` when its values do not change. Returns the rows written (new or
	changed) and the rows of the date in the run's scope (new, changed or unchanged)."""
	from postloan_performance.services import delinquency

	snapshot = "`tabPL Loan Snapshot`"
	dpd = "coalesce(substring_index(t.last_log, '|', -1) + 0, 0)"
	new = delinquency.sql_expressions(dpd, "pl.product", "null")
	# blank and NULL are the same class (as in delinquency.process_date): such a row is not rewritten
	classes = ", ".join(
		f"{f} = if(binary coalesce({snapshot}.{f}, '') = binary coalesce({sql}, ''), {snapshot}.{f}, {sql})"
		for f, sql in (
			("bucket", "values(bucket)"),
			("proposed_classification", "values(proposed_classification)"),
			(
				"classification",
				delinquency.sql_classification(
					"values(proposed_classification)", f"{snapshot}.manual_classification"
				),
			),
		)
	)
	frappe.db.sql(
		f"""insert into {snapshot}
			(name, creation, modified, owner, modified_by, docstatus, loan, as_of_date,
			 outstanding, overdue_amount, dpd, bucket, proposed_classification, classification)
		select concat(l.name, '-', %(as_of)s), %(now)s, %(now)s, 'Administrator', 'Administrator', 0,
			l.name, %(as_of)s,
			greatest(coalesce(nullif(l.disbursed_amount, 0), l.loan_amount) - coalesce(t.paid, 0), 0),
			greatest(coalesce(t.due, 0) - coalesce(t.paid, 0), 0),
			{dpd}, {new["bucket"]}, {new["proposed_classification"]}, {new["proposed_classification"]}
		from `tabLoan` l
		join `tabPL Loan` pl on pl.name = l.name
		left join {TOTALS} t on t.loan = l.name
		where {where} and l.disbursement_date <= %(as_of)s
		on duplicate key update
			modified = if({snapshot}.outstanding <=> values(outstanding)
				and {snapshot}.overdue_amount <=> values(overdue_amount)
				and {snapshot}.dpd <=> values(dpd),
				{snapshot}.modified, values(modified)),
			outstanding = values(outstanding), overdue_amount = values(overdue_amount), dpd = values(dpd),
			{classes}""",  # nosemgrep
		params,
	)
	written = frappe.db._cursor.rowcount or 0
	records = _statement_records()
	if records is None:
		records = frappe.db.sql(
			f"select count(*) from {snapshot} s join `tabLoan` l on l.name = s.loan where s.as_of_date = %s",  # nosemgrep
			params["as_of"],
		)[0][0]
	return written, records


def sync_recoveries(companies=None, products=None) -> dict:
	"""Each submitted Loan Repayment of an imported loan is one PL Recovery (named by the repayment),
	attributed to the loan's collection case open on its date; cancelled repayments remove theirs."""
	_require_active()
	where, params = _scope(companies, products)
	# recoveries whose repayment is cancelled (or gone): read once, then removed by name
	gone = frappe.db.sql(
		"""select rec.name, rec.received_on from `tabPL Recovery` rec
		left join `tabLoan Repayment` r on r.name = substring(rec.name, %(start)s) and r.docstatus = 1
		where rec.name like %(like)s and r.name is null""",
		{"start": len(RECOVERY_PREFIX) + 1, "like": RECOVERY_PREFIX + "%"},
	)
	stale_from = _first_changed_recovery(where, params, [received for _name, received in gone])
	if gone:
		frappe.db.delete("PL Recovery", {"name": ("in", [name for name, _received in gone])})
	removed = len(gone)
	now = now_datetime()
	params.update({"prefix": RECOVERY_PREFIX, "now": now})
	frappe.db.sql(
		f"""insert into `tabPL Recovery`
			(name, creation, modified, owner, modified_by, docstatus, reference, loan, collection_case,
			 amount, received_on)
		select concat(%(prefix)s, r.name), %(now)s, %(now)s, 'Administrator', 'Administrator', 0, r.name,
			r.against_loan,
			(select c.name from `tabPL Collection Case` c where c.loan = r.against_loan
				and c.opened_on <= date(r.posting_date)
				and (c.closed_on is null or c.closed_on >= date(r.posting_date))
				order by c.opened_on desc, c.name limit 1),
			r.amount_paid, date(r.posting_date)
		from `tabLoan Repayment` r
		join `tabLoan` l on l.name = r.against_loan
		join `tabPL Loan` pl on pl.name = l.name
		where r.docstatus = 1 and {where}
		on duplicate key update
			amount = values(amount), received_on = values(received_on), loan = values(loan),
			collection_case = values(collection_case)""",  # nosemgrep
		params,
	)
	if stale_from:
		# the Portfolio Quality Trend summary (and the management recovery rates read from it) of the
		# months these recoveries were received in, and later ones, is out of date
		portfolio_months.invalidate_collections([stale_from])
	count = frappe.db.sql("select count(*) from `tabPL Recovery` where name like %s", RECOVERY_PREFIX + "%")[
		0
	][0]
	return {"recoveries": count, "removed": removed}


def _first_changed_recovery(where: str, params: dict, removed_on: list) -> dt.date | None:
	"""The earliest receipt date the recovery sync changes: of the recoveries it removes (``removed_on``),
	of a new repayment, or either date of a repayment whose amount, date or loan changed."""
	changed = frappe.db.sql(
		f"""select min(least(date(r.posting_date), coalesce(rec.received_on, date(r.posting_date))))
		from `tabLoan Repayment` r
		join `tabLoan` l on l.name = r.against_loan
		join `tabPL Loan` pl on pl.name = l.name
		left join `tabPL Recovery` rec on rec.name = concat(%(prefix)s, r.name)
		where r.docstatus = 1 and {where} and (rec.name is null or not (rec.amount <=> r.amount_paid
			and rec.received_on <=> date(r.posting_date) and rec.loan <=> r.against_loan))""",  # nosemgrep
		{**params, "prefix": RECOVERY_PREFIX},
	)[0][0]
	days = [getdate(d) for d in (*removed_on, changed) if d]
	return min(days) if days else None


def _others_on(day: dt.date, records: int) -> bool:
	"""Whether the date has snapshots besides the ``records`` the upsert wrote (from the date index)."""
	return frappe.db.sql(SNAPSHOTS_ON, day)[0][0] != records


SNAPSHOTS_ON = "select count(*) from `tabPL Loan Snapshot` where as_of_date = %s"


def run(
	start=None, end=None, companies=None, products=None, mapping=None, progress=None, classify=True
) -> dict:
	"""Loans, then one snapshot statement per month-end from ``start`` to ``end``, then recoveries.
	Each month commits when ``progress`` is given (a background run), so a killed run resumes."""
	_require_active()
	end = getdate(end or frappe.utils.today())
	result = sync_loans(companies, products, mapping)
	if start is None:
		first = frappe.db.sql("select min(disbursement_date) from `tabLoan` where docstatus = 1")[0][0]
		start = first or end
	days = month_ends(getdate(start), end)
	snapshots = 0
	with RunningTotals() as totals:
		for i, day in enumerate(days):
			records = snapshot_month(day, companies, products, totals)
			snapshots += records
			if classify and _others_on(day, records):  # the upsert classified the ones it wrote
				from postloan_performance.services import delinquency

				delinquency.process_date_in_sql(day)
			if progress:
				frappe.db.commit()  # nosemgrep: one month per transaction in a background run
				progress(i + 1, len(days))
	result.update(sync_recoveries(companies, products))
	result.update({"months": len(days), "snapshots": snapshots})
	return result
