"""What the demo is made of: its company, names, the cycle plan and the generated dataset."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

import frappe
from frappe import _
from frappe.utils import add_months, get_first_day, get_last_day, getdate

from postloan_performance.datagen import Dataset, LayerSpec, OrgSpec, generate

DEMO_COMPANY = "PL Demo Lender"
DEMO_ABBR = "PLD"
NAME_PREFIX = "PLD-"
TEAM_PREFIX = "PLD "
USER_DOMAIN = "pldemo.example"
SURVEY_SERIES = "PLSS-.YYYY.-"
# The demo's data runs up to this month-end; review cycles are the calendar quarters around it.
DATA_END = dt.date(2026, 9, 30)
MIN_MONTHS = 12
MAX_LOANS = 200_000
DEMO_ORG = OrgSpec(
	management=LayerSpec(3, 3),
	collection=LayerSpec(6, 8),
	risk_control=LayerSpec(2, 5),
	customer_service=LayerSpec(2, 6),
)
MANAGEMENT_TEAM_NAMES = ("Head Office", "North Region", "South Region")
SURNAMES = (
	"Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo "
	"Zheng Liang Xie Song Tang Han Feng Deng Cao Peng"
).split()
GIVEN_NAMES = (
	"Wei Fang Na Min Jing Lei Qiang Jun Yang Yong Yan Jie Juan Tao Ming Chao Xiu Xia Ping Gang "
	"Hui Hong Bin Ying Hua Lin Bo Dan Ning Yu Xin Hao Kai Lan Rui Shu Ting Wen Yi Zhen"
).split()
SELF_ASSESSMENTS = (
	"Cleared most of my early-bucket cases within the month; two large M3 cases still need work.",
	"Handled more alerts than last quarter and wrote shorter, clearer risk reports.",
	"Kept first response under target on most days; the WeChat channel was the busiest.",
	"Focused on promises to pay and checked every broken promise within three days.",
	"Coached two new colleagues while keeping my own portfolio on track.",
)
MANAGER_COMMENTS = (
	"Solid quarter; keep the follow-up discipline on promises to pay.",
	"Good analysis; escalate critical events earlier.",
	"Reliable and calm with difficult customers; well done.",
)
APPEAL_REASONS = (
	"Two cured cases were booked to a colleague after my transfer; please check the case log.",
	"The risk event of late September was resolved on time but recorded a week late.",
	"Several tickets were reopened by the system after resolution and counted against me.",
)


class DemoError(frappe.ValidationError):
	pass


# ---------------------------------------------------------------- plan
def _quarter_start(day: dt.date) -> dt.date:
	return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _quarter(start: dt.date) -> tuple[dt.date, dt.date, str]:
	end = getdate(get_last_day(add_months(start, 2)))
	return start, end, f"{start.year} Q{(start.month - 1) // 3 + 1}"


def cycle_plan(data_end: dt.date = DATA_END) -> list[frappe._dict]:
	"""The demo's review cycles: a trial, two formal cycles and one in progress (oldest first)."""
	last = _quarter_start(data_end)
	quarters = [_quarter(getdate(add_months(last, 3 * k))) for k in (-3, -2, -1, 0, 1)]
	baseline, trial, formal1, formal2, current = quarters
	spec = []
	for (start, end, label), base, is_trial, final in (
		(trial, baseline, 1, "Closed"),
		(formal1, trial, 0, "Closed"),
		(formal2, formal1, 0, "Published"),
		(current, formal2, 0, "Open"),
	):
		spec.append(
			frappe._dict(
				cycle_name=f"{TEAM_PREFIX}{label}" + (" Trial" if is_trial else ""),
				period_start=start,
				period_end=end,
				baseline_start=base[0],
				baseline_end=base[1],
				is_trial=is_trial,
				final_status=final,
			)
		)
	return spec


def data_start(months: int, data_end: dt.date = DATA_END) -> dt.date:
	return getdate(get_first_day(add_months(data_end, -(months - 1))))


# ---------------------------------------------------------------- dataset
def _people(count: int, seed: int) -> list[str]:
	"""`count` distinct, realistic names, the same for the same seed."""
	rng = np.random.default_rng([int(seed) % (1 << 64), 101])
	pool = [f"{s} {g}" for s in SURNAMES for g in GIVEN_NAMES]
	order = rng.permutation(len(pool))
	names = [pool[i] for i in order[:count]]
	return names + [f"Demo Employee {i:04d}" for i in range(len(names) + 1, count + 1)]


def _team_name(generated: str) -> str:
	"""'Demo Collection 01' -> 'PLD Collection 01'; management teams get regional names."""
	rest = generated.removeprefix("Demo ")
	if rest.startswith("Management "):
		number = int(rest.rsplit(" ", 1)[1])
		if number <= len(MANAGEMENT_TEAM_NAMES):
			rest = MANAGEMENT_TEAM_NAMES[number - 1]
	return TEAM_PREFIX + rest


def _prefixed(series: pd.Series) -> pd.Series:
	return series.map(lambda v: NAME_PREFIX + v if isinstance(v, str) and v else v)


def demo_dataset(seed: int = 2026, n_loans: int = 3000, months: int = 12) -> Dataset:
	"""The generated dataset with the demo's names: people, teams, and every document name prefixed."""
	if months < MIN_MONTHS:
		raise DemoError(_("The demo needs at least {0} months of data.").format(MIN_MONTHS))
	ds = generate(seed, start=data_start(months), months=months, n_loans=n_loans, org=DEMO_ORG)
	teams = {name: _team_name(name) for name in ds.teams["team_name"]}

	def team(series: pd.Series) -> pd.Series:
		return series.map(lambda v: teams.get(v, v) if isinstance(v, str) else v)

	frames = ds.frames()
	frames["employees"] = ds.employees.assign(
		first_name=_people(len(ds.employees), seed), team=team(ds.employees["team"])
	)
	frames["teams"] = ds.teams.assign(
		team_name=team(ds.teams["team_name"]), parent_pl_team=team(ds.teams["parent_pl_team"])
	)
	frames["memberships"] = ds.memberships.assign(team=team(ds.memberships["team"]))
	frames["surveys"] = ds.surveys.assign(team=team(ds.surveys["team"]))
	prefixed_columns = {
		"loans": ("name", "loan_no", "customer"),
		"snapshots": ("name", "loan"),
		"cases": ("name", "case_no", "loan"),
		"actions": ("reference", "collection_case"),
		"recoveries": ("reference", "loan", "collection_case"),
		"alerts": ("reference", "loan"),
		"events": ("reference", "loan"),
		"assessments": ("reference", "loan"),
		"tickets": ("reference", "customer", "loan"),
		"customer_feedback": ("reference", "customer", "collection_case", "ticket"),
	}
	for frame, columns in prefixed_columns.items():
		frames[frame] = frames[frame].assign(**{c: _prefixed(frames[frame][c]) for c in columns})
	frames["loans"] = frames["loans"].assign(managing_team=team(frames["loans"]["managing_team"]))
	frames["cases"] = frames["cases"].assign(pl_team=team(frames["cases"]["pl_team"]))
	frames["assessments"] = frames["assessments"].assign(portfolio=team(frames["assessments"]["portfolio"]))
	return Dataset(**frames)
