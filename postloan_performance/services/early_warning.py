"""Early warning: PL Warning Rules evaluated set-wise, PL Risk Alerts raised, assigned and notified.

:func:`process_date` is the daily job's step for one snapshot date S (see ``services.daily_jobs``):

1. the enabled rules are parsed; the variables they use decide what is read: the snapshots of S with their
   loans (always), the previous snapshot of each loan (``prev_*``, ``outstanding_change*``), and one SQL
   aggregate over the earlier snapshots (``max_prev_dpd``, ``consecutive_overdue``);
2. ``warning_rules.warning_rules.build_variables`` makes one column per variable, and each rule's condition,
   rewritten by ``warning_rules.warning_rules.vectorize``, is evaluated once with ``frappe.safe_eval`` over whole
   columns;
3. loans with an open (Pending) alert of the same rule, or an alert of the same rule already raised on S,
   get no new alert; the others get one named like an import of (loan, rule, raised_on = S) would be, so
   re-running S inserts nothing;
4. alerts go to the rule's officer, or in turn to the members of the rule's officer team; each officer and
   each user of the rule's notify role gets one notification per rule and run.

Officers close alerts as Confirmed or False Alarm (:func:`close_alert`); warning_precision and
warning_recall read those outcomes. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

import frappe
from frappe import _
from frappe.utils import escape_html, getdate, nowdate

from postloan_performance.engine import assignment as assign_engine
from postloan_performance.engine import frames, row_rules, warning_rules
from postloan_performance.services import daily_jobs as ops
from postloan_performance.services.access import OFFICER_ROLE
from postloan_performance.services.engine_messages import expression_limit_message

RULE = "PL Warning Rule"
ALERT = "PL Risk Alert"
PENDING = "Pending"
OUTCOMES = ("Confirmed", "False Alarm")
OFFICER_ROLES = (OFFICER_ROLE, "System Manager")


def safe_eval(code: str, names: dict):
	"""The site's evaluator of a vectorised condition: the bounded evaluator of ``warning_rules.expressions``
	(2 s in a web request, 60 s in the daily job)."""
	from postloan_performance.services.compute import expression_time_limit

	return warning_rules.bounded_evaluator(expression_time_limit())(code, names)


def rule_message(error: warning_rules.WarningRuleError) -> str:
	d = error.details
	messages = {
		"empty": lambda: _("Write the condition."),
		"too_long": lambda: _("The condition is longer than {0} characters.").format(d.get("max")),
		"syntax": lambda: _("The condition is not a valid expression: {0}").format(
			escape_html(str(d.get("message") or ""))
		),
		"construct": lambda: _("The condition uses {0}, which is not allowed here.").format(
			escape_html(str(d.get("node")))
		),
		"function": lambda: _("Only abs, min, max and round can be called, not {0}.").format(
			escape_html(str(d.get("name")))
		),
		"unknown": lambda: _(
			"Unknown names in the condition: {0}. Use the variables listed under the field."
		).format(escape_html(", ".join(d.get("names", [])))),
		"no_variable": lambda: _("The condition must use at least one variable."),
		"membership": lambda: _(
			'\'in\' needs a list of values on its right, e.g. product in ("SME", "Auto").'
		),
		"evaluation": lambda: _("The condition fails on sample values: {0}").format(
			escape_html(str(d.get("message") or ""))
		),
	}
	limit = expression_limit_message(error)
	if limit:
		return limit
	message = messages.get(error.code)
	return message() if message else _("Invalid condition ({0}).").format(error.code)


def validate_rule(doc) -> None:
	"""PL Warning Rule.validate: the condition parses, uses known variables, and runs on sample values."""
	doc.expression = (doc.expression or "").strip()
	try:
		warning_rules.check_condition(doc.expression, safe_eval)
	except warning_rules.WarningRuleError as e:
		frappe.throw(rule_message(e), title=_("Invalid Condition"))
	if doc.officer_team and not frappe.db.exists("PL Team", doc.officer_team):
		frappe.throw(_("Team {0} does not exist.").format(escape_html(doc.officer_team)))


# --- reading -----------------------------------------------------------------------------------------


def _frame(rows, columns: list[str]) -> pd.DataFrame:
	return frames.from_rows(rows, columns)


def read_variables(as_of: dt.date, used: set[str]) -> pd.DataFrame:
	"""The variables of every snapshot of ``as_of``: only what the rules use is read."""
	current = _frame(
		frappe.db.sql(
			"""select s.`loan`, s.`as_of_date`, s.`dpd`, s.`outstanding`, s.`overdue_amount`,
				l.`principal`, l.`collateral_value`, l.`last_appraisal_value`, l.`disbursed_on`, l.`product`,
				l.`branch`, l.`managing_team`
			from `tabPL Loan Snapshot` s join `tabPL Loan` l on l.`name` = s.`loan`
			where s.`as_of_date` = %s""",
			as_of,
		),
		[*warning_rules.SNAPSHOT_COLUMNS, *warning_rules.LOAN_COLUMNS, "managing_team"],
	)
	if current.empty:
		return current
	loans = current[["loan", *warning_rules.LOAN_COLUMNS]].rename(columns={"loan": "name"})
	previous = None
	if used & warning_rules.PREVIOUS_VARIABLES:
		previous = read_previous(as_of, current["loan"])
	history = None
	if used & warning_rules.HISTORY_VARIABLES:
		history = read_history(as_of)
	variables = warning_rules.build_variables(current, loans, previous, history)
	variables["managing_team"] = current["managing_team"].to_numpy()
	return variables


HEAP_BYTES = 256 * 1024 * 1024


def read_history(as_of: dt.date) -> pd.DataFrame:
	"""Per loan with an overdue snapshot before ``as_of``: the highest dpd (``max_prev_dpd``) and how many
	of its latest snapshots in a row were overdue (``overdue_run``: overdue snapshots after the last one
	with dpd 0). Loans that were never overdue are left out (both values are 0 for them).

	Two aggregates over the earlier snapshots (grouping 10⁵–10⁶ loans): the session's in-memory temporary
	tables are enlarged for them, or MariaDB groups on disk (≈ 10× slower at 2 million snapshots)."""
	frappe.db.sql(f"set session tmp_table_size = {HEAP_BYTES}, max_heap_table_size = {HEAP_BYTES}")
	rows = frappe.db.sql(
		"""select h.`loan`, max(h.`dpd`), sum(h.`as_of_date` > ifnull(k.`last_ok`, '1900-01-01'))
		from `tabPL Loan Snapshot` h
		join (
			select `loan`, max(case when `dpd` <= 0 then `as_of_date` end) as `last_ok`
			from `tabPL Loan Snapshot` where `as_of_date` < %(day)s group by `loan`
		) k on k.`loan` = h.`loan`
		where h.`as_of_date` < %(day)s and h.`dpd` > 0
		group by h.`loan`""",
		{"day": as_of},
	)
	return _frame(rows, ["loan", "max_prev_dpd", "overdue_run"])


def read_previous(as_of: dt.date, loans: pd.Series) -> pd.DataFrame:
	"""Each loan's latest snapshot before ``as_of``: the previous snapshot date's rows, and for loans
	missing there, their own latest earlier snapshot."""
	columns = ["loan", "dpd", "outstanding", "overdue_amount"]
	previous_date = frappe.db.sql(
		"select max(`as_of_date`) from `tabPL Loan Snapshot` where `as_of_date` < %s", as_of
	)[0][0]
	if not previous_date:
		return pd.DataFrame(columns=columns)
	prev = _frame(
		frappe.db.sql(
			"""select `loan`, `dpd`, `outstanding`, `overdue_amount` from `tabPL Loan Snapshot`
			where `as_of_date` = %s""",
			previous_date,
		),
		columns,
	)
	missing = sorted(set(loans) - set(prev["loan"]))
	for part in ops.chunks(missing, ops.NAMES_PER_UPDATE):
		rows = frappe.db.sql(
			"""select s.`loan`, s.`dpd`, s.`outstanding`, s.`overdue_amount`
			from `tabPL Loan Snapshot` s
			join (select `loan`, max(`as_of_date`) as d from `tabPL Loan Snapshot`
				where `loan` in %(loans)s and `as_of_date` < %(day)s group by `loan`) p
				on p.`loan` = s.`loan` and p.d = s.`as_of_date`""",
			{"loans": tuple(part), "day": as_of},
		)
		prev = pd.concat([prev, _frame(rows, columns)], ignore_index=True)
	return prev


def active_rules() -> list[dict]:
	return frappe.get_all(
		RULE,
		filters={"enabled": 1},
		fields=["name", "expression", "severity", "officer", "officer_team", "notify_role"],
		order_by="name asc",
	)


# --- the daily step ----------------------------------------------------------------------------------


def process_date(as_of: dt.date | str, progress=ops.no_progress, rules: list[dict] | None = None) -> dict:
	"""Evaluate the active rules on the snapshots of ``as_of``; raise, assign and notify new alerts."""
	as_of = getdate(as_of)
	rules = active_rules() if rules is None else rules
	parsed, skipped = [], {}
	for rule in rules:
		try:
			parsed.append((rule, warning_rules.parse_condition(rule["expression"])))
		except warning_rules.WarningRuleError as e:
			skipped[rule["name"]] = e.code
	if not parsed:
		progress(1.0)
		return {"rules": 0, "raised": 0, "skipped": skipped}
	used = set().union(*(u for _r, u in parsed))
	progress(0.05, _("Reading snapshots of {0}").format(as_of))
	variables = read_variables(as_of, used)
	if variables.empty:
		progress(1.0)
		return {"rules": len(parsed), "snapshots": 0, "raised": 0, "skipped": skipped}
	open_pairs = set(
		frappe.db.sql(
			"select `loan`, `rule` from `tabPL Risk Alert` where `outcome` = %s and `rule` in %s",
			(PENDING, tuple(r["name"] for r, _u in parsed)),
		)
	)
	raised, per_rule, notices = [], {}, []
	for index, (rule, used_here) in enumerate(parsed):
		progress(0.2 + 0.6 * index / len(parsed), _("Rule {0}").format(rule["name"]))
		try:
			hit = warning_rules.evaluate(
				rule["expression"], variables[list(warning_rules.VARIABLES)], safe_eval
			)
		except Exception as e:
			skipped[rule["name"]] = str(e)[:140]
			frappe.log_error(title=f"PL Warning Rule {rule['name']} failed", message=frappe.get_traceback())
			continue
		rows = variables[hit]
		if len(rows):
			fresh = [(loan, rule["name"]) not in open_pairs for loan in rows["loan"]]
			rows = rows[np.array(fresh, dtype=bool)]
		alerts = new_alerts(rows, rule, sorted(used_here), as_of)
		per_rule[rule["name"]] = len(alerts)
		raised.extend(alerts)
		if alerts:
			notices.append((rule, alerts))
	progress(0.85, _("Writing {0} alerts").format(len(raised)))
	fields = ["name", "loan", "rule", "severity", "raised_on", "officer", "outcome", "details"]
	ops.insert_rows(ALERT, fields, [tuple(a[f] for f in fields) for a in raised])
	for rule, alerts in notices:
		notify(rule, alerts, as_of)
	progress(1.0, _("Done"))
	return {
		"rules": len(parsed),
		"snapshots": len(variables),
		"raised": len(raised),
		"by_rule": per_rule,
		"skipped": skipped,
	}


def alert_names(loans, rule: str, as_of: dt.date) -> list[str]:
	"""The names an import of (loan, rule, raised_on) would give (``warning_rules.row_rules.document_names``)."""
	frame = pd.DataFrame(
		{
			"reference": None,
			"loan": list(loans),
			"rule": rule,
			"raised_on": pd.Timestamp(as_of),
		}
	)
	return row_rules.document_names(ALERT, frame).tolist()


def new_alerts(rows: pd.DataFrame, rule: dict, used: list[str], as_of: dt.date) -> list[dict]:
	"""Alerts for the rows a rule hit, without those already raised on ``as_of``; officers assigned."""
	if rows.empty:
		return []
	names = alert_names(rows["loan"], rule["name"], as_of)
	existing = set()
	for part in ops.chunks(names, ops.NAMES_PER_UPDATE):
		existing |= set(
			frappe.db.sql_list("select `name` from `tabPL Risk Alert` where `name` in %s", (tuple(part),))
		)
	keep = np.array([n not in existing for n in names], dtype=bool)
	rows = rows[keep]
	names = [n for n, k in zip(names, keep, strict=True) if k]
	if rows.empty:
		return []
	officers = officers_for(rule, len(rows), as_of)
	details = _details(rows, used)
	return [
		{
			"name": name,
			"loan": loan,
			"rule": rule["name"],
			"severity": rule.get("severity") or "Medium",
			"raised_on": as_of,
			"officer": officer,
			"outcome": PENDING,
			"details": detail,
		}
		for name, loan, officer, detail in zip(names, rows["loan"], officers, details, strict=True)
	]


def _details(rows: pd.DataFrame, used: list[str]) -> list[str]:
	parts = []
	for name in used:
		values = rows[name]
		if name in warning_rules.TEXT_VARIABLES:
			text = values.fillna("").astype(str)
		else:
			numbers = pd.to_numeric(values, errors="coerce")
			text = numbers.round(2).map(lambda v: "-" if pd.isna(v) else f"{v:g}")
		parts.append(name + " = " + text)
	if not parts:
		return [""] * len(rows)
	joined = parts[0]
	for part in parts[1:]:
		joined = joined + "; " + part
	return joined.tolist()


def officers_for(rule: dict, count: int, as_of: dt.date) -> list[str | None]:
	"""The rule's officer for every alert, else the officer team's members in turn (Round Robin, continuing
	from the number of alerts the rule has assigned so far), else nobody."""
	if rule.get("officer"):
		return [rule["officer"]] * count
	team = rule.get("officer_team")
	if not team:
		return [None] * count
	members = frappe.db.sql_list(
		"""select distinct m.`employee` from `tabPL Team Member` m join `tabEmployee` e on e.`name` = m.`employee`
		where m.`parenttype` = 'PL Team' and m.`parent` = %(team)s and m.`from_date` <= %(day)s
			and (m.`to_date` is null or m.`to_date` >= %(day)s) and e.`status` = 'Active'""",
		{"team": team, "day": as_of},
	)
	if not members:
		return [None] * count
	# the turn continues from the number of alerts the rule has handed out so far
	given = frappe.db.count(ALERT, {"rule": rule["name"], "officer": ("is", "set")})
	ordered = sorted(members)
	last = ordered[(given - 1) % len(ordered)] if given else None
	outcome = assign_engine.round_robin(count, [assign_engine.Candidate(m) for m in ordered], last)
	return list(outcome.collectors)


def notify(rule: dict, alerts: list[dict], as_of: dt.date) -> None:
	"""One notification per officer (his alerts) and per user of the notify role (all alerts of the rule)."""
	from postloan_performance.services.cycle import notify as send

	by_officer: dict[str, int] = {}
	for alert in alerts:
		if alert["officer"]:
			by_officer[alert["officer"]] = by_officer.get(alert["officer"], 0) + 1
	users = dict(
		frappe.get_all(
			"Employee",
			filters={"name": ("in", list(by_officer) or [""])},
			fields=["name", "user_id"],
			as_list=True,
		)
	)
	for officer, count in sorted(by_officer.items()):
		if users.get(officer):
			send(
				[users[officer]],
				_("{0} new early-warning alerts for you from rule {1} ({2})").format(
					count, rule["name"], as_of
				),
				RULE,
				rule["name"],
			)
	if rule.get("notify_role"):
		role_users = frappe.get_all(
			"Has Role",
			filters={"role": rule["notify_role"], "parenttype": "User"},
			pluck="parent",
		)
		enabled = frappe.get_all(
			"User", filters={"name": ("in", role_users or [""]), "enabled": 1}, pluck="name"
		)
		send(
			enabled,
			_("Rule {0} raised {1} early-warning alerts on {2}").format(rule["name"], len(alerts), as_of),
			RULE,
			rule["name"],
		)


# --- closing alerts ----------------------------------------------------------------------------------


def close_alert(
	alert: str,
	outcome: str,
	note: str | None = None,
	on: dt.date | None = None,
	modified: str | None = None,
) -> dict:
	"""Close a Pending alert as Confirmed or False Alarm. Its officer may close it; so may post-loan
	officers and system managers."""
	if outcome not in OUTCOMES:
		frappe.throw(
			_("The outcome must be one of: {0}").format(", ".join(_(o) for o in OUTCOMES)),
			title=_("Invalid Value"),
		)
	# the row is locked until this transaction ends: a second officer closing the same alert waits, then
	# finds it closed (or changed since he read it: ``modified``) and gets the "document modified" conflict
	doc = frappe.get_doc(ALERT, alert, for_update=True)
	from postloan_performance.services.access import employee_of

	user = frappe.session.user
	own = doc.officer and doc.officer == employee_of(user)
	if not (own or user == "Administrator" or set(frappe.get_roles(user)) & set(OFFICER_ROLES)):
		frappe.throw(_("Only the alert's officer can close it."), frappe.PermissionError)
	if doc.outcome != PENDING:
		frappe.throw(
			_("Alert {0} is already closed as {1}.").format(doc.name, _(doc.outcome)),
			exc=frappe.TimestampMismatchError,
			title=_("Not Allowed"),
		)
	if modified and str(doc.modified) != str(frappe.utils.get_datetime(modified)):
		frappe.throw(
			_("Alert {0} was changed by someone else since you opened it; reload it.").format(doc.name),
			exc=frappe.TimestampMismatchError,
			title=_("Document Modified"),
		)
	doc.outcome = outcome
	doc.outcome_on = getdate(on or nowdate())
	doc.outcome_note = (note or "").strip() or None
	doc.flags.ignore_permissions = bool(own)
	doc.save()
	return {"alert": doc.name, "outcome": doc.outcome, "outcome_on": doc.outcome_on}
