"""Shape a generated dataset to the benchmark's row counts (pure numpy + pandas, no frappe).

``postloan_performance.datagen`` has its own rates (at 200,000 loans and 12 months: ~92k cases, ~1.08 M
actions, ~48k tickets …). The benchmark wants the issue's counts (150k cases, 600k actions, 80k tickets …),
so :func:`build` generates a larger portfolio (:func:`source_loans`) and keeps a consistent part of it:

* **loans**: whole loans with cases, in random order, until the case target is reached, then loans without
  a case (preferring loans with a snapshot at every month-end) up to the loan target. A loan keeps all its
  snapshots, cases, actions, recoveries and case feedback, so the collection history stays consistent;
* **tickets, events, alerts, assessments** on a loan that was not kept move to a kept loan (and, for
  tickets, to that loan's customer); feedback on a ticket follows its ticket;
* **actions, recoveries, alerts, events, tickets, customer feedback** are then sampled down uniformly
  (seeded) to their targets; feedback on a dropped ticket goes with it. Nothing is ever invented.

Every choice uses its own seeded random stream, so the same seed and targets give the same rows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from postloan_performance.datagen import Dataset, OrgSpec, generate
from postloan_performance.datagen.schema import FRAME_DOCTYPES
from postloan_performance.engine.row_rules import SPECS

# datagen's default rates over 12 months per generated loan (measured at 200,000 loans, seed 7)
RATES_PER_LOAN = {
	"cases": 0.46,
	"tickets": 0.24,
	"events": 0.048,
	"alerts": 0.086,
	"customer_feedback": 0.228,
}
HEADROOM = 1.04


@dataclass(frozen=True)
class Targets:
	"""Row counts of the benchmark dataset (the issue's defaults). 0 = keep what the generator makes."""

	loans: int = 200_000
	cases: int = 150_000
	actions: int = 600_000
	recoveries: int = 120_000
	alerts: int = 20_000
	events: int = 10_000
	tickets: int = 80_000
	feedback: int = 60_000

	def as_dict(self) -> dict[str, int]:
		return asdict(self)


DEFAULT_EMPLOYEES, DEFAULT_TEAMS = 2000, 100
PART_LOANS = 200_000  # loans generated at a time: the generator holds ~1.9 GB at this size


def scaled(scale: float) -> tuple[Targets, int, int]:
	"""The benchmark book times `scale`: row targets, employees and teams (10 = 2 M loans, ~23 M
	snapshots, 20,000 staff in 1,000 teams; see README, "Scale-out")."""
	if scale <= 0:
		raise ValueError("scale must be positive")
	base = Targets()
	targets = Targets(**{k: max(1, round(v * scale)) for k, v in base.as_dict().items()})
	return targets, max(4, round(DEFAULT_EMPLOYEES * scale)), max(4, round(DEFAULT_TEAMS * scale))


def parts_of(loans: int, per_part: int = PART_LOANS) -> int:
	"""How many parts a book of ``loans`` is generated in (each at most ``per_part`` loans)."""
	return max(1, math.ceil(loans / per_part))


def _share(total: int, parts: int, index: int) -> int:
	"""``total`` split over ``parts`` as evenly as whole numbers allow (the first parts take the rest)."""
	return total // parts + (1 if index < total % parts else 0)


def part_sizes(
	targets: Targets, employees: int, teams: int, parts: int, index: int
) -> tuple[Targets, int, int]:
	"""Part ``index`` of a book generated in ``parts``: its share of every target, of the staff and teams."""
	share = Targets(**{k: _share(v, parts, index) for k, v in targets.as_dict().items()})
	return share, _share(employees, parts, index), _share(teams, parts, index)


# the columns holding a generated key or a reference to one (employee keys, team names, loan, case, ticket
# and customer numbers, document names): prefixed per part so that parts never share a name
ORG_KEY_COLUMNS = {
	"employees": ("key", "first_name", "team"),
	"teams": ("team_name", "parent_pl_team", "lead_key"),
	"memberships": ("team", "employee_key"),
	"surveys": ("respondent", "team"),
}
_POST_LOAN_KEYS = ("name", "reference", "loan_no", "case_no", "customer")


def key_columns(frame_name: str, columns) -> tuple[str, ...]:
	"""The key columns of one generated frame (see :data:`ORG_KEY_COLUMNS`)."""
	if frame_name in ORG_KEY_COLUMNS:
		return ORG_KEY_COLUMNS[frame_name]
	spec = SPECS[FRAME_DOCTYPES[frame_name]]
	links = [c for c, target in spec.links.items() if target != "Company"]
	return tuple(c for c in columns if c in _POST_LOAN_KEYS or c in links)


def prefixed(ds: Dataset, prefix: str) -> Dataset:
	"""The dataset with ``prefix`` before every key and every reference to one (blank values stay blank).

	A book generated in parts is a set of regions: each part its own organisation, loans and history."""
	frames = {}
	for name, frame in ds.frames().items():
		frame = frame.copy()
		for column in key_columns(name, frame.columns):
			values = frame[column]
			present = values.notna() & (values.astype("string") != "")
			frame[column] = values.astype(object).where(~present, prefix + values.astype("string"))
		frames[name] = frame
	return Dataset(**frames)


def source_loans(targets: Targets, months: int = 12) -> int:
	"""Loans to generate so that every target can be met by keeping or sampling rows."""
	scale = 12.0 / max(months, 1)
	wanted = [targets.loans]
	for frame, count in (
		("cases", targets.cases),
		("tickets", targets.tickets),
		("events", targets.events),
		("alerts", targets.alerts),
		("customer_feedback", targets.feedback),
	):
		if count:
			wanted.append(math.ceil(count / RATES_PER_LOAN[frame] * scale * HEADROOM))
	return max(wanted)


def _rng(seed: int, stream: int) -> np.random.Generator:
	return np.random.default_rng([int(seed) % (1 << 63), 1000 + stream])


def _sample(frame: pd.DataFrame, target: int, rng: np.random.Generator) -> pd.DataFrame:
	"""Uniform sample of ``target`` rows (all rows when there are fewer), in the original order."""
	if not target or len(frame) <= target:
		return frame.reset_index(drop=True)
	keep = np.sort(rng.choice(len(frame), size=target, replace=False))
	return frame.iloc[keep].reset_index(drop=True)


def _choose_loans(ds: Dataset, targets: Targets, rng: np.random.Generator) -> np.ndarray:
	"""Names of the loans to keep (see the module docstring)."""
	loans = ds.loans["name"].to_numpy()
	case_counts = ds.cases.groupby("loan").size()
	with_cases = case_counts.index.to_numpy()
	with_cases = with_cases[rng.permutation(len(with_cases))]
	if targets.cases:
		cumulative = np.cumsum(case_counts.loc[with_cases].to_numpy())
		n_case_loans = int(np.searchsorted(cumulative, targets.cases, side="left") + 1)
	else:
		n_case_loans = len(with_cases)
	n_case_loans = min(n_case_loans, len(with_cases), targets.loans or len(loans))
	kept_case_loans = with_cases[:n_case_loans]
	clean = loans[~pd.Index(loans).isin(with_cases)]  # pandas: numpy's set ops are O(n·m) on strings
	months = ds.snapshots["as_of_date"].nunique()
	full = ds.snapshots.groupby("loan").size()
	clean = clean[rng.permutation(len(clean))]
	is_full = pd.Index(clean).isin(full.index[full.to_numpy() == months])
	clean = np.concatenate([clean[is_full], clean[~is_full]])
	n_clean = max((targets.loans or len(loans)) - n_case_loans, 0)
	return np.sort(np.concatenate([kept_case_loans, clean[:n_clean]]))


def _remap_loans(
	frame: pd.DataFrame, kept: pd.Index, customer_of: pd.Series, rng: np.random.Generator, customer: bool
) -> pd.DataFrame:
	"""Rows on a loan that was not kept move to a random kept loan (and its customer)."""
	frame = frame.copy()
	has_loan = frame["loan"].notna()
	moved = has_loan & ~frame["loan"].isin(kept)
	if moved.any():
		frame.loc[moved, "loan"] = kept.to_numpy()[rng.integers(0, len(kept), int(moved.sum()))]
	if customer and "customer" in frame.columns:
		frame.loc[has_loan, "customer"] = frame.loc[has_loan, "loan"].map(customer_of).to_numpy()
	return frame


def shape(ds: Dataset, targets: Targets, seed: int) -> Dataset:
	"""The benchmark dataset cut from a larger generated one (see the module docstring)."""
	kept = pd.Index(_choose_loans(ds, targets, _rng(seed, 1)))
	loans = ds.loans[ds.loans["name"].isin(kept)].reset_index(drop=True)
	customer_of = loans.set_index("name")["customer"]
	snapshots = ds.snapshots[ds.snapshots["loan"].isin(kept)].reset_index(drop=True)
	cases = ds.cases[ds.cases["loan"].isin(kept)].reset_index(drop=True)
	case_names = pd.Index(cases["name"])
	actions = ds.actions[ds.actions["collection_case"].isin(case_names)]
	actions = _sample(actions, targets.actions, _rng(seed, 2))
	recoveries = ds.recoveries[ds.recoveries["loan"].isin(kept)]
	recoveries = _sample(recoveries, targets.recoveries, _rng(seed, 3))
	alerts = _remap_loans(ds.alerts, kept, customer_of, _rng(seed, 4), customer=False)
	alerts = _sample(alerts, targets.alerts, _rng(seed, 5))
	events = _remap_loans(ds.events, kept, customer_of, _rng(seed, 6), customer=False)
	events = _sample(events, targets.events, _rng(seed, 7))
	assessments = _remap_loans(ds.assessments, kept, customer_of, _rng(seed, 8), customer=False)
	tickets = _remap_loans(ds.tickets, kept, customer_of, _rng(seed, 9), customer=True)
	tickets = _sample(tickets, targets.tickets, _rng(seed, 10))
	feedback = ds.customer_feedback
	on_case = feedback["collection_case"].notna()
	on_ticket = feedback["ticket"].notna()
	keep = (on_case & feedback["collection_case"].isin(case_names)) | (
		on_ticket & feedback["ticket"].isin(pd.Index(tickets["reference"]))
	)
	feedback = feedback[keep].copy()
	ticket_customer = tickets.set_index("reference")["customer"]
	on_ticket = feedback["ticket"].notna()
	feedback.loc[on_ticket, "customer"] = feedback.loc[on_ticket, "ticket"].map(ticket_customer).to_numpy()
	feedback = _sample(feedback, targets.feedback, _rng(seed, 11))
	return Dataset(
		employees=ds.employees,
		teams=ds.teams,
		memberships=ds.memberships,
		loans=loans,
		snapshots=snapshots,
		cases=cases,
		actions=actions,
		recoveries=recoveries,
		alerts=alerts,
		events=events,
		assessments=assessments.reset_index(drop=True),
		tickets=tickets,
		customer_feedback=feedback,
		surveys=ds.surveys,
	)


def build(
	seed: int,
	targets: Targets,
	*,
	employees: int = 2000,
	teams: int = 100,
	start: str = "2025-07-01",
	months: int = 12,
) -> Dataset:
	"""Generate (seeded) and shape the benchmark dataset."""
	ds = generate(
		seed,
		start=start,
		months=months,
		n_loans=source_loans(targets, months),
		org=OrgSpec.scaled(employees, teams),
	)
	return shape(ds, targets, seed)
