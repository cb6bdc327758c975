"""Scheme Satisfaction: the cycle's satisfaction survey, as aggregates only.

Survey answers are private to their respondents (permissions.py), so this report reads them with SQL
and shows only aggregates: per question and team, the number of responses, the mean rating (1–5) and
the share of 4–5 ratings. Nobody may be identifiable: a team with fewer than three responses is merged
into "Other teams", and when that group still has fewer than three, the smallest teams shown are merged
into it as well; with fewer than three responses in all, nothing is shown. Suggestions are listed
without names, in a shuffled (deterministic) order, only when the responses they come from are shown.
A team leader sees his own teams only, under the same rule.
"""

from __future__ import annotations

import html
import random
import statistics

import frappe
from frappe import _

from postloan_performance.engine.metrics import MIN_SURVEY_RESPONSES
from postloan_performance.services.access import visible_teams
from postloan_performance.services.reports.common import (
	bar_chart,
	get_cycle,
	percent,
	require,
	summary_item,
	team_and_descendants,
)

QUESTIONS = ("fairness", "clarity", "motivation", "workload")
MIN_RESPONSES = MIN_SURVEY_RESPONSES
OTHER_TEAMS = "__other__"
ALL_TEAMS = "__all__"
FAVOURABLE = 4


def question_label(question: str) -> str:
	return {
		"fairness": _("Fairness"),
		"clarity": _("Clarity"),
		"motivation": _("Motivation"),
		"workload": _("Workload"),
	}[question]


def columns() -> list[dict]:
	return [
		{"label": _("Question"), "fieldname": "question", "fieldtype": "Data", "width": 120},
		{"label": _("Team"), "fieldname": "team", "fieldtype": "Data", "width": 190},
		{"label": _("Responses"), "fieldname": "responses", "fieldtype": "Int", "width": 100},
		{
			"label": _("Mean Rating (1-5)"),
			"fieldname": "mean",
			"fieldtype": "Float",
			"precision": 2,
			"width": 120,
		},
		{
			"label": _("Rated 4-5 (%)"),
			"fieldname": "share_favourable",
			"fieldtype": "Percent",
			"precision": 1,
			"width": 110,
		},
	]


def get_data(filters: dict) -> dict:
	require(filters, "review_cycle")
	cycle = get_cycle(filters["review_cycle"], ["cycle_name"])
	scope = team_scope(filters)
	# The groups are formed once over everything the user may see, then the team filter keeps the
	# groups that lie wholly inside it: two filter choices differ by whole groups (each of at least
	# MIN_RESPONSES answers), so comparing them never isolates one answer.
	groups = within(anonymous_groups(survey_answers(cycle.name, visible_teams())), scope)
	answers = survey_answers(cycle.name, scope)
	shown = [a for group in groups.values() for a in group]
	if not shown:
		message = (
			_("Fewer than {0} responses: nothing is shown, to keep the answers anonymous.").format(
				MIN_RESPONSES
			)
			if answers
			else _("No survey responses for this cycle.")
		)
		return {"columns": columns(), "data": [], "chart": None, "summary": [], "message": message}
	rows = question_rows(groups)
	return {
		"columns": columns(),
		"data": rows,
		"chart": chart(shown),
		"summary": summary(shown, appraisal_count(cycle.name, scope)),
		"message": suggestions_html(shown, cycle.name),
	}


def team_scope(filters: dict) -> set[str] | None:
	"""Teams whose answers count: the team filter (with sub-teams) within what the user may see."""
	scope = visible_teams()
	if filters.get("pl_team"):
		subtree = set(team_and_descendants(filters["pl_team"]))
		scope = subtree if scope is None else scope & subtree
	return scope


def within(groups: dict[str, list[dict]], scope: set[str] | None) -> dict[str, list[dict]]:
	"""The groups whose every answer belongs to a team in `scope` (all of them when scope is None)."""
	if scope is None:
		return groups
	return {team: group for team, group in groups.items() if all(a.get("pl_team") in scope for a in group)}


def survey_answers(cycle: str, scope: set[str] | None) -> list[dict]:
	if scope is not None and not scope:
		return []
	survey = frappe.qb.DocType("PL Satisfaction Survey")
	query = (
		frappe.qb.from_(survey)
		.select(survey.pl_team, *(survey[q] for q in QUESTIONS), survey.suggestion)
		.where(survey.review_cycle == cycle)
	)
	if scope is not None:
		query = query.where(survey.pl_team.isin(sorted(scope)))
	return query.run(as_dict=True)


def anonymous_groups(answers: list[dict]) -> dict[str, list[dict]]:
	"""Team -> answers, every group with at least MIN_RESPONSES answers (OTHER_TEAMS for the merged)."""
	by_team: dict[str, list[dict]] = {}
	for answer in answers:
		by_team.setdefault(answer.get("pl_team") or OTHER_TEAMS, []).append(answer)
	other = by_team.pop(OTHER_TEAMS, [])
	shown = {}
	for team, group in by_team.items():
		if len(group) >= MIN_RESPONSES:
			shown[team] = group
		else:
			other += group
	# a small "other" group would be identifiable by difference: merge the smallest teams into it
	while other and len(other) < MIN_RESPONSES and shown:
		smallest = min(shown, key=lambda t: (len(shown[t]), t))
		other += shown.pop(smallest)
	if other and len(other) >= MIN_RESPONSES:
		shown[OTHER_TEAMS] = other
	return shown


def team_label(team: str) -> str:
	if team == OTHER_TEAMS:
		return _("Other teams")
	if team == ALL_TEAMS:
		return _("All Teams")
	return team


def aggregate(answers: list[dict], question: str) -> tuple[int, float | None, float | None]:
	ratings = [int(a[question]) for a in answers if a.get(question)]
	if not ratings:
		return 0, None, None
	favourable = sum(1 for r in ratings if r >= FAVOURABLE)
	return len(ratings), statistics.fmean(ratings), percent(favourable, len(ratings))


def question_rows(groups: dict[str, list[dict]]) -> list[dict]:
	order = sorted(t for t in groups if t != OTHER_TEAMS) + ([OTHER_TEAMS] if OTHER_TEAMS in groups else [])
	if len(order) > 1:
		order.insert(0, ALL_TEAMS)
	every = [a for group in groups.values() for a in group]
	rows = []
	for question in QUESTIONS:
		for team in order:
			answers = every if team == ALL_TEAMS else groups[team]
			responses, mean, share = aggregate(answers, question)
			rows.append(
				{
					"question": question_label(question),
					"question_code": question,
					"team": team_label(team),
					"team_code": team,
					"responses": responses,
					"mean": mean,
					"share_favourable": share,
				}
			)
	return rows


def appraisal_count(cycle: str, scope: set[str] | None) -> int:
	filters = {"review_cycle": cycle, "docstatus": ("<", 2)}
	if scope is not None:
		filters["pl_team"] = ("in", sorted(scope) or [""])
	return frappe.db.count("PL Appraisal", filters)


def overall_mean(answers: list[dict]) -> float | None:
	ratings = [int(a[q]) for a in answers for q in QUESTIONS if a.get(q)]
	return statistics.fmean(ratings) if ratings else None


def chart(answers: list[dict]) -> dict:
	values = []
	for question in QUESTIONS:
		_count, mean, _share = aggregate(answers, question)
		values.append(round(mean, 2) if mean is not None else 0)
	return bar_chart(
		[question_label(q) for q in QUESTIONS], [{"name": _("Mean Rating (1-5)"), "values": values}]
	)


def summary(answers: list[dict], appraisals: int) -> list[dict]:
	mean = overall_mean(answers)
	rate = percent(len(answers), appraisals)
	return [
		summary_item(len(answers), _("Responses"), "Int"),
		summary_item(round(rate, 1) if rate is not None else 0, _("Response Rate (%)"), "Percent"),
		summary_item(
			round(mean * 20, 2) if mean is not None else 0,
			_("Overall Satisfaction (0-100)"),
			"Float",
			"Green",
		),
	]


def suggestions_html(answers: list[dict], seed: str) -> str:
	"""The suggestions as an escaped HTML list, without names, in a shuffled but repeatable order.

	Frappe stores text fields sanitised (`<` as `&lt;`), data loaded in bulk may be raw: unescape first,
	so that each suggestion is escaped exactly once.
	"""
	texts = (html.unescape(a.get("suggestion") or "").strip() for a in answers)
	texts = sorted(t for t in texts if t)
	random.Random(seed).shuffle(texts)
	title = html.escape(_("Suggestions (anonymous)"))
	if not texts:
		none = html.escape(_("none"))
		return f"<p><b>{title}</b>: {none}</p>"
	items = "".join(f"<li>{html.escape(t)}</li>" for t in texts)
	return f'<div class="plp-suggestions"><p><b>{title}</b></p><ul>{items}</ul></div>'
