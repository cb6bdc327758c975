"""The monthly portfolio summary (PL Portfolio Month) that the Portfolio Quality Trend report reads.

Two kinds of rows, each keyed by the loan's company, managing team and product as PL Loan says now (the
report's filters):

* ``Snapshot`` rows of a snapshot date D – normally a month-end: the last snapshot date of its calendar
  month – with P, its previous month-end (the last snapshot date before D's month, if any), per (bucket
  of the loan at P or empty, bucket at D, classification at D): ``loans`` (snapshots at D, whatever their
  outstanding: the roll-rate counts), ``loans_with_outstanding`` (outstanding > 0: the report's Loans)
  and Σ ``outstanding``. Summed by (bucket, classification) they give the NPL / M1+ / M3+ ratios that
  ``engine.portfolio.portfolio_ratios`` computes from the snapshots, to the cent; counted by (previous
  bucket, bucket) the loan moves that ``engine.portfolio.roll_rates_by_date`` counts (a loan counts when it
  has a known bucket at both dates).
* ``Recovery`` rows of a calendar month M: ``active_cases`` (collection cases opened on or before M's
  last day and not closed before its first day), their Σ ``entry_overdue_amount`` and Σ ``recovered``
  (recoveries received in M; the recovery's loan, else its case's), as
  ``engine.portfolio.monthly_recovery_rate`` counts them. A refreshed month always has a row without
  company, team and product (zero figures unless such cases exist), so that "no row" means "not built".
* ``Case`` rows of a calendar month M: the collection cases opened in M, per closing month
  (``closed_month``, empty while open) and managing team: ``active_cases`` (their count) and Σ
  ``entry_overdue_amount``. Summed over the opening months up to a period's last month whose closing month
  is not before its first, they give the workload of the recovery rate of whole months
  (``portfolio_frames.load_recovery_totals``, the KPI of management appraisals). Built on demand by that
  reader (:func:`ensure_recovery_totals`); deleted with the Recovery rows of the same months and, when
  cases close, from their opening month on (:func:`invalidate_cases`).

Set-based: a snapshot date is rebuilt with one aggregate query (the date's snapshots joined with the
previous month-end's on the loan, and with PL Loan, grouped: a covering-index read) and the recovery
months with one more; the few thousand aggregated rows are then written with one multi-row INSERT. The
aggregates are read with a plain SELECT, not INSERT … SELECT: under REPEATABLE READ the latter would hold
shared locks on every snapshot it reads until the transaction ends (a report's request), blocking the
daily jobs and imports that write them.

Kept correct by deleting what a write makes stale: :func:`invalidate` (snapshot dates; the PL Loan
Snapshot controller, the importer, the classification job, the demo loader), :func:`invalidate_collections`
(cases and recoveries) and :func:`invalidate_all` (a loan moved to another company, team or product).
Missing rows are built on demand (:func:`ensure_months`, by the report) and every day
(:func:`refresh_missing`); :func:`refresh_all` rebuilds everything. Nothing here commits except the
scheduler job (Frappe commits after it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import time
from collections.abc import Iterable

import frappe
from frappe.utils import get_first_day, get_last_day, getdate, now

from postloan_performance.services.bulk import given_conditions, insert_many

DOCTYPE = "PL Portfolio Month"
TABLE = "`tabPL Portfolio Month`"
SNAPSHOTS = "`tabPL Loan Snapshot`"
SNAPSHOT, RECOVERY, CASE = "Snapshot", "Recovery", "Case"
LOCK_TIMEOUT = 600  # seconds a refresh waits for another one
SEPARATOR = "\x1f"
STANDARD_FIELDS = ("name", "creation", "modified", "modified_by", "owner", "docstatus", "idx")
SCOPE_FIELDS = ("company", "managing_team", "product")
SNAPSHOT_FIELDS = (
	"kind",
	"month",
	"month_end",
	"previous_month_end",
	*SCOPE_FIELDS,
	"previous_bucket",
	"bucket",
	"classification",
	"loans",
	"loans_with_outstanding",
	"outstanding",
)
FIGURES = (
	"loans",
	"loans_with_outstanding",
	"outstanding",
	"active_cases",
	"entry_overdue_amount",
	"recovered",
)
RECOVERY_FIELDS = (
	"kind",
	"month",
	"month_end",
	*SCOPE_FIELDS,
	"active_cases",
	"entry_overdue_amount",
	"recovered",
)
CASE_FIELDS = (
	"kind",
	"month",
	"month_end",
	"closed_month",
	"managing_team",
	"active_cases",
	"entry_overdue_amount",
)


# -------------------------------------------------------------------------------------- dates


def ready() -> bool:
	"""Whether the summary table exists (not yet on a site that was not migrated since it came)."""
	return frappe.db.table_exists(DOCTYPE)


def _dates(values: Iterable) -> list[dt.date]:
	return sorted({getdate(v) for v in values if v not in (None, "")})


def _months(values: Iterable) -> list[dt.date]:
	"""The first days of the calendar months of the dates."""
	return sorted({get_first_day(d) for d in _dates(values)})


def month_ends(start: dt.date | str | None = None, end: dt.date | str | None = None) -> list[dt.date]:
	"""The last snapshot date of each calendar month that has snapshots (within [start, end] when given),
	ascending; read from the as_of_date index (one entry per distinct date)."""
	conditions, values = given_conditions(
		{
			"start": ("as_of_date >= %(start)s", getdate(start) if start else None),
			"end": ("as_of_date <= %(end)s", getdate(end) if end else None),
		}
	)
	where = f"where {' and '.join(conditions)}" if conditions else ""
	days = frappe.db.sql(f"select distinct as_of_date from {SNAPSHOTS} {where}", values, pluck=True)
	last: dict[dt.date, dt.date] = {}
	for day in map(getdate, days):
		month = day.replace(day=1)
		last[month] = max(day, last.get(month, day))
	return sorted(last.values())


def previous_month_end(day: dt.date | str) -> dt.date | None:
	"""The last snapshot date before the calendar month of ``day``."""
	value = frappe.db.sql(
		f"select max(as_of_date) from {SNAPSHOTS} where as_of_date < %(first)s",
		{"first": get_first_day(day)},
	)
	return getdate(value[0][0]) if value and value[0][0] else None


# ----------------------------------------------------------------------------------- building


@contextlib.contextmanager
def _refresh_lock():
	"""One refresh at a time on the site (a MariaDB named lock): two reports rebuilding the same month
	would otherwise delete and insert the same rows in crossing order."""
	if frappe.db.db_type != "mariadb":
		yield
		return
	name = f"{frappe.conf.db_name}:pl_portfolio_month"
	got = frappe.db.sql("select get_lock(%s, %s)", (name, LOCK_TIMEOUT))[0][0]
	try:
		yield
	finally:
		if got:
			frappe.db.sql("select release_lock(%s)", (name,))


def _key(*values) -> str:
	"""A deterministic row name from the row's key (md5 of the values, NULL told apart from '')."""
	text = SEPARATOR.join("\x00" if v is None else str(v) for v in values)
	return hashlib.md5(text.encode()).hexdigest()


def _write(fields: tuple[str, ...], rows: list[tuple]) -> int:
	"""Insert summary rows (values in ``fields`` order) named after their key columns."""
	if not rows:
		return 0
	stamp, user = now(), frappe.session.user or "Administrator"
	keys = [i for i, f in enumerate(fields) if f not in FIGURES]
	values = [(_key(*(row[i] for i in keys)), stamp, stamp, user, user, 0, 0, *row) for row in rows]
	insert_many(DOCTYPE, [*STANDARD_FIELDS, *fields], values, chunk_size=5_000)
	return len(values)


def _snapshot_rows(day: dt.date, previous: dt.date | None) -> list[tuple]:
	"""The Snapshot rows of one date: one aggregate query over the date's snapshots (and the previous
	month-end's, matched on the loan), grouped by the loan's scope and the buckets."""
	previous_join = (
		f"left join {SNAPSHOTS} p on p.as_of_date = %(previous)s and p.loan = s.loan" if previous else ""
	)
	previous_bucket = "p.bucket" if previous else "null"
	rows = frappe.db.sql(
		f"""select l.company, l.managing_team, l.product, {previous_bucket}, s.bucket, s.classification,
			count(*), sum(case when s.outstanding > 0 then 1 else 0 end), sum(s.outstanding)
		from {SNAPSHOTS} s {previous_join}
		left join `tabPL Loan` l on l.name = s.loan
		where s.as_of_date = %(day)s
		group by l.company, l.managing_team, l.product, {previous_bucket}, s.bucket, s.classification""",
		{"day": day, "previous": previous},
	)
	month = get_first_day(day)
	return [
		(SNAPSHOT, month, day, previous, *scope, before, bucket, klass, int(n), int(positive), amount or 0)
		for *scope, before, bucket, klass, n, positive, amount in rows
	]


def _recovery_rows(months: list[dt.date]) -> list[tuple]:
	"""The Recovery rows of calendar months, from two aggregate queries: the cases active in each month
	(a case is active in month M when it opened by M's end and was not closed before M's start, i.e. its
	opening month ≤ M ≤ its closing month: the cases are counted by those two months and the loan's
	scope, then spread over the months) and the recoveries received in each month, by the loan's scope
	(the recovery's loan, else its case's)."""
	first, last = months[0], get_last_day(months[-1])
	ends = [get_last_day(m) for m in months]
	calendar = " union all ".join(f"select %(e{i})s as month_end" for i in range(len(ends)))
	values = {"first": first, "last": last, "ends": tuple(ends), **{f"e{i}": e for i, e in enumerate(ends)}}
	cases = frappe.db.sql(
		f"""select m.month_end, c.company, c.managing_team, c.product, sum(c.cases), sum(c.entry_overdue)
		from (
			select last_day(c.opened_on) as opened, last_day(c.closed_on) as closed,
				l.company, l.managing_team, l.product,
				count(*) as cases, sum(c.entry_overdue_amount) as entry_overdue
			from `tabPL Collection Case` c left join `tabPL Loan` l on l.name = c.loan
			where c.opened_on <= %(last)s and (c.closed_on is null or c.closed_on >= %(first)s)
			group by last_day(c.opened_on), last_day(c.closed_on), l.company, l.managing_team, l.product
		) c
		join ({calendar}) m on c.opened <= m.month_end and (c.closed is null or c.closed >= m.month_end)
		group by m.month_end, c.company, c.managing_team, c.product""",
		values,
	)
	recoveries = frappe.db.sql(
		"""select last_day(r.received_on), l.company, l.managing_team, l.product, sum(r.amount)
		from `tabPL Recovery` r
		left join `tabPL Collection Case` c on c.name = r.collection_case
		left join `tabPL Loan` l on l.name = ifnull(r.loan, c.loan)
		where r.received_on between %(first)s and %(last)s and last_day(r.received_on) in %(ends)s
		group by last_day(r.received_on), l.company, l.managing_team, l.product""",
		values,
	)
	# (month end, company, team, product) -> [cases, entry overdue, recovered]; every month has the
	# scope-less row
	totals: dict[tuple, list] = {(end, None, None, None): [0, 0, 0] for end in ends}
	for end, company, team, product, count, entry in cases:
		total = totals.setdefault((getdate(end), company, team, product), [0, 0, 0])
		total[0], total[1] = int(count or 0), entry or 0
	for end, company, team, product, amount in recoveries:
		totals.setdefault((getdate(end), company, team, product), [0, 0, 0])[2] = amount or 0
	return [
		(RECOVERY, get_first_day(end), end, company, team, product, *figures)
		for (end, company, team, product), figures in totals.items()
	]


def _case_rows(months: list[dt.date]) -> list[tuple]:
	"""The Case rows of calendar months: the cases opened in each month, counted with their Σ
	``entry_overdue_amount`` by closing month (none while open) and the loan's managing team (the only
	scope their reader needs: company and product stay empty); every month has the team-less row of open
	cases (zero unless such cases exist), so that "no row" means "not built"."""
	first, last = months[0], get_last_day(months[-1])
	ends = [get_last_day(m) for m in months]
	rows = frappe.db.sql(
		"""select last_day(c.opened_on), last_day(c.closed_on), l.managing_team,
			count(*), sum(c.entry_overdue_amount)
		from `tabPL Collection Case` c left join `tabPL Loan` l on l.name = c.loan
		where c.opened_on between %(first)s and %(last)s and last_day(c.opened_on) in %(ends)s
		group by last_day(c.opened_on), last_day(c.closed_on), l.managing_team""",
		{"first": first, "last": last, "ends": tuple(ends)},
	)
	totals: dict[tuple, list] = {(end, None, None): [0, 0] for end in ends}
	for end, closed, team, count, entry in rows:
		closed = get_first_day(closed) if closed else None
		totals[(getdate(end), closed, team)] = [int(count or 0), entry or 0]
	return [
		(CASE, get_first_day(end), end, closed, team, *figures)
		for (end, closed, team), figures in totals.items()
	]


def refresh_dates(dates: Iterable) -> int:
	"""Rebuild the Snapshot rows of the given snapshot dates (month-ends, or any date a report shows);
	returns the rows written. Dates without snapshots end with no rows."""
	dates = _dates(dates)
	written = 0
	with _refresh_lock():
		for day in dates:
			previous = previous_month_end(day)
			rows = _snapshot_rows(day, previous)
			frappe.db.sql(f"delete from {TABLE} where kind = %s and month_end = %s", (SNAPSHOT, day))
			written += _write(SNAPSHOT_FIELDS, rows)
	return written


def _refresh_kind_months(kind: str, fields: tuple[str, ...], build, months: Iterable) -> int:
	months = _months(months)
	if not months:
		return 0
	with _refresh_lock():
		rows = build(months)
		frappe.db.sql(
			f"delete from {TABLE} where kind = %(kind)s and month in %(months)s",
			{"kind": kind, "months": tuple(months)},
		)
		return _write(fields, rows)


def refresh_recovery_months(months: Iterable) -> int:
	"""Rebuild the Recovery rows of the calendar months of the given dates; returns the rows written."""
	return _refresh_kind_months(RECOVERY, RECOVERY_FIELDS, _recovery_rows, months)


def refresh_case_months(months: Iterable) -> int:
	"""Rebuild the Case rows of the calendar months of the given dates; returns the rows written."""
	return _refresh_kind_months(CASE, CASE_FIELDS, _case_rows, months)


def refresh_months(months: Iterable) -> dict:
	"""Rebuild both kinds of rows of the calendar months of the given dates (any day of the month): the
	Snapshot rows at each month's month-end and the month's Recovery rows."""
	months = _months(months)
	if not months:
		return {"months": 0, "snapshot_rows": 0, "recovery_rows": 0}
	ends = month_ends(months[0], get_last_day(months[-1]))
	return {
		"months": len(months),
		"snapshot_rows": refresh_dates([d for d in ends if get_first_day(d) in months]),
		"recovery_rows": refresh_recovery_months(months),
	}


def refresh_all() -> dict:
	"""Rebuild the whole summary: every month-end that has snapshots, the Recovery rows of their months
	and the Case rows of every month up to the last (what the daily job keeps built: deleting them here
	and leaving them to the next reader made the next cycle computation build them). Does not commit.
	Returns counts and the seconds taken by each kind."""
	started = time.perf_counter()
	frappe.db.sql(f"delete from {TABLE}")
	ends = month_ends()
	snapshot_rows = refresh_dates(ends)
	middle = time.perf_counter()
	recovery_rows = refresh_recovery_months(ends)
	cases_started = time.perf_counter()
	case_rows = refresh_case_months(case_months_through(ends[-1])) if ends else 0
	return {
		"month_ends": len(ends),
		"snapshot_rows": snapshot_rows,
		"recovery_rows": recovery_rows,
		"case_rows": case_rows,
		"snapshot_seconds": round(middle - started, 3),
		"recovery_seconds": round(cases_started - middle, 3),
		"case_seconds": round(time.perf_counter() - cases_started, 3),
	}


# ---------------------------------------------------------------------------------- on demand


def _missing(kind: str, column: str, days: list[dt.date]) -> list[dt.date]:
	"""The `days` that no row of this kind has in `column` yet (a snapshot's month_end, a recovery's month)."""
	if not days:
		return []
	built = frappe.db.sql(
		f"select distinct `{column}` from {TABLE} where kind = %(kind)s and `{column}` in %(days)s",
		{"kind": kind, "days": tuple(days)},
		pluck=True,
	)
	return sorted(set(days) - {getdate(d) for d in built})


def _missing_dates(dates: list[dt.date]) -> list[dt.date]:
	return _missing(SNAPSHOT, "month_end", dates)


def _missing_months(months: list[dt.date], kind: str = RECOVERY) -> list[dt.date]:
	return _missing(kind, "month", months)


@frappe.write_only()
def _build(dates: list[dt.date], months: list[dt.date], case_months: list[dt.date] = ()) -> None:
	refresh_dates(dates)
	refresh_recovery_months(months)
	refresh_case_months(case_months)
	# a report runs in a GET request, which Frappe commits only when asked to
	if getattr(frappe.local, "request", None) is not None:
		frappe.local.flags.commit = True


def ensure_months(dates: Iterable, recovery_months: Iterable | None = None) -> bool:
	"""Build the summary rows a reader needs that are not there yet: the Snapshot rows of ``dates`` and
	the Recovery rows of ``recovery_months`` (default: the months of ``dates``). Returns whether anything
	was built (on the primary database when the reader runs on a replica)."""
	dates = _dates(dates)
	months = _months(dates if recovery_months is None else recovery_months)
	missing_dates, missing_months = _missing_dates(dates), _missing_months(months)
	if not missing_dates and not missing_months:
		return False
	_build(missing_dates, missing_months)
	return True


def months_between(start: dt.date | str, end: dt.date | str) -> list[dt.date]:
	"""The calendar months from ``start``'s to ``end``'s (their first days), ascending."""
	months, month, end = [], get_first_day(start), getdate(end)
	while month <= end:
		months.append(month)
		month = get_first_day(get_last_day(month) + dt.timedelta(days=1))
	return months


def case_months_through(end: dt.date | str) -> list[dt.date]:
	"""Every calendar month from the first case's opening month to ``end``'s (first days)."""
	first = frappe.db.sql("select min(opened_on) from `tabPL Collection Case`")[0][0]
	return months_between(first, end) if first else []


def ensure_recovery_totals(months: Iterable) -> bool:
	"""Build what a reader of recovery rates needs that is not there yet: the Recovery rows of ``months``
	and the Case rows of every month up to the last of them (a case opened long ago can still be active).
	Returns whether anything was built."""
	months = _months(months)
	if not months:
		return False
	missing = _missing_months(months)
	missing_cases = _missing_months(case_months_through(months[-1]), CASE)
	if not missing and not missing_cases:
		return False
	_build([], missing, missing_cases)
	return True


def refresh_missing() -> dict:
	"""Daily job: build the rows of every month-end (and its month's recoveries, and the cases opened in
	every month up to the last) that are not built, so that readers find them."""
	if not ready():
		return {"dates": 0, "months": 0, "case_months": 0}
	ends = month_ends()
	dates, months = _missing_dates(ends), _missing_months(_months(ends))
	cases = _missing_months(case_months_through(ends[-1]), CASE) if ends else []
	refresh_dates(dates)
	refresh_recovery_months(months)
	refresh_case_months(cases)
	return {"dates": len(dates), "months": len(months), "case_months": len(cases)}


# ------------------------------------------------------------------------------- invalidation


def invalidate(dates: Iterable) -> None:
	"""Snapshots of these dates were written or deleted: delete the Snapshot rows that read them.

	Rows of a date D with previous month-end P read the snapshots at D and at P, and P is the last date
	before D's month, so a snapshot written on day X changes the rows with D ≥ X's month start and P ≤ X's
	month end (or no P): the rows of X's month, those of the next month-end (X was or becomes its P), and
	any later row whose P would now be X's month.
	"""
	dates = _dates(dates)
	if not dates or not ready():
		return
	frappe.db.sql(
		f"""delete from {TABLE} where kind = %(kind)s and month_end >= %(first)s
		and (previous_month_end is null or previous_month_end <= %(last)s)""",
		{"kind": SNAPSHOT, "first": get_first_day(dates[0]), "last": get_last_day(dates[-1])},
	)


def invalidate_collections(dates: Iterable | None) -> None:
	"""Collection cases opened, closed or changed, or recoveries received, on these dates: delete the
	Recovery rows of their months and of every later month (a case stays active until it is closed);
	``None``: every month."""
	if not ready():
		return
	if dates is None:
		frappe.db.sql(f"delete from {TABLE} where kind in %s", ((RECOVERY, CASE),))
		return
	dates = _dates(dates)
	if dates:
		frappe.db.sql(
			f"delete from {TABLE} where kind in %s and month >= %s",
			((RECOVERY, CASE), get_first_day(dates[0])),
		)


def invalidate_cases(opened: Iterable) -> None:
	"""Collection cases opened on these dates were closed (or their closing changed): delete the Case rows
	of their opening months and later (the Recovery rows of the closing month go with
	:func:`invalidate_collections`)."""
	dates = _dates(opened)
	if dates and ready():
		frappe.db.sql(f"delete from {TABLE} where kind = %s and month >= %s", (CASE, get_first_day(dates[0])))


def invalidate_all() -> None:
	"""Delete the whole summary (e.g. a loan moved to another company, team or product: every month it
	was on the book changes)."""
	if ready():
		frappe.db.sql(f"delete from {TABLE}")


# ---------------------------------------------------------------------------- document events


def on_snapshot_change(doc, method=None) -> None:
	"""PL Loan Snapshot on_update / on_trash: its date, and its former date when it moved."""
	before = doc.get_doc_before_save() if method != "on_trash" else None
	invalidate([doc.get("as_of_date"), before.get("as_of_date") if before else None])


def on_loan_change(doc, method=None) -> None:
	"""PL Loan on_update / on_trash (doc_events): a loan whose company, managing team or product changed
	(or that is deleted) moves its snapshots, cases and recoveries between the summary's groups."""
	if method == "on_trash":
		invalidate_all()
		return
	before = doc.get_doc_before_save()
	if before is None:  # a new loan has no snapshots, cases or recoveries yet
		return
	if any((before.get(f) or None) != (doc.get(f) or None) for f in SCOPE_FIELDS):
		invalidate_all()


def on_case_change(doc, method=None) -> None:
	"""PL Collection Case on_update / on_trash (doc_events): the months from its (former) opening on; all
	months when it is deleted or its loan changed (its recoveries recorded without a loan move with it)."""
	before = doc.get_doc_before_save() if method != "on_trash" else None
	if method == "on_trash" or (before and (before.get("loan") or None) != (doc.get("loan") or None)):
		invalidate_collections(None)
	else:
		invalidate_collections([doc.get("opened_on"), before.get("opened_on") if before else None])


def on_recovery_change(doc, method=None) -> None:
	"""PL Recovery on_update / on_trash (doc_events): the month it was (and is) received in."""
	before = doc.get_doc_before_save() if method != "on_trash" else None
	invalidate_collections([doc.get("received_on"), before.get("received_on") if before else None])
