"""360 feedback: requests to reviewers, daily reminders and the appraisee's aggregate view.

Who reviews whom (per draft appraisal, for each rater group the template weighs above 0):

- Self: the appraisee.
- Manager: the lead of the appraisal's team; when the appraisee leads that team himself (or it has no
  lead), the lead of the nearest ancestor team that has one.
- Subordinate: the people whose manager, by the rule above, is the appraisee: members of the teams he
  leads, members of lead-less sub-teams below them, and the leads of the sub-teams (at most
  `MAX_SUBORDINATES`).
- Peer: the other members of the appraisal's team during the period, except his manager and his
  subordinates (at most `MAX_PEERS`).

Each reviewer appears once per appraisal, in the first group of Self, Manager, Subordinate, Peer that
names him. Peers and subordinates are chosen deterministically: sorted by a hash of (appraisal,
employee), so a re-run picks the same people and the choice does not favour any name. Reviewers need an
active Employee with an enabled user.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict

import frappe
from frappe import _
from frappe.query_builder.functions import Count
from frappe.utils import add_days, escape_html, flt, getdate, now_datetime, nowdate

from postloan_performance.engine import EngineError, scoring
from postloan_performance.services.access import team_members_on
from postloan_performance.services.appraisal import (
	RELATIONSHIP_WEIGHT_FIELDS,
	group_weights,
	load_ratings,
	qualitative_from_ratings,
)
from postloan_performance.services.bulk import insert_many
from postloan_performance.services.cycle import (
	_require_status,
	get_cycle,
	locked_cycle,
	notify,
	reserve_names,
)
from postloan_performance.services.engine_messages import throw_engine_error

MAX_PEERS = 3
MAX_SUBORDINATES = 3
FEEDBACK_SERIES = "PLF-.YYYY.-"
REQUEST_STATUSES = ("Open", "Scoring")
# Reminders go out daily from this many days before the feedback deadline until the deadline itself.
REMINDER_DAYS = 2
# The appraisee (and his lead) see the 360 summary only once this many reviewers have submitted.
MIN_RATERS = 3
REMINDER_CACHE_KEY = "postloan_performance:feedback_reminders"
INSERT_CHUNK = 2000


# ---------------------------------------------------------------- requests
def request_feedback(cycle_name: str) -> dict:
	"""Create the 360 feedback requests of a cycle: a draft PL Feedback per (appraisal, reviewer) with
	the template's criteria unrated (0), a ToDo for the reviewer, and one notification per reviewer.

	Idempotent: a pair that already has a non-cancelled feedback is kept as it is, so a second run
	creates nothing. Set-wise: a fixed number of queries, whatever the size of the cycle.
	"""
	# One run per cycle at a time (services/locks.py): a second click is refused as already running;
	# the unique key (appraisal, reviewer) keeps any other writer from a duplicate.
	cycle = locked_cycle(cycle_name)
	_require_status(cycle, *REQUEST_STATUSES)

	appraisals = frappe.get_all(
		"PL Appraisal",
		filters={"review_cycle": cycle.name, "docstatus": 0},
		fields=["name", "employee", "employee_name", "pl_team", "template"],
		order_by="name asc",
	)
	result = {
		"appraisals": len(appraisals),
		"created": 0,
		"existing": 0,
		"todos": 0,
		"notified": 0,
		"skipped_without_user": 0,
		"by_relationship": {rel: 0 for rel in RELATIONSHIP_WEIGHT_FIELDS},
	}
	if not appraisals:
		return result

	weights, criteria = _template_settings({a.template for a in appraisals})
	org = _Organisation(cycle)
	reviewer_ids = {a.employee for a in appraisals} | org.employees()
	users = _reviewer_users(reviewer_ids)
	existing = {
		(row.appraisal, row.reviewer)
		for row in frappe.get_all(
			"PL Feedback",
			filters={"appraisal": ("in", [a.name for a in appraisals]), "docstatus": ("<", 2)},
			fields=["appraisal", "reviewer"],
		)
	}

	requests = []  # (appraisal row, reviewer, relationship)
	for appraisal in appraisals:
		chosen, skipped = org.reviewers(appraisal, weights[appraisal.template], users)
		result["skipped_without_user"] += skipped
		for reviewer, relationship in chosen:
			if (appraisal.name, reviewer) in existing:
				result["existing"] += 1
			else:
				requests.append((appraisal, reviewer, relationship))
	if not requests:
		return result

	_insert_requests(cycle, requests, criteria, users)
	per_user: dict[str, int] = defaultdict(int)
	for _appraisal, reviewer, relationship in requests:
		per_user[users[reviewer].user] += 1
		result["by_relationship"][relationship] += 1
	_notify_requests(cycle, per_user, {u.user: u.language for u in users.values()})
	result.update(created=len(requests), todos=len(requests), notified=len(per_user))
	return result


def _template_settings(templates: set[str]) -> tuple[dict[str, dict[str, float]], dict[str, list[str]]]:
	"""Rater group weights and criteria (in the template's order) of many templates, in two queries."""
	rows = frappe.get_all(
		"PL KPI Template",
		filters={"name": ("in", list(templates))},
		fields=["name", *RELATIONSHIP_WEIGHT_FIELDS.values()],
	)
	weights = {
		row.name: {rel: flt(row.get(field)) for rel, field in RELATIONSHIP_WEIGHT_FIELDS.items()}
		for row in rows
	}
	criteria: dict[str, list[str]] = {t: [] for t in templates}
	for row in frappe.get_all(
		"PL Feedback Criterion",
		filters={"parenttype": "PL KPI Template", "parent": ("in", list(templates))},
		fields=["parent", "criterion"],
		order_by="parent asc, idx asc",
	):
		criteria[row.parent].append(row.criterion)
	return weights, criteria


def _rank(appraisal: str, employee: str) -> str:
	return hashlib.sha256(f"{appraisal}\x00{employee}".encode()).hexdigest()


class _Organisation:
	"""The company's team tree and the memberships active during the cycle's period (two queries)."""

	def __init__(self, cycle):
		self.teams = {
			t.name: t
			for t in frappe.get_all(
				"PL Team", filters={"company": cycle.company}, fields=["name", "parent_pl_team", "team_lead"]
			)
		}
		self.members: dict[str, set[str]] = defaultdict(set)
		for row in team_members_on(list(self.teams), getdate(cycle.period_start), getdate(cycle.period_end)):
			self.members[row.team].add(row.employee)
		# Subordinates are the inverse of the manager rule: whoever has X as manager reports to X.
		self.subordinates: dict[str, set[str]] = defaultdict(set)
		pairs = {(team, e) for team, employees in self.members.items() for e in employees}
		pairs |= {(t.name, t.team_lead) for t in self.teams.values() if t.team_lead}
		for team, employee in pairs:
			manager = self.manager_of(team, employee)
			if manager:
				self.subordinates[manager].add(employee)

	def employees(self) -> set[str]:
		found = {e for employees in self.members.values() for e in employees}
		return found | {t.team_lead for t in self.teams.values() if t.team_lead}

	def manager_of(self, team: str, employee: str) -> str | None:
		"""The lead of `team`, or of its nearest ancestor with a lead, who is not `employee` himself."""
		seen = set()
		while team and team not in seen and team in self.teams:
			seen.add(team)
			row = self.teams[team]
			if row.team_lead and row.team_lead != employee:
				return row.team_lead
			team = row.parent_pl_team
		return None

	def reviewers(self, appraisal, weights: dict[str, float], users) -> tuple[list[tuple[str, str]], int]:
		"""(reviewer employee, relationship) pairs for one appraisal, each reviewer once, and how many
		designated reviewers (self, manager) were skipped for want of a user. Peers and subordinates are
		chosen among the people who have a user."""
		employee = appraisal.employee
		manager = self.manager_of(appraisal.pl_team, employee)
		subordinates = self.subordinates.get(employee, set()) - {employee}
		peers = self.members.get(appraisal.pl_team, set()) - {employee, manager} - subordinates
		chosen: dict[str, str] = {}
		skipped = 0

		def pick(candidates, relationship: str, limit: int | None = None):
			nonlocal skipped
			if weights.get(relationship, 0) <= 0:
				return
			candidates = [c for c in candidates if c and c not in chosen]
			if limit is None:
				skipped += sum(1 for c in candidates if c not in users)
			ordered = sorted((c for c in candidates if c in users), key=lambda e: _rank(appraisal.name, e))
			for candidate in ordered[:limit]:
				chosen[candidate] = relationship

		pick([employee], "Self")
		pick([manager], "Manager")
		pick(subordinates, "Subordinate", MAX_SUBORDINATES)
		pick(peers, "Peer", MAX_PEERS)
		return list(chosen.items()), skipped


def _reviewer_users(employees: set[str]) -> dict[str, frappe._dict]:
	"""Employee -> (user, language) for active employees with an enabled user, in one query."""
	if not employees:
		return {}
	employee = frappe.qb.DocType("Employee")
	user = frappe.qb.DocType("User")
	rows = (
		frappe.qb.from_(employee)
		.join(user)
		.on(user.name == employee.user_id)
		.select(employee.name, employee.user_id, user.language)
		.where(employee.name.isin(list(employees)) & (employee.status == "Active") & (user.enabled == 1))
	).run()
	return {name: frappe._dict(user=user_id, language=language) for name, user_id, language in rows}


def insert_feedback(
	cycle, rows: list, criteria: dict[str, list[str]], users: dict[str, str | None]
) -> list[str]:
	"""Bulk-insert PL Feedback documents with their criterion rows; returns their names.

	``rows`` are ``(appraisal, reviewer, relationship, ratings)``: ``ratings`` None makes a draft request
	(unrated criteria, assigned to the reviewer's user), a list of ratings (one per criterion of the
	appraisal's template, in order) a submitted feedback. ``users`` maps reviewer -> user."""
	names = reserve_names(FEEDBACK_SERIES, len(rows))
	now, session_user = now_datetime(), frappe.session.user
	common = [now, now, session_user, session_user]
	meta = ["creation", "modified", "owner", "modified_by"]
	feedback_fields = ["name", "naming_series", "appraisal", "appraisee", "appraisee_name", "review_cycle"]
	feedback_fields += ["reviewer", "reviewer_user", "relationship", "docstatus", "_assign", *meta]
	rating_fields = ["name", "parent", "parenttype", "parentfield", "idx", "criterion", "rating", "docstatus"]
	rating_fields += meta
	feedback_rows, rating_rows = [], []
	for name, (appraisal, reviewer, relationship, ratings) in zip(names, rows, strict=True):
		reviewer_user = users.get(reviewer)
		docstatus = 0 if ratings is None else 1
		assign = json.dumps([reviewer_user]) if ratings is None and reviewer_user else None
		feedback_rows.append(
			[
				name,
				FEEDBACK_SERIES,
				appraisal.name,
				appraisal.employee,
				appraisal.employee_name,
				cycle.name,
				reviewer,
				reviewer_user,
				relationship,
				docstatus,
				assign,
				*common,
			]
		)
		template_criteria = criteria.get(appraisal.template, [])
		values = [0] * len(template_criteria) if ratings is None else ratings
		for idx, (criterion, rating) in enumerate(zip(template_criteria, values, strict=True), start=1):
			rating_rows.append(
				[
					frappe.generate_hash(length=10),
					name,
					"PL Feedback",
					"ratings",
					idx,
					criterion,
					rating,
					docstatus,
					*common,
				]
			)
	insert_many("PL Feedback", feedback_fields, feedback_rows, chunk_size=INSERT_CHUNK)
	insert_many("PL Feedback Rating", rating_fields, rating_rows, chunk_size=INSERT_CHUNK)
	return names


def _insert_requests(cycle, requests, criteria: dict[str, list[str]], users: dict[str, frappe._dict]):
	"""Bulk-insert the draft feedback, their unrated criteria and the reviewers' ToDos."""
	names = insert_feedback(
		cycle,
		[(appraisal, reviewer, relationship, None) for appraisal, reviewer, relationship in requests],
		criteria,
		{employee: row.user for employee, row in users.items()},
	)
	now, session_user = now_datetime(), frappe.session.user
	common = [now, now, session_user, session_user]
	default_language = frappe.db.get_default("lang") or "en"
	assigned_by_name = frappe.utils.get_fullname(session_user)
	todo_fields = ["name", "status", "priority", "date", "allocated_to", "description", "reference_type"]
	todo_fields += ["reference_name", "assigned_by", "assigned_by_full_name"]
	todo_fields += ["creation", "modified", "owner", "modified_by"]
	todo_rows = []
	for name, (appraisal, reviewer, relationship) in zip(names, requests, strict=True):
		lang = users[reviewer].language or default_language
		description = _("Give your 360 feedback ({0}) on {1} for review cycle {2}.", lang=lang).format(
			_(relationship, lang=lang),
			escape_html(appraisal.employee_name or ""),
			escape_html(cycle.cycle_name),
		)
		todo_rows.append(
			[
				frappe.generate_hash(length=10),
				"Open",
				"Medium",
				cycle.feedback_deadline,
				users[reviewer].user,
				description,
				"PL Feedback",
				name,
				session_user,
				assigned_by_name,
				*common,
			]
		)
	insert_many("ToDo", todo_fields, todo_rows, chunk_size=INSERT_CHUNK)


def _deadline_text(cycle) -> str:
	return (
		frappe.format_value(cycle.feedback_deadline, {"fieldtype": "Date"}) if cycle.feedback_deadline else ""
	)


def _notify_requests(cycle, per_user: dict[str, int], languages: dict[str, str | None]):
	"""One notification per reviewer; reviewers with the same count and language share one call."""
	default_language = frappe.db.get_default("lang") or "en"
	groups: dict[tuple[str, int], list[str]] = defaultdict(list)
	for user, count in per_user.items():
		groups[(languages.get(user) or default_language, count)].append(user)
	deadline = _deadline_text(cycle)
	for (lang, count), users in sorted(groups.items()):
		if deadline:
			subject = _(
				"You have {0} new 360 feedback requests in review cycle {1}; please give them by {2}.",
				lang=lang,
			).format(count, escape_html(cycle.cycle_name), deadline)
		else:
			subject = _("You have {0} new 360 feedback requests in review cycle {1}.", lang=lang).format(
				count, escape_html(cycle.cycle_name)
			)
		notify(users, subject, "PL Review Cycle", cycle.name)


# ---------------------------------------------------------------- giving feedback
def expected_relationship(appraisal, reviewer: str) -> str | None:
	"""The relationship the org chart gives ``reviewer`` to the appraisee of ``appraisal`` (a row with
	employee, pl_team, review_cycle), by the rules of :func:`request_feedback`; None when there is none."""
	if reviewer == appraisal.employee:
		return "Self"
	org = _Organisation(get_cycle(appraisal.review_cycle))
	manager = org.manager_of(appraisal.pl_team, appraisal.employee)
	if reviewer == manager:
		return "Manager"
	subordinates = org.subordinates.get(appraisal.employee, set()) - {appraisal.employee}
	if reviewer in subordinates:
		return "Subordinate"
	if reviewer in org.members.get(appraisal.pl_team, set()) - {appraisal.employee, manager}:
		return "Peer"
	return None


def check_feedback_request(doc) -> None:
	"""PL Feedback.validate: feedback is only ever given on a request made by :func:`request_feedback`.

	The document must be that request (a new PL Feedback is refused), still for the same appraisal,
	reviewer and relationship; its cycle must accept feedback (Open or Scoring); and the relationship must
	still be the one the org chart gives the reviewer."""
	stored = None
	if not doc.is_new():
		stored = frappe.db.get_value(
			"PL Feedback", doc.name, ["appraisal", "reviewer", "relationship", "docstatus"], as_dict=True
		)
	if (
		not stored
		or stored.appraisal != doc.appraisal
		or stored.reviewer != doc.reviewer
		or stored.relationship != doc.relationship
	):
		frappe.throw(
			_("Feedback can only be given on a feedback request sent to you; open it from your ToDo list."),
			frappe.PermissionError,
			title=_("No Feedback Request"),
		)
	appraisal = frappe.db.get_value(
		"PL Appraisal", doc.appraisal, ["employee", "pl_team", "review_cycle"], as_dict=True
	)
	status = frappe.db.get_value("PL Review Cycle", appraisal.review_cycle, "status")
	if status not in REQUEST_STATUSES:
		frappe.throw(
			_("Review cycle {0} is {1}; feedback is accepted only while it is {2}.").format(
				frappe.bold(appraisal.review_cycle), _(status), " / ".join(_(s) for s in REQUEST_STATUSES)
			),
			title=_("Feedback Closed"),
		)
	if expected_relationship(appraisal, doc.reviewer) != doc.relationship:
		frappe.throw(
			_("The org chart does not make this reviewer the appraisee's {0}.").format(_(doc.relationship)),
			frappe.PermissionError,
			title=_("Invalid Relationship"),
		)


# ---------------------------------------------------------------- reminders
def send_feedback_reminders(cycles: list[str] | None = None) -> dict:
	"""Daily job: remind reviewers of their pending (draft) feedback in the days before the deadline.

	Cycles in Open or Scoring whose feedback deadline is today or within the next `REMINDER_DAYS` days
	(only those named in `cycles`, when given). Each reviewer gets one reminder per cycle per day, even if
	the job runs twice: the users reminded today are remembered in the cache.
	"""
	today = getdate(nowdate())
	filters = {
		"status": ("in", REQUEST_STATUSES),
		"feedback_deadline": ("between", (today, add_days(today, REMINDER_DAYS))),
	}
	if cycles is not None:
		filters["name"] = ("in", list(cycles) or [""])
	cycles = frappe.get_all(
		"PL Review Cycle",
		filters=filters,
		fields=["name", "cycle_name", "feedback_deadline"],
		order_by="name asc",
	)
	notified = 0
	for cycle in cycles:
		notified += _remind_cycle(cycle, today)
	return {"cycles": len(cycles), "notified": notified}


def reminder_cache_key(cycle: str, day) -> str:
	return f"{REMINDER_CACHE_KEY}:{cycle}:{getdate(day).isoformat()}"


def _remind_cycle(cycle, today) -> int:
	feedback = frappe.qb.DocType("PL Feedback")
	appraisal = frappe.qb.DocType("PL Appraisal")
	user = frappe.qb.DocType("User")
	rows = (
		frappe.qb.from_(feedback)
		.join(appraisal)
		.on(appraisal.name == feedback.appraisal)
		.join(user)
		.on(user.name == feedback.reviewer_user)
		.select(feedback.reviewer_user, user.language, Count(feedback.name))
		.where(
			(feedback.review_cycle == cycle.name)
			& (feedback.docstatus == 0)
			& (appraisal.docstatus < 2)
			& (user.enabled == 1)
		)
		.groupby(feedback.reviewer_user, user.language)
	).run()
	key = reminder_cache_key(cycle.name, today)
	# expires=True: read Redis itself, not the per-request copy (set_value with expiry bypasses it)
	already = set(frappe.cache.get_value(key, expires=True) or [])
	due = [(u, lang, count) for u, lang, count in rows if u not in already]
	if not due:
		return 0
	default_language = frappe.db.get_default("lang") or "en"
	groups: dict[tuple[str, int], list[str]] = defaultdict(list)
	for u, lang, count in due:
		groups[(lang or default_language, count)].append(u)
	deadline = _deadline_text(cycle)
	for (lang, count), users in sorted(groups.items()):
		subject = _(
			"Reminder: {0} of your 360 feedback requests in review cycle {1} are due by {2}.", lang=lang
		).format(count, escape_html(cycle.cycle_name), deadline)
		# queued now, like the mark in the cache below: queued at the commit, a run killed before it would
		# leave the mark without the reminder
		notify(users, subject, "PL Review Cycle", cycle.name, on_commit=False)
	frappe.cache.set_value(key, sorted(already | {u for u, _lang, _count in due}), expires_in_sec=3 * 86400)
	return len(due)


# ---------------------------------------------------------------- the appraisee's view
def feedback_summary(appraisal: str) -> dict:
	"""What the appraisee (and whoever may read the appraisal) learns from his 360 feedback.

	Per criterion, one combined rating (1–5): the mean of each rater group combined by the template's
	rater weights, missing groups renormalised, exactly as the qualitative score is computed; then the
	qualitative score (0–100) and how many reviewers have submitted overall. Rater groups are merged so
	that no single rater can be identified: the answer never holds reviewer names, the groups that rated,
	nor any per-group value (a Manager group, for one, always has a single rater).
	"""
	from postloan_performance.privacy import results_hidden
	from postloan_performance.services.access import is_manager

	doc = frappe.get_doc("PL Appraisal", appraisal)
	doc.check_permission("read")
	tpl = frappe.get_doc("PL KPI Template", doc.template)
	raters = frappe.db.count("PL Feedback", {"appraisal": doc.name, "docstatus": 1})
	# Fewer than MIN_RATERS raters, or results the user may not see yet: nothing, not even the count
	# (polling it after each submission would isolate one rater's ratings).
	shown = is_manager() or (
		raters >= MIN_RATERS and not results_hidden(doc.as_dict(no_child_table_fields=True))
	)
	rows = load_ratings([doc.name]).get(doc.name, []) if shown else []
	by_criterion: dict[str, list[tuple]] = defaultdict(list)
	for row in rows:
		by_criterion[row[0]].append(row)
	rater_weights = group_weights(tpl)
	criteria = []
	for criterion in tpl.criteria:
		combined = None
		if by_criterion.get(criterion.criterion):
			try:
				score = scoring.qualitative_score(
					by_criterion[criterion.criterion], {criterion.criterion: 1.0}, rater_weights
				)
			except EngineError as e:
				throw_engine_error(e)
			combined = None if score is None else flt(score * scoring.RATING_MAX / 100.0, 2)
		criteria.append(
			{
				"criterion": criterion.criterion,
				"description": criterion.description,
				"weight": flt(criterion.weight),
				"rating": combined,
			}
		)
	qualitative = qualitative_from_ratings(rows, tpl)
	return {
		"appraisal": doc.name,
		"raters": raters if shown else None,
		"min_raters": MIN_RATERS,
		"criteria": criteria,
		"qualitative_score": None if qualitative is None else flt(qualitative, 2),
	}
