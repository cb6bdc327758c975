"""The demo's 360 feedback and team surveys."""

from __future__ import annotations

import numpy as np

import frappe
from frappe.utils import getdate, now_datetime

from postloan_performance.services import cycle as cycle_service
from postloan_performance.services.access import team_members_on
from postloan_performance.services.bulk import insert_many
from postloan_performance.services.demo.plan import DEMO_COMPANY, SURVEY_SERIES
from postloan_performance.services.feedback import insert_feedback


# ---------------------------------------------------------------- 360 feedback and survey
def _insert_feedback(ctx, cycle, index: int, appraisals: list) -> int:
	"""Submitted 360 feedback for every appraisal: self, manager and up to two peers (set-wise)."""
	teams = {
		t.name: t
		for t in frappe.get_all("PL Team", {"company": DEMO_COMPANY}, ["name", "parent_pl_team", "team_lead"])
	}
	members: dict[str, list[str]] = {}
	for row in team_members_on(list(teams), getdate(cycle.period_start), getdate(cycle.period_end)):
		members.setdefault(row.team, []).append(row.employee)
	criteria = {
		t: frappe.get_all(
			"PL Feedback Criterion",
			filters={"parent": t, "parenttype": "PL KPI Template"},
			pluck="criterion",
			order_by="idx asc",
		)
		for t in {a.template for a in appraisals}
	}
	users = dict(frappe.get_all("Employee", {"company": DEMO_COMPANY}, ["name", "user_id"], as_list=True))
	rng = np.random.default_rng([int(ctx.seed) % (1 << 64), 300 + index])
	bias = {"Self": 0.35, "Manager": 0.0, "Peer": 0.1}

	def manager_of(team: str, employee: str) -> str | None:
		seen = set()
		while team and team not in seen and team in teams:
			seen.add(team)
			if teams[team].team_lead and teams[team].team_lead != employee:
				return teams[team].team_lead
			team = teams[team].parent_pl_team
		return None

	requests = []
	for a in appraisals:
		manager = manager_of(a.pl_team, a.employee)
		peers = sorted(
			(e for e in set(members.get(a.pl_team, [])) if e not in (a.employee, manager)),
			key=lambda e: ctx.key_of.get(e, e),
		)
		chosen = [peers[i] for i in sorted(rng.permutation(len(peers))[:2])] if peers else []
		reviewers = [(a.employee, "Self")] + ([(manager, "Manager")] if manager else [])
		reviewers += [(p, "Peer") for p in chosen]
		for reviewer, relationship in reviewers:
			mean = 3.6 + ctx.latent[ctx.key_of[a.employee]] + bias[relationship]
			ratings = [int(np.clip(round(mean + rng.normal(0.0, 0.55)), 1, 5)) for _c in criteria[a.template]]
			requests.append((a, reviewer, relationship, ratings))
	if not requests:
		return 0
	return len(insert_feedback(cycle, requests, criteria, users))


def _insert_surveys(ctx, cycle: str, index: int, appraisals: list) -> int:
	"""The scheme satisfaction survey of a cycle: about 85 % answer; clarity and fairness improve as
	the scheme settles in (set-wise)."""
	surveys = ctx.ds.surveys.set_index("respondent")
	users = dict(frappe.get_all("Employee", {"company": DEMO_COMPANY}, ["name", "user_id"], as_list=True))
	rng = np.random.default_rng([int(ctx.seed) % (1 << 64), 400 + index])
	drift = np.array([0.25, 0.3, 0.15, 0.0]) * index
	rows = []
	for a in appraisals:
		key = ctx.key_of[a.employee]
		answers = rng.random() < 0.85
		noise = rng.normal(0.0, 0.5, 4)
		keep_suggestion = rng.random() < 0.5
		if not answers or key not in surveys.index:
			continue
		base = surveys.loc[key, ["fairness", "clarity", "motivation", "workload"]].to_numpy(dtype=float)
		ratings = np.clip(np.round(base + drift + noise), 1, 5).astype(int)
		suggestion = surveys.loc[key, "suggestion"] if keep_suggestion else None
		rows.append((a, users.get(a.employee), [int(r) for r in ratings], suggestion))
	if not rows:
		return 0
	names = cycle_service.reserve_names(SURVEY_SERIES, len(rows))
	now, user = now_datetime(), frappe.session.user
	fields = [
		"name",
		"naming_series",
		"review_cycle",
		"respondent",
		"respondent_user",
		"pl_team",
		"fairness",
		"clarity",
		"motivation",
		"workload",
		"suggestion",
		"creation",
		"modified",
		"owner",
		"modified_by",
		"docstatus",
	]
	values = [
		[
			name,
			SURVEY_SERIES,
			cycle,
			a.employee,
			respondent_user,
			a.pl_team,
			*ratings,
			suggestion,
			now,
			now,
			user,
			user,
			0,
		]
		for name, (a, respondent_user, ratings, suggestion) in zip(names, rows, strict=True)
	]
	insert_many("PL Satisfaction Survey", fields, values, chunk_size=2000)
	return len(values)
