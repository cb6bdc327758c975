"""Risk and service data: alerts, risk events, assessments, tickets and their ratings."""

from __future__ import annotations

import numpy as np

from postloan_performance.datagen.common import _Calendar, _choice, _pick, _uniform_days
from postloan_performance.datagen.loans import _Loans
from postloan_performance.datagen.organisation import _Org
from postloan_performance.datagen.schema import CHANNELS, DAY_SECONDS, NO_DAY
from postloan_performance.datagen.simulation import _Simulation

# --------------------------------------------------------------------------------------- risk and service

ALERT_RULES = (
	"DPD Spike",
	"Multi-lender Inquiry Surge",
	"Income Decline",
	"Collateral Value Drop",
	"Court Judgment",
	"Payment Pattern Change",
)
SEVERITIES = ("Low", "Medium", "High", "Critical")
EVENT_TYPES = (
	"Fraud Suspicion",
	"Collateral Damage",
	"Borrower Deceased",
	"Business Closure",
	"Litigation",
	"Identity Theft",
	"Guarantor Default",
)
SUGGESTIONS = (
	"",
	"",
	"",
	"Make the targets clearer at the start of the cycle.",
	"Weight recoveries more than call volume.",
	"Share the team ranking every month.",
	"The workload is uneven between teams.",
	"More training on the new collection strategy.",
)
RESPONSE_MINUTES = np.array([3.0, 20.0, 12.0, 8.0, 150.0])  # by channel


def _alerts(sim: _Simulation, org: _Org, cal: _Calendar, rng: np.random.Generator) -> dict:
	loans = sim.loans
	teams = org.layer_teams["Risk Control"]
	if not teams or not loans.n:
		return {}
	roster = org.roster("Risk Control", cal.start - 90)
	# true positives: loans turning NPL, caught some days or weeks before
	npl = np.flatnonzero((sim.first_npl_month >= 0) & (sim.npl_day >= cal.start))
	team = loans.team[npl] % len(teams)
	officer = roster.pick(team, sim.npl_day[npl], rng)
	caught = rng.random(len(npl)) < np.clip(0.7 + 0.08 * org.emp_skill[officer], 0.3, 0.95)
	tp_loan, tp_officer = npl[caught], officer[caught]
	tp_raised = np.maximum(sim.npl_day[tp_loan] - rng.integers(3, 56, len(tp_loan)), cal.start)
	# false alarms: loans that never turn NPL, kept more often for weaker officers
	clean = np.flatnonzero(sim.first_npl_month < 0)
	n_raw = round(len(tp_loan) * 0.9) + max(1, cal.months // 6)
	fa_loan = clean[rng.integers(0, len(clean), n_raw)] if len(clean) else np.zeros(0, np.int64)
	fa_raised = rng.integers(cal.start, cal.month_end[-1] + 1, len(fa_loan))
	fa_officer = roster.pick(loans.team[fa_loan] % len(teams), fa_raised, rng)
	keep = rng.random(len(fa_loan)) < np.clip(0.5 - 0.15 * org.emp_skill[fa_officer], 0.1, 0.9)
	fa_loan, fa_raised, fa_officer = fa_loan[keep], fa_raised[keep], fa_officer[keep]
	n_tp, n_fa = len(tp_loan), len(fa_loan)
	confirmed = np.concatenate([np.ones(n_tp, bool), np.zeros(n_fa, bool)])
	raised = np.concatenate([tp_raised, fa_raised])
	outcome_day = raised + np.where(
		confirmed, rng.integers(2, 22, n_tp + n_fa), rng.integers(5, 46, n_tp + n_fa)
	)
	pending = rng.random(n_tp + n_fa) < 0.03
	severity = np.where(
		confirmed,
		_choice(rng, np.array([0.05, 0.25, 0.45, 0.25]), n_tp + n_fa),
		_choice(rng, np.array([0.35, 0.4, 0.2, 0.05]), n_tp + n_fa),
	)
	return {
		"loan": np.concatenate([tp_loan, fa_loan]),
		"rule": _pick(ALERT_RULES, rng.integers(0, len(ALERT_RULES), n_tp + n_fa)),
		"severity": _pick(SEVERITIES, severity),
		"raised": raised,
		"officer": np.concatenate([tp_officer, fa_officer]),
		"outcome": np.where(pending, "Pending", np.where(confirmed, "Confirmed", "False Alarm")).astype(
			object
		),
		"outcome_day": np.where(pending, NO_DAY, outcome_day),
	}


def _loan_work(layer: str, rate: float, loans: _Loans, org: _Org, cal: _Calendar, rng: np.random.Generator):
	"""Work items of a layer on random loans, `rate` per loan and month: (roster, count, loan, the index of
	the layer team each loan's team hands them to), or None without a team of the layer or without loans."""
	teams = org.layer_teams[layer]
	if not teams or not loans.n:
		return None
	roster = org.roster(layer, cal.start - 90)
	count = int(rng.poisson(rate * loans.n * cal.months))
	loan = rng.integers(0, loans.n, count)
	return roster, count, loan, loans.team[loan] % len(teams)


def _events(loans: _Loans, org: _Org, cal: _Calendar, rng: np.random.Generator) -> dict:
	work = _loan_work("Risk Control", 0.004, loans, org, cal, rng)
	if work is None:
		return {}
	roster, count, loan, team = work
	reported = rng.integers(cal.start * DAY_SECONDS, (cal.month_end[-1] + 1) * DAY_SECONDS, count)
	handler = roster.pick(team, reported // DAY_SECONDS, rng)
	hours = np.clip(
		np.exp(np.log(16.0) - 0.3 * org.emp_skill[handler] + rng.normal(0.0, 0.85, count)), 1.0, 240.0
	)
	resolved = reported + (hours * 3600).astype(np.int64)
	resolved = np.where(rng.random(count) < 0.04, NO_DAY, resolved)
	order = np.argsort(reported, kind="stable")
	return {
		"loan": loan[order],
		"type": _pick(EVENT_TYPES, rng.integers(0, len(EVENT_TYPES), count))[order],
		"reported": reported[order],
		"resolved": resolved[order],
		"handler": handler[order],
	}


def _assessments(loans: _Loans, org: _Org, cal: _Calendar, rng: np.random.Generator) -> dict:
	authors = np.flatnonzero(org.emp_layer == "Risk Control")
	if not len(authors) or not loans.n:
		return {}
	per_month = 1 + rng.poisson(1.5, (len(authors), cal.months))
	author = np.repeat(np.repeat(authors, cal.months), per_month.ravel())
	month = np.repeat(np.tile(np.arange(cal.months), len(authors)), per_month.ravel())
	count = len(author)
	day = _uniform_days(rng, cal.month_start[month], cal.month_end[month])
	quality = np.clip(np.round(3.4 + 0.7 * org.emp_skill[author] + rng.normal(0.0, 0.6, count)), 1, 5).astype(
		np.int64
	)
	team = org.emp_home[author]
	lead = np.array(org.team_lead)[team]
	parent_lead = np.array(org.team_lead)[np.maximum(np.array(org.team_parent)[team], 0)]
	reviewer = np.where(lead == author, parent_lead, lead)
	order = np.lexsort((author, day))
	return {
		"loan": rng.integers(0, loans.n, count)[order],
		"author": author[order],
		"day": day[order],
		"quality": quality[order],
		"reviewer": reviewer[order],
	}


def _tickets(loans: _Loans, org: _Org, cal: _Calendar, rng: np.random.Generator) -> dict:
	work = _loan_work("Customer Service", 0.02, loans, org, cal, rng)
	if work is None:
		return {}
	roster, count, loan, team = work
	day = rng.integers(cal.start, cal.month_end[-1] + 1, count)
	opened = day * DAY_SECONDS + rng.integers(8 * 3600, 22 * 3600, count)
	channel = _choice(rng, np.array([0.35, 0.25, 0.25, 0.08, 0.07]), count)
	agent = roster.pick(team, day, rng)
	skill = org.emp_skill[agent]
	minutes = np.clip(
		RESPONSE_MINUTES[channel] * np.exp(-0.35 * skill + rng.normal(0.0, 0.7, count)), 1.0, 2880.0
	)
	first_response = opened + (minutes * 60).astype(np.int64)
	resolves = rng.random(count) < np.clip(0.9 + 0.04 * skill, 0.7, 0.99)
	hours = rng.exponential(30.0, count) * np.exp(-0.3 * skill) + 0.25
	resolved = np.where(resolves, first_response + (hours * 3600).astype(np.int64), NO_DAY)
	order = np.argsort(opened, kind="stable")
	return {
		"loan": loan[order],
		"channel": _pick(CHANNELS, channel)[order],
		"agent": agent[order],
		"opened": opened[order],
		"first_response": first_response[order],
		"resolved": resolved[order],
	}


def _rating(rng: np.random.Generator, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
	csat = np.clip(np.round(mean + rng.normal(0.0, 0.8, len(mean))), 1, 5).astype(np.int64)
	nps = np.clip(np.round(2.0 * csat + 0.3 + rng.normal(0.0, 1.2, len(mean))), 0, 10).astype(np.int64)
	return csat, nps
