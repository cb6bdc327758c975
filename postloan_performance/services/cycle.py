"""Review cycle steps: Draft → Open → Scoring → Calibration → Published → Closed.

Each step checks the cycle's status first and refuses to run out of order with a translated
message. Work over many appraisals (creating them, computing, calibrating, publishing) is set-wise:
a fixed number of queries plus chunked bulk writes, run as a background job for large cycles.
"""

from __future__ import annotations

from collections import defaultdict

import frappe
from frappe import _
from frappe.model.naming import parse_naming_series
from frappe.utils import flt, getdate, now_datetime

from postloan_performance.engine import scoring
from postloan_performance.services.access import team_members_on
from postloan_performance.services.appraisal import kpi_lines_from_template
from postloan_performance.services.bulk import bulk_update, by_name, insert_many, insert_versions
from postloan_performance.services.locks import acquire, kill_point, locked_cycle_status, refuse

APPRAISAL_SERIES = "PLA-.YYYY.-"
CHUNK = 500
# Above this many appraisals, steps run as background jobs.
BACKGROUND_THRESHOLD = 200


def get_cycle(name: str):
	return frappe.get_doc("PL Review Cycle", name)


def locked_cycle(name: str):
	"""The cycle, once this session holds its step lock (services/locks.py): a second caller of any step
	of the same cycle is refused with "already running" (409) until this step's transaction ends. The
	status is read by a locking read, so the step's state checks see the last committed step."""
	if not acquire("cycle", name):
		refuse("cycle", name)
	locked_cycle_status(name)
	return get_cycle(name)


def _require_status(cycle, *allowed: str):
	if cycle.status not in allowed:
		frappe.throw(
			_("Review cycle {0} is {1}; this step needs status {2}.").format(
				frappe.bold(cycle.name), _(cycle.status), " / ".join(_(s) for s in allowed)
			),
			title=_("Wrong Step"),
		)


def _set_status(cycle, status: str):
	cycle.status = status
	cycle.flags.status_change = True
	cycle.save()


def _appraisal_count(cycle: str, **filters) -> int:
	return frappe.db.count("PL Appraisal", {"review_cycle": cycle, "docstatus": ("<", 2), **filters})


# ---------------------------------------------------------------- steps
def open_cycle(cycle_name: str) -> dict:
	cycle = locked_cycle(cycle_name)
	_require_status(cycle, "Draft")
	_set_status(cycle, "Open")
	return {"status": cycle.status, "unbriefed": unbriefed_employees(cycle)}


def start_scoring(cycle_name: str) -> dict:
	cycle = locked_cycle(cycle_name)
	_require_status(cycle, "Open")
	if not _appraisal_count(cycle.name):
		frappe.throw(_("Create the appraisals before scoring."), title=_("No Appraisals"))
	_set_status(cycle, "Scoring")
	return {"status": cycle.status}


def start_calibration(cycle_name: str) -> dict:
	"""Scoring → Calibration, once every appraisal has been reviewed and scored."""
	cycle = locked_cycle(cycle_name)
	_require_status(cycle, "Scoring")
	pending = frappe.get_all(
		"PL Appraisal",
		filters={
			"review_cycle": cycle.name,
			"docstatus": 0,
			"status": ("in", ("Draft", "Self Review", "Manager Review")),
		},
		pluck="name",
		limit=11,
	)
	if pending:
		frappe.throw(
			_("These appraisals have not reached calibration yet: {0}").format(", ".join(pending[:10]))
			+ (" …" if len(pending) > 10 else ""),
			title=_("Reviews Pending"),
		)
	_set_status(cycle, "Calibration")
	proposed = propose_grades(cycle.name)
	return {"status": cycle.status, "proposed": proposed}


def publish_cycle(cycle_name: str) -> dict:
	"""Calibration → Published. Formal cycles publish every approved appraisal to its appraisee;
	trial cycles publish nothing to anyone: their results stay with the scheme owner."""
	cycle = locked_cycle(cycle_name)
	_require_status(cycle, "Calibration")
	not_approved = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle.name, "docstatus": ("<", 2), "status": ("!=", "Approved")},
		pluck="name",
		limit=11,
	)
	if not_approved:
		frappe.throw(
			_("Approve every appraisal before publishing; still open: {0}").format(
				", ".join(not_approved[:10])
			),
			title=_("Not Approved"),
		)
	published = []
	if not cycle.is_trial:
		published = frappe.get_all(
			"PL Appraisal",
			filters={"review_cycle": cycle.name, "docstatus": 1, "status": "Approved"},
			fields=["name", "appraisee_user"],
		)
		now = now_datetime()
		bulk_update(
			"PL Appraisal",
			{a.name: {"status": "Published", "published_on": now, "modified": now} for a in published},
		)
		insert_versions(
			"PL Appraisal",
			{a.name: {"changed": [["status", "Approved", "Published"]]} for a in published},
		)
		appraisees = [a.appraisee_user for a in published if a.appraisee_user]
		notify(
			appraisees,
			_("Your appraisal for {0} is published").format(cycle.cycle_name),
			"PL Review Cycle",
			cycle.name,
		)
		# the scheme satisfaction survey goes out with the results (it feeds team_satisfaction)
		notify(
			appraisees,
			_("Please answer the scheme satisfaction survey for {0}").format(cycle.cycle_name),
			"PL Review Cycle",
			cycle.name,
		)
	_set_status(cycle, "Published")
	return {"status": cycle.status, "published": len(published), "is_trial": cycle.is_trial}


def close_cycle(cycle_name: str) -> dict:
	cycle = locked_cycle(cycle_name)
	_require_status(cycle, "Published")
	open_appeals = frappe.db.count(
		"PL Appeal", {"review_cycle": cycle.name, "status": ("in", ("Open", "Under Review"))}
	)
	if open_appeals:
		frappe.throw(
			_("{0} appeals of this cycle are still open.").format(open_appeals), title=_("Open Appeals")
		)
	_set_status(cycle, "Closed")
	return {"status": cycle.status}


# ---------------------------------------------------------------- appraisals in bulk
def scope_members(cycle) -> list[dict]:
	"""One row per employee to appraise: members of the teams in scope during the period.

	An employee in two teams of the scope (different layers) is appraised once, in the team where
	his membership started last; team leads are appraised where they are members.
	"""
	teams = [row.pl_team for row in cycle.teams]
	rows = team_members_on(teams, getdate(cycle.period_start), getdate(cycle.period_end))
	chosen: dict[str, dict] = {}
	for row in rows:
		current = chosen.get(row.employee)
		if current is None or (getdate(row.from_date), row.team) > (getdate(current.from_date), current.team):
			chosen[row.employee] = row
	return [chosen[e] for e in sorted(chosen)]


def create_appraisals(cycle_name: str, publish_progress: bool = False) -> dict:
	"""Create the missing appraisals of a cycle (idempotent: existing ones are left alone)."""
	cycle = locked_cycle(cycle_name)
	_require_status(cycle, "Open")
	members = scope_members(cycle)
	existing = set(
		frappe.get_all(
			"PL Appraisal", filters={"review_cycle": cycle.name, "docstatus": ("<", 2)}, pluck="employee"
		)
	)
	todo = [m for m in members if m.employee not in existing]
	if not todo:
		return {"created": 0, "existing": len(existing), "members": len(members)}

	teams = by_name("PL Team", list({m.team for m in todo}), ["layer"])
	employees = by_name("Employee", [m.employee for m in todo], ["employee_name", "user_id", "company"])
	wrong_company = sorted(e for e, row in employees.items() if row.company != cycle.company)
	if wrong_company:
		frappe.throw(
			_("These employees do not belong to company {0}: {1}").format(
				cycle.company, ", ".join(wrong_company)
			),
			title=_("Wrong Company"),
		)
	lines_by_layer = {}
	for layer in {teams[m.team].layer for m in todo}:
		template = cycle.template_for_layer(layer)
		if not template:
			frappe.throw(
				_("Choose a KPI template for layer(s): {0}").format(_(layer)), title=_("Missing Template")
			)
		lines_by_layer[layer] = (template, kpi_lines_from_template(template))

	names = reserve_names(APPRAISAL_SERIES, len(todo))
	now, user = now_datetime(), frappe.session.user
	common = {"creation": now, "modified": now, "owner": user, "modified_by": user, "docstatus": 0}
	header_fields = [
		"name",
		"naming_series",
		"employee",
		"employee_name",
		"appraisee_user",
		"pl_team",
		"layer",
		"review_cycle",
		"company",
		"template",
		"is_trial",
		"status",
		"period_start",
		"period_end",
		*common,
	]
	line_fields = ["name", "parent", "parenttype", "parentfield", "idx", *common]
	line_keys: list[str] = []
	headers, lines = [], []
	for name, member in zip(names, todo, strict=True):
		layer = teams[member.team].layer
		template, template_lines = lines_by_layer[layer]
		employee = employees[member.employee]
		headers.append(
			{
				"name": name,
				"naming_series": APPRAISAL_SERIES,
				"employee": member.employee,
				"employee_name": employee.employee_name,
				"appraisee_user": employee.user_id,
				"pl_team": member.team,
				"layer": layer,
				"review_cycle": cycle.name,
				"company": cycle.company,
				"template": template,
				"is_trial": cycle.is_trial,
				"status": "Draft",
				"period_start": cycle.period_start,
				"period_end": cycle.period_end,
				**common,
			}
		)
		for idx, line in enumerate(template_lines, start=1):
			row = {
				"name": frappe.generate_hash(length=10),
				"parent": name,
				"parenttype": "PL Appraisal",
				"parentfield": "kpis",
				"idx": idx,
				**common,
				**line,
			}
			lines.append(row)
			line_keys = line_keys or [k for k in row if k not in line_fields]
	# Headers first, INSERT IGNORE: a racing writer that got past the lock (another site process
	# without it, a restored old request) trips the unique key (services/constraints.py) and creates
	# nothing; lines go only to the headers this call really inserted. One transaction: a crash at any
	# point leaves nothing, and running the step again creates everything once.
	lines_by_parent: dict[str, list] = defaultdict(list)
	for row in lines:
		lines_by_parent[row["parent"]].append(row)
	all_line_fields = line_fields + line_keys
	total = len(headers)
	created = 0
	for start in range(0, total, CHUNK):
		chunk = headers[start : start + CHUNK]
		insert_many(
			"PL Appraisal",
			header_fields,
			[[h[f] for f in header_fields] for h in chunk],
			ignore_duplicates=True,
		)
		kill_point("after_header_insert")
		mine = set(
			frappe.get_all("PL Appraisal", filters={"name": ("in", [h["name"] for h in chunk])}, pluck="name")
		)
		created += len(mine)
		insert_many(
			"PL Appraisal KPI",
			all_line_fields,
			[
				[row.get(f) for f in all_line_fields]
				for h in chunk
				if h["name"] in mine
				for row in lines_by_parent[h["name"]]
			],
			chunk_size=2000,
		)
		kill_point("after_first_chunk")
		if publish_progress:
			frappe.publish_progress(
				min(start + CHUNK, total) * 100 / total,
				title=_("Creating Appraisals"),
				description=_("{0} of {1}").format(min(start + CHUNK, total), total),
			)
	return {"created": created, "existing": len(existing) + total - created, "members": len(members)}


def reserve_names(series: str, count: int) -> list[str]:
	"""Reserve `count` consecutive names of a naming series in one locked update."""
	prefix = parse_naming_series(series)
	current = frappe.db.sql("select `current` from `tabSeries` where `name` = %s for update", prefix)
	if current:
		start = current[0][0]
		frappe.db.sql("update `tabSeries` set `current` = %s where `name` = %s", (start + count, prefix))
	else:
		start = 0
		frappe.db.sql("insert into `tabSeries` (`name`, `current`) values (%s, %s)", (prefix, count))
	return [f"{prefix}{number:05d}" for number in range(start + 1, start + count + 1)]


def start_self_review(cycle_name: str) -> dict:
	"""Move every Draft appraisal of an open cycle to Self Review in one step."""
	cycle = locked_cycle(cycle_name)
	_require_status(cycle, "Open", "Scoring")
	drafts = frappe.get_all(
		"PL Appraisal", filters={"review_cycle": cycle.name, "docstatus": 0, "status": "Draft"}, pluck="name"
	)
	now = now_datetime()
	bulk_update("PL Appraisal", {name: {"status": "Self Review", "modified": now} for name in drafts})
	insert_versions(
		"PL Appraisal", {name: {"changed": [["status", "Draft", "Self Review"]]} for name in drafts}
	)
	return {"moved": len(drafts)}


# ---------------------------------------------------------------- calibration
def propose_grades(cycle_name: str) -> dict:
	"""Forced distribution per layer: propose a calibrated grade for every appraisal by rank.

	Appraisals already overridden by a calibrator keep their grade.
	"""
	rows = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle_name, "docstatus": ("<", 2)},
		fields=[
			"name",
			"layer",
			"template",
			"total_score",
			"calibrated_grade",
			"calibration_reason",
			"grade",
		],
	)
	templates = {t: frappe.get_doc("PL KPI Template", t) for t in {r.template for r in rows}}
	updates = {}
	by_layer = defaultdict(list)
	for row in rows:
		by_layer[row.layer].append(row)
	for layer_rows in by_layer.values():
		proposal = proposed_grades(templates[layer_rows[0].template], layer_rows)
		for row in layer_rows:
			if row.calibration_reason:  # a calibrator's override stands
				continue
			grade = proposal.get(row.name)
			if grade != row.calibrated_grade:
				updates[row.name] = {"calibrated_grade": grade, "final_grade": grade}
	bulk_update("PL Appraisal", updates)
	return {"proposed": len(updates)}


def proposed_grades(tpl, rows) -> dict[str, str]:
	"""The calibration proposal for one layer's rows (``name``, ``total_score``, ``grade``): the forced
	distribution by rank when the template uses it, else each row's own grade."""
	if not tpl.use_forced_distribution:
		return {r.name: r.grade for r in rows}
	shares = {b.grade: flt(b.forced_share) for b in tpl.grade_bands}
	order = [b.grade for b in sorted(tpl.grade_bands, key=lambda b: -flt(b.min_score))]
	return scoring.forced_distribution({r.name: flt(r.total_score) for r in rows}, shares, grade_order=order)


def calibration_view(cycle_name: str) -> list[dict]:
	"""Per layer and grade: target share, actual count and share, deviation (percentage points)."""
	rows = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle_name, "docstatus": ("<", 2)},
		fields=["name", "layer", "template", "final_grade"],
	)
	out = []
	by_layer = defaultdict(list)
	for row in rows:
		by_layer[row.layer].append(row)
	for layer, layer_rows in sorted(by_layer.items()):
		tpl = frappe.get_doc("PL KPI Template", layer_rows[0].template)
		shares = {b.grade: flt(b.forced_share) for b in tpl.grade_bands}
		order = [b.grade for b in sorted(tpl.grade_bands, key=lambda b: -flt(b.min_score))]
		grades = {r.name: r.final_grade for r in layer_rows if r.final_grade}
		for item in scoring.distribution_deviation(grades, shares, grade_order=order):
			out.append({"layer": layer, **item})
	return out


def override_grade(appraisal: str, grade: str, reason: str) -> dict:
	"""A calibrator sets the final grade by hand; the reason is required and kept."""
	doc = frappe.get_doc("PL Appraisal", appraisal)
	cycle_status = frappe.db.get_value("PL Review Cycle", doc.review_cycle, "status")
	if cycle_status != "Calibration":
		frappe.throw(
			_("Grades can be calibrated only while the cycle is in Calibration."), title=_("Wrong Step")
		)
	if not (reason or "").strip():
		frappe.throw(_("Give the reason for overriding the grade."), title=_("Reason Required"))
	grades = {b.grade for b in frappe.get_doc("PL KPI Template", doc.template).grade_bands}
	if grade not in grades:
		frappe.throw(_("Grade {0} is not one of {1}.").format(grade, ", ".join(sorted(grades))))
	doc.calibrated_grade = grade
	doc.calibration_reason = reason.strip()
	doc.final_grade = grade
	doc.flags.ignore_permissions = True
	doc.save()
	return {"final_grade": doc.final_grade}


# ---------------------------------------------------------------- people and notices
def unbriefed_employees(cycle) -> list[str]:
	"""Employees in the cycle's scope who have not acknowledged any scheme briefing of the company."""
	members = {m.employee for m in scope_members(cycle)}
	if not members:
		return []
	attendee = frappe.qb.DocType("PL Briefing Attendee")
	briefing = frappe.qb.DocType("PL Scheme Briefing")
	acknowledged = set(
		(
			frappe.qb.from_(attendee)
			.join(briefing)
			.on(attendee.parent == briefing.name)
			.select(attendee.employee)
			.where((briefing.company == cycle.company) & (attendee.acknowledged == 1))
		).run(pluck=True)
	)
	missing = sorted(members - acknowledged)
	if missing:
		frappe.msgprint(
			_("{0} employees in this cycle have not acknowledged a scheme briefing.").format(len(missing)),
			title=_("Briefing Not Acknowledged"),
			indicator="orange",
		)
	return missing


def notify(users: list[str], subject: str, doctype: str, name: str, on_commit: bool = True):
	"""Notification Log (bell icon, and email per the user's settings) for many users at once.

	Queued when the transaction commits (Frappe's ``enqueue_create_notification`` queues at once): a step
	or a daily job that is rolled back or killed before its commit tells nobody about work that did not
	happen, and its re-run tells them once. ``on_commit=False``: queued now, for a notice remembered
	outside the database (the feedback reminders' mark in the cache)."""
	users = sorted({u for u in users if u})
	if not users or frappe.flags.in_install:
		return
	frappe.enqueue(
		"frappe.desk.doctype.notification_log.notification_log.make_notification_logs",
		doc=frappe._dict(
			{
				"subject": subject,
				"type": "Alert",
				"document_type": doctype,
				"document_name": name,
				"from_user": frappe.session.user,
			}
		),
		users=users,
		now=frappe.flags.in_test,
		enqueue_after_commit=on_commit,
	)


def approve_all(cycle_name: str) -> dict:
	"""Approve (submit) every appraisal in Calibration at once, after the no-data policy check.

	Set-wise equivalent of the workflow's Approve action on each appraisal.
	"""
	cycle = locked_cycle(cycle_name)
	_require_status(cycle, "Calibration")
	rows = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle.name, "docstatus": 0, "status": "Calibration"},
		fields=["name", "template"],
	)
	names = [r.name for r in rows]
	strict = {
		t
		for t in {r.template for r in rows}
		if frappe.db.get_value("PL KPI Template", t, "no_data_policy") == scoring.REQUIRE_MANUAL_VALUE
	}
	if strict:
		missing = frappe.get_all(
			"PL Appraisal KPI",
			filters={
				"parenttype": "PL Appraisal",
				"parent": ("in", [r.name for r in rows if r.template in strict] or [""]),
				"no_data": 1,
			},
			pluck="parent",
			distinct=True,
		)
		if missing:
			frappe.throw(
				_("These appraisals have KPI lines without data that need a manual value: {0}").format(
					", ".join(sorted(missing)[:10])
				),
				title=_("Missing KPI Values"),
			)
	now = now_datetime()
	bulk_update("PL Appraisal", {n: {"status": "Approved", "docstatus": 1, "modified": now} for n in names})
	line_names = frappe.get_all(
		"PL Appraisal KPI",
		filters={"parenttype": "PL Appraisal", "parent": ("in", names or [""])},
		pluck="name",
	)
	bulk_update("PL Appraisal KPI", {n: {"docstatus": 1} for n in line_names})
	insert_versions(
		"PL Appraisal",
		{n: {"changed": [["status", "Calibration", "Approved"], ["docstatus", 0, 1]]} for n in names},
	)
	return {"approved": len(names)}
