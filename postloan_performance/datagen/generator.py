"""Deterministic synthetic post-loan data: organisation, loans, monthly snapshots and the post-loan work.

Pure numpy + pandas (no frappe). ``generate(seed)`` returns a :class:`Dataset` of DataFrames whose columns
are the DocType field names of the post-loan DocTypes (``name`` is the document name); employee-valued
columns hold employee *keys* ("E0001" …) that the site loader maps to Employee documents. The same seed
and arguments always give identical frames.

Model:

* **Organisation** – one root management team, optional sub-management teams, and collection, risk-control
  and customer-service teams under them; the first member of every team is its lead. A few collectors move
  to another collection team mid-period (the old membership ends the day before the new one starts).
* **Loans** – products with their own principal, term, rate, collateral and risk; annuity amortisation.
* **Snapshots** – one per loan per month-end, simulated month by month for all loans at once: buckets move by
  a Markov roll-rate matrix (M0→M1 ≈ 4 %, M1 cure ≈ 55 %, deeper buckets roll more, M6+ mostly stays or is
  written off); a collector's skill raises the cure and lowers the roll probability of his cases. Loans
  settle early (status Settled, a last snapshot with outstanding 0) or are written off (last snapshot with
  outstanding 0, status Written Off).
* **Cases** open the day a loan first falls overdue, go to a collector of the loan's managing team who is a
  member that day, and close as Cured / Paid Off / Written Off, or are handed to Legal / Outsourced.
* **Actions, promises to pay and recoveries** are generated per case-month, consistent with the month's
  outcome (a cure is a payment; a promise made in a rolling month is mostly broken).
* **Alerts** are raised days or weeks before loans turn NPL (Confirmed) plus false alarms; **events**,
  **assessments**, **tickets**, **customer feedback** and one **survey** per employee complete the set.

Everything after ``as_of`` (default: the last month-end) is cut off: later rows are dropped, later
closing dates become NaT (cases reopen, tickets are unresolved, alerts Pending).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from itertools import product as _cartesian

import numpy as np
import pandas as pd

from postloan_performance.engine.delinquency import (
	BUCKET_LOWER_DPD,
	BUCKET_UPPER_DPD,
	BUCKETS,
	CLASSIFICATION_UPPER_DPD,
	CLASSIFICATIONS,
)

__all__ = [
	"BUCKETS",
	"CLASSIFICATIONS",
	"COLUMNS",
	"LAYERS",
	"Dataset",
	"LayerSpec",
	"OrgSpec",
	"bucket_of",
	"classification_of",
	"generate",
]

LAYERS = ("Management", "Collection", "Risk Control", "Customer Service")
ACTION_TYPES = ("Call", "SMS", "Visit", "Letter", "Legal")
CONTACT_RESULTS = ("", "Right Party", "Third Party", "No Contact")
CHANNELS = ("Phone", "App", "WeChat", "Branch", "Email")
PRODUCTS = ("Consumer", "SME", "Mortgage", "Auto")
BRANCHES = ("Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Hangzhou", "Chengdu", "Wuhan", "Nanjing")

COLUMNS: dict[str, tuple[str, ...]] = {
	"employees": ("key", "first_name", "layer", "team", "is_lead"),
	"teams": ("team_name", "layer", "parent_pl_team", "lead_key", "is_group"),
	"memberships": ("team", "employee_key", "from_date", "to_date"),
	"loans": (
		"name",
		"loan_no",
		"customer",
		"product",
		"branch",
		"managing_team",
		"disbursed_on",
		"principal",
		"maturity_date",
		"collateral_value",
		"status",
	),
	"snapshots": (
		"name",
		"loan",
		"as_of_date",
		"outstanding",
		"overdue_amount",
		"dpd",
		"bucket",
		"classification",
	),
	"cases": (
		"name",
		"case_no",
		"loan",
		"opened_on",
		"closed_on",
		"entry_bucket",
		"entry_overdue_amount",
		"collector",
		"pl_team",
		"status",
	),
	"actions": (
		"reference",
		"collection_case",
		"collector",
		"action_type",
		"action_on",
		"contact_result",
		"outcome",
		"ptp_amount",
		"ptp_date",
	),
	"recoveries": ("reference", "loan", "collection_case", "collector", "amount", "received_on"),
	"alerts": ("reference", "loan", "rule", "severity", "raised_on", "officer", "outcome", "outcome_on"),
	"events": ("reference", "loan", "event_type", "reported_on", "resolved_on", "handler"),
	"assessments": ("reference", "loan", "portfolio", "author", "report_date", "quality_rating", "reviewer"),
	"tickets": (
		"reference",
		"customer",
		"loan",
		"channel",
		"agent",
		"status",
		"opened_on",
		"first_response_on",
		"resolved_on",
	),
	"customer_feedback": (
		"reference",
		"customer",
		"employee",
		"collection_case",
		"ticket",
		"csat",
		"nps",
		"given_on",
	),
	"surveys": ("respondent", "team", "fairness", "clarity", "motivation", "workload", "suggestion"),
}

NO_DAY = np.iinfo(np.int64).min  # int64 view of NaT (days or seconds)
DAY_SECONDS = 86_400

# --------------------------------------------------------------------------------------------- organisation


@dataclass(frozen=True)
class LayerSpec:
	"""``teams`` teams of ``members`` people each (the lead included) in one layer."""

	teams: int
	members: int


@dataclass(frozen=True)
class OrgSpec:
	"""Shape of the demo organisation.

	``management.teams`` management teams: the first is the root, the others its children; the functional
	teams hang (round robin) under the non-root management teams, or under the root when it is alone.
	The first member of every team is its lead. The default is the small demo organisation: one management
	team (lead + 2), two collection teams of 4, one risk-control team of 3, one customer-service team of 3.
	"""

	management: LayerSpec = field(default_factory=lambda: LayerSpec(1, 3))
	collection: LayerSpec = field(default_factory=lambda: LayerSpec(2, 4))
	risk_control: LayerSpec = field(default_factory=lambda: LayerSpec(1, 3))
	customer_service: LayerSpec = field(default_factory=lambda: LayerSpec(1, 3))

	def layers(self) -> tuple[tuple[str, LayerSpec], ...]:
		return tuple(
			zip(
				LAYERS,
				(self.management, self.collection, self.risk_control, self.customer_service),
				strict=True,
			)
		)

	@property
	def n_teams(self) -> int:
		return sum(spec.teams for _layer, spec in self.layers())

	@property
	def n_employees(self) -> int:
		return sum(spec.teams * spec.members for _layer, spec in self.layers())

	def validate(self) -> None:
		for layer, spec in self.layers():
			if spec.teams < 0 or (spec.teams and spec.members < 1):
				raise ValueError(f"{layer}: teams must be >= 0 and members >= 1, got {spec}")
		if self.management.teams < 1 or self.collection.teams < 1:
			raise ValueError("an organisation needs at least one management and one collection team")

	@classmethod
	def scaled(cls, n_employees: int, n_teams: int) -> OrgSpec:
		"""About ``n_employees`` people in exactly ``n_teams`` teams over the four layers (benchmark shape).

		≈4 % of the teams are management teams of a few people; of the rest ≈62 % collection, ≈19 % risk
		control, ≈19 % customer service, with team sizes chosen so the head count is as close to
		``n_employees`` as possible (exact for e.g. 2,000 in 100 teams).
		"""
		if n_teams < 4:
			raise ValueError("scaled() needs at least 4 teams (one per layer)")
		if n_employees < 2 * n_teams:
			raise ValueError("scaled() needs at least two employees per team")
		management = max(1, round(n_teams * 0.04))
		rest = n_teams - management
		risk = max(1, round(rest * 0.19))
		service = max(1, round(rest * 0.19))
		collection = rest - risk - service
		management_size = int(min(6, max(2, n_employees // n_teams // 4)))
		remaining = n_employees - management * management_size
		base = max(1, remaining // rest)
		best: tuple[tuple[int, int, int], tuple[int, int, int]] | None = None
		sizes = [size for size in range(base - 3, base + 4) if size >= 1]
		for sc, sr, ss in _cartesian(sizes, sizes, sizes):
			miss = abs(collection * sc + risk * sr + service * ss - remaining)
			key = (miss, max(sc, sr, ss) - min(sc, sr, ss), -sc)
			if best is None or key < best[0]:
				best = (key, (sc, sr, ss))
		assert best is not None
		sc, sr, ss = best[1]
		return cls(
			management=LayerSpec(management, management_size),
			collection=LayerSpec(collection, sc),
			risk_control=LayerSpec(risk, sr),
			customer_service=LayerSpec(service, ss),
		)


# ------------------------------------------------------------------------------------------------- dataset


@dataclass
class Dataset:
	"""The generated frames; columns as in :data:`COLUMNS` (DocType field names, ``name`` = document name)."""

	employees: pd.DataFrame
	teams: pd.DataFrame
	memberships: pd.DataFrame
	loans: pd.DataFrame
	snapshots: pd.DataFrame
	cases: pd.DataFrame
	actions: pd.DataFrame
	recoveries: pd.DataFrame
	alerts: pd.DataFrame
	events: pd.DataFrame
	assessments: pd.DataFrame
	tickets: pd.DataFrame
	customer_feedback: pd.DataFrame
	surveys: pd.DataFrame

	def frames(self) -> dict[str, pd.DataFrame]:
		"""Frame name → DataFrame, in declaration order."""
		return {item.name: getattr(self, item.name) for item in fields(self)}

	def row_counts(self) -> dict[str, int]:
		return {name: len(frame) for name, frame in self.frames().items()}

	def engine_frames(self) -> dict[str, pd.DataFrame]:
		"""The frames under the names and columns ``engine.metrics`` reads (``collection_case`` → ``case``,
		``surveys`` → ``survey``); employee columns keep employee keys."""
		frames = {name: frame for name, frame in self.frames().items() if name != "surveys"}
		for name in ("actions", "recoveries", "customer_feedback"):
			frames[name] = frames[name].rename(columns={"collection_case": "case"})
		frames["survey"] = self.surveys
		return frames


# -------------------------------------------------------------------------------------------------- helpers


def bucket_of(dpd: np.ndarray) -> np.ndarray:
	"""Bucket index 0..6 (M0 … M6+) of days past due: 0, 1–30, 31–60, 61–90, 91–120, 121–150, 151+."""
	uppers = np.array([upper for upper, _ in BUCKET_UPPER_DPD], dtype=np.int64)
	return np.searchsorted(uppers, np.maximum(np.asarray(dpd, dtype=np.int64), 0), side="left")


def classification_of(dpd: np.ndarray) -> np.ndarray:
	"""Classification index 0..4: 0 Normal, 1–90 Special Mention, 91–270 Substandard, 271–360 Doubtful, Loss."""
	uppers = np.array([upper for upper, _ in CLASSIFICATION_UPPER_DPD], dtype=np.int64)
	return np.searchsorted(uppers, np.asarray(dpd, dtype=np.int64), side="left")


def _rng(seed: int, stream: int) -> np.random.Generator:
	return np.random.default_rng([int(seed) % (1 << 64), stream])


def _to_date(value: str | dt.date | dt.datetime) -> dt.date:
	if isinstance(value, dt.datetime):
		return value.date()
	if isinstance(value, dt.date):
		return value
	return dt.date.fromisoformat(str(value))


def _day(value: dt.date) -> int:
	return int(np.datetime64(value, "D").astype(np.int64))


def _dates(days: np.ndarray) -> np.ndarray:
	"""int64 day numbers (NO_DAY = missing) → datetime64[ns] with NaT."""
	return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")


def _datetimes(seconds: np.ndarray) -> np.ndarray:
	return np.asarray(seconds, dtype=np.int64).astype("datetime64[s]").astype("datetime64[ns]")


def _ascii(matrix: np.ndarray) -> np.ndarray:
	"""Rows of ASCII codes (uint8, one row per string) → object array of str, without a Python loop."""
	matrix = np.ascontiguousarray(matrix, dtype=np.uint8)
	width = matrix.shape[1]
	return matrix.view(f"S{width}").ravel().astype(f"U{width}").astype(object)


def _ascii_rows(values: np.ndarray) -> np.ndarray:
	"""Equal-length ASCII strings → their rows of codes (n × width uint8)."""
	encoded = np.asarray(values).astype("S")
	return encoded.view(np.uint8).reshape(len(encoded), encoded.dtype.itemsize)


def _codes(prefix: str, count: int, width: int) -> np.ndarray:
	"""``prefix`` + zero-padded 1 … count ("ACT0000001" …), at least ``width`` digits."""
	width = max(width, len(str(count)))
	powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
	digits = (np.arange(1, count + 1, dtype=np.int64)[:, None] // powers) % 10 + ord("0")
	head = np.broadcast_to(np.frombuffer(prefix.encode("ascii"), dtype=np.uint8), (count, len(prefix)))
	return _ascii(np.hstack([head, digits.astype(np.uint8)]))


def _pick(labels: tuple[str, ...], index: np.ndarray) -> np.ndarray:
	return np.array(labels, dtype=object)[np.asarray(index, dtype=np.int64)]


def _choice(rng: np.random.Generator, probabilities: np.ndarray, size: int) -> np.ndarray:
	"""Index into a probability vector (or one row per draw from a 2-D table)."""
	cumulative = np.cumsum(np.asarray(probabilities, dtype=float), axis=-1)
	draw = rng.random(size) * (cumulative[..., -1] if cumulative.ndim > 1 else cumulative[-1])
	if cumulative.ndim == 1:
		return np.minimum(np.searchsorted(cumulative, draw, side="right"), len(cumulative) - 1)
	return np.minimum((cumulative < draw[:, None]).sum(axis=1), cumulative.shape[1] - 1)


def _uniform_days(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
	"""A uniform integer day in [low, high] per row (high >= low)."""
	low = np.asarray(low, dtype=np.int64)
	span = np.maximum(np.asarray(high, dtype=np.int64) - low + 1, 1)
	return low + (rng.random(len(low)) * span).astype(np.int64)


def _object(values: list | np.ndarray) -> pd.Series:
	"""A column that keeps Python None (nullable Link values) instead of pandas' NaN."""
	return pd.Series(np.asarray(values, dtype=object), dtype=object)


_DATE_COLUMNS = frozenset(
	(
		"from_date to_date disbursed_on maturity_date as_of_date opened_on closed_on action_on ptp_date received_on "
		"raised_on outcome_on reported_on resolved_on report_date first_response_on given_on"
	).split()
)
_FLOAT_COLUMNS = frozenset(
	"principal collateral_value outstanding overdue_amount entry_overdue_amount ptp_amount amount".split()
)
_INT_COLUMNS = frozenset("dpd is_group quality_rating csat nps fairness clarity motivation workload".split())


def _empty(column: str) -> np.ndarray:
	if column in _DATE_COLUMNS:
		return np.zeros(0, dtype="datetime64[ns]")
	if column in _FLOAT_COLUMNS:
		return np.zeros(0, dtype=float)
	if column in _INT_COLUMNS:
		return np.zeros(0, dtype=np.int64)
	if column == "is_lead":
		return np.zeros(0, dtype=bool)
	return np.zeros(0, dtype=object)


def _frame(name: str, data: dict) -> pd.DataFrame:
	"""A frame with exactly the documented columns (typed even when there are no rows)."""
	columns = list(COLUMNS[name])
	if not data:
		data = {column: _empty(column) for column in columns}
	return pd.DataFrame(data, columns=columns).reset_index(drop=True)


def _sigmoid(values: np.ndarray) -> np.ndarray:
	return 1.0 / (1.0 + np.exp(-values))


class _Calendar:
	def __init__(self, start: dt.date, months: int) -> None:
		self.start = _day(start)
		first_month = np.datetime64(start, "M")
		ends = (first_month + np.arange(1, months + 1)).astype("datetime64[D]") - np.timedelta64(1, "D")
		self.month_end = ends.astype(np.int64)
		self.month_start = np.concatenate([[self.start], self.month_end[:-1] + 1]).astype(np.int64)
		self.months = months
		self.first_month = first_month


# ------------------------------------------------------------------------------------------ organisation


ROLE_NAMES = {
	"Management": "Manager",
	"Collection": "Collector",
	"Risk Control": "Risk Officer",
	"Customer Service": "Service Agent",
}


class _Org:
	"""Teams, employees (with a hidden skill) and dated memberships, as arrays."""

	def __init__(self, spec: OrgSpec, cal: _Calendar, rng: np.random.Generator) -> None:
		spec.validate()
		self.team_name: list[str] = []
		self.team_layer: list[str] = []
		self.team_parent: list[int] = []
		self.team_lead: list[int] = []
		self.layer_teams: dict[str, list[int]] = {layer: [] for layer in LAYERS}
		emp_layer: list[str] = []
		emp_team: list[int] = []
		emp_lead: list[bool] = []
		emp_name: list[str] = []
		counters = dict.fromkeys(LAYERS, 0)
		widths = {layer: max(3, len(str(s.teams * s.members))) for layer, s in spec.layers()}
		management = spec.management.teams
		functional = 0
		for layer, layer_spec in spec.layers():
			team_width = max(2, len(str(layer_spec.teams)))
			for number in range(1, layer_spec.teams + 1):
				team = len(self.team_name)
				if layer == "Management":
					parent = -1 if number == 1 else 0
				else:
					parent = 0 if management == 1 else 1 + functional % (management - 1)
					functional += 1
				self.team_name.append(f"Demo {layer} {number:0{team_width}d}")
				self.team_layer.append(layer)
				self.team_parent.append(parent)
				self.team_lead.append(len(emp_layer))
				self.layer_teams[layer].append(team)
				for member in range(layer_spec.members):
					counters[layer] += 1
					emp_layer.append(layer)
					emp_team.append(team)
					emp_lead.append(member == 0)
					emp_name.append(f"Demo {ROLE_NAMES[layer]} {counters[layer]:0{widths[layer]}d}")
		n = len(emp_layer)
		self.n_employees = n
		self.emp_key = _codes("E", n, 4)
		self.emp_name = np.array(emp_name, dtype=object)
		self.emp_layer = np.array(emp_layer, dtype=object)
		self.emp_lead = np.array(emp_lead, dtype=bool)
		self.emp_home = np.array(emp_team, dtype=np.int64)
		self.emp_skill = np.clip(rng.normal(0.0, 1.0, n), -2.5, 2.5)
		children = set(self.team_parent)
		self.team_is_group = [1 if team in children else 0 for team in range(len(self.team_name))]
		# memberships: everyone since before the start; a few collectors move mid-period
		team_of = list(emp_team)
		from_day = list(cal.start - rng.integers(90, 1500, n))
		to_day = [NO_DAY] * n
		employee = list(range(n))
		collection_teams = self.layer_teams["Collection"]
		movable = np.flatnonzero((self.emp_layer == "Collection") & ~self.emp_lead)
		if len(collection_teams) >= 2 and len(movable):
			n_moves = min(len(movable), max(2, len(movable) // 100))
			movers = rng.choice(movable, size=n_moves, replace=False)
			for number, mover in enumerate(movers):
				offset = (
					cal.months // 2
					if number == 0
					else int(rng.integers(max(1, cal.months // 4), max(2, cal.months)))
				)
				move_day = int((cal.first_month + max(1, offset)).astype("datetime64[D]").astype(np.int64))
				home = collection_teams.index(int(self.emp_home[mover]))
				target = collection_teams[
					(home + int(rng.integers(1, len(collection_teams)))) % len(collection_teams)
				]
				to_day[int(mover)] = move_day - 1
				team_of.append(target)
				employee.append(int(mover))
				from_day.append(move_day)
				to_day.append(NO_DAY)
		self.m_team = np.array(team_of, dtype=np.int64)
		self.m_employee = np.array(employee, dtype=np.int64)
		self.m_from = np.array(from_day, dtype=np.int64)
		self.m_to = np.array(to_day, dtype=np.int64)

	def roster(self, layer: str, base_day: int) -> _Roster:
		return _Roster(self, self.layer_teams[layer], base_day)


class _Roster:
	"""Members of the teams of one layer by date, for weighted random assignment (leads count half)."""

	def __init__(self, org: _Org, teams: list[int], base_day: int) -> None:
		self.teams = np.array(teams, dtype=np.int64)
		local = np.full(len(org.team_name), -1, dtype=np.int64)
		local[self.teams] = np.arange(len(teams))
		keep = local[org.m_team] >= 0
		m_team, m_emp = local[org.m_team[keep]], org.m_employee[keep]
		m_from, m_to = org.m_from[keep], org.m_to[keep]
		bounds = np.concatenate([m_from, m_to[m_to != NO_DAY] + 1])
		self.epochs = np.unique(np.concatenate([[base_day], bounds[bounds > base_day]]))
		width = max(1, int(np.bincount(m_team, minlength=len(teams)).max(initial=1)))
		self.members = np.full((len(self.epochs), len(teams), width), -1, dtype=np.int64)
		weights = np.zeros((len(self.epochs), len(teams), width))
		for e, day in enumerate(self.epochs):
			active = (m_from <= day) & ((m_to == NO_DAY) | (m_to >= day))
			for t in range(len(teams)):
				people = m_emp[active & (m_team == t)]
				self.members[e, t, : len(people)] = people
				weights[e, t, : len(people)] = np.where(org.emp_lead[people], 0.5, 1.0)
		self.cumulative = np.cumsum(weights, axis=2)

	def pick(self, team: np.ndarray, day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
		"""One member per row of local team index ``team`` on ``day``."""
		epoch = np.clip(np.searchsorted(self.epochs, day, side="right") - 1, 0, len(self.epochs) - 1)
		cumulative = self.cumulative[epoch, team]
		draw = rng.random(len(team)) * cumulative[:, -1]
		slot = np.minimum((cumulative <= draw[:, None]).sum(axis=1), cumulative.shape[1] - 1)
		return self.members[epoch, team, slot]


# ------------------------------------------------------------------------------------------------ loans

PRODUCT_SHARE = np.array([0.45, 0.20, 0.15, 0.20])
PRINCIPAL_MEDIAN = np.array([30_000.0, 400_000.0, 900_000.0, 150_000.0])
PRINCIPAL_SIGMA = np.array([0.5, 0.7, 0.4, 0.35])
RATE_RANGE = np.array([[0.08, 0.18], [0.045, 0.08], [0.035, 0.05], [0.05, 0.09]])
TERMS = (np.array([24, 36]), np.array([24, 36, 60]), np.array([120, 240, 360]), np.array([36, 48, 60]))
PRODUCT_RISK = np.array([1.4, 1.1, 0.4, 0.8])
SETTLE_MONTHLY = np.array([0.004, 0.004, 0.003, 0.006])
WRITE_OFF_MONTHLY = np.array([0.20, 0.16, 0.05, 0.12])


class _Loans:
	def __init__(self, n: int, org: _Org, cal: _Calendar, rng: np.random.Generator) -> None:
		self.n = n
		self.product = _choice(rng, PRODUCT_SHARE, n)
		self.principal = np.round(
			PRINCIPAL_MEDIAN[self.product] * np.exp(rng.normal(0.0, 1.0, n) * PRINCIPAL_SIGMA[self.product]),
			-2,
		)
		low, high = RATE_RANGE[self.product, 0], RATE_RANGE[self.product, 1]
		self.monthly_rate = (low + rng.random(n) * (high - low)) / 12.0
		term = np.zeros(n, dtype=np.int64)
		for p, choices in enumerate(TERMS):
			rows = np.flatnonzero(self.product == p)
			term[rows] = rng.choice(choices, size=len(rows))
		self.term = np.maximum(term, cal.months + 3)
		growth = (1.0 + self.monthly_rate) ** self.term
		self.installment = self.principal * self.monthly_rate * growth / (growth - 1.0)
		max_age = np.clip(self.term - cal.months - 2, 1, 60)
		self.age0 = 1 + (rng.random(n) * max_age).astype(np.int64)  # installments due by the first month-end
		disbursed_month = (cal.first_month - self.age0).astype("datetime64[D]").astype(np.int64)
		day_of_month = rng.integers(0, 28, n)
		self.disbursed = disbursed_month + day_of_month
		self.maturity = (cal.first_month - self.age0 + self.term).astype("datetime64[D]").astype(
			np.int64
		) + day_of_month
		secured = np.where(self.product == 1, rng.random(n) < 0.5, self.product >= 2)
		ltv = np.select(
			[self.product == 2, self.product == 3],
			[rng.uniform(1.25, 1.8, n), rng.uniform(0.8, 1.1, n)],
			rng.uniform(0.6, 1.3, n),
		)
		self.collateral = np.where(secured, np.round(self.principal * ltv, -2), 0.0)
		self.risk = PRODUCT_RISK[self.product] * np.exp(rng.normal(0.0, 0.5, n))
		n_teams = len(org.layer_teams["Collection"])
		self.team = rng.integers(0, n_teams, n)  # local collection-team index
		self.branch = (self.team * 3 + rng.integers(0, 3, n)) % len(BRANCHES)
		n_customers = max(1, int(np.ceil(n * 0.9)))
		self.customer = np.where(np.arange(n) < n_customers, np.arange(n), rng.integers(0, n_customers, n))

	def balance(self, paid: np.ndarray, rows: np.ndarray) -> np.ndarray:
		rate = self.monthly_rate[rows]
		growth = (1.0 + rate) ** np.minimum(paid, self.term[rows])
		value = self.principal[rows] * growth - self.installment[rows] * (growth - 1.0) / rate
		return np.maximum(value, 0.0)


def _overdue(outstanding: np.ndarray, installment: np.ndarray, dpd: np.ndarray) -> np.ndarray:
	missed = (dpd + 29) // 30
	return np.minimum(outstanding, installment * missed * (1.0 + 0.0005 * dpd))


# ------------------------------------------------------------------------------------------------ dynamics

# monthly bucket transitions (rows: from M0 … M6+, columns: to M0 … M6+); settlement, write-off and
# hand-over to legal/outsourcing are drawn on top of these
ROLL_RATES = np.array(
	[
		[0.960, 0.040, 0.000, 0.000, 0.000, 0.000, 0.000],
		[0.550, 0.120, 0.330, 0.000, 0.000, 0.000, 0.000],
		[0.220, 0.100, 0.180, 0.500, 0.000, 0.000, 0.000],
		[0.100, 0.040, 0.060, 0.150, 0.650, 0.000, 0.000],
		[0.060, 0.020, 0.020, 0.040, 0.110, 0.750, 0.000],
		[0.040, 0.010, 0.010, 0.010, 0.030, 0.050, 0.850],
		[0.020, 0.000, 0.000, 0.000, 0.000, 0.000, 0.980],
	]
)
INITIAL_DELINQUENT = np.array([0.40, 0.16, 0.11, 0.08, 0.06, 0.19])  # M1 … M6+ among delinquent loans
BUCKET_LOW = np.array(BUCKET_LOWER_DPD)
BUCKET_HIGH = np.array([*(upper for upper, _ in BUCKET_UPPER_DPD), 1 << 30])

# case-month outcomes
NEW, ROLL, STAY, BACK, CURE, PAYOFF, WRITE_OFF, HANDOVER = range(8)
PAYING = (STAY, BACK, CURE, PAYOFF)
CLOSING_STATUS = {CURE: "Cured", PAYOFF: "Paid Off", WRITE_OFF: "Written Off"}


class _Chunks:
	"""Column chunks appended month by month, concatenated once."""

	def __init__(self, **dtypes: type) -> None:
		self.parts: dict[str, list[np.ndarray]] = {name: [np.zeros(0, dtype=d)] for name, d in dtypes.items()}

	def add(self, **columns: np.ndarray) -> None:
		for name, values in columns.items():
			self.parts[name].append(np.asarray(values))

	def get(self) -> dict[str, np.ndarray]:
		return {name: np.concatenate(parts) for name, parts in self.parts.items()}


class _Simulation:
	"""Month-by-month portfolio simulation, vectorised over loans."""

	def __init__(self, loans: _Loans, org: _Org, cal: _Calendar, rng: np.random.Generator) -> None:
		self.loans, self.org, self.cal, self.rng = loans, org, cal, rng
		self.roster = org.roster("Collection", cal.start - 90)
		n = loans.n
		self.open_case = np.full(n, -1, dtype=np.int64)
		self.open_collector = np.full(n, -1, dtype=np.int64)
		self.handed = np.zeros(n, dtype=bool)
		self.term_status = np.zeros(n, dtype=np.int64)  # 0 active, 1 settled, 2 written off
		self.term_day = np.full(n, NO_DAY, dtype=np.int64)
		self.first_npl_month = np.full(n, -1, dtype=np.int64)
		self.npl_day = np.full(n, NO_DAY, dtype=np.int64)
		self.n_cases = 0
		self.cases = _Chunks(
			loan=np.int64,
			opened=np.int64,
			collector=np.int64,
			team=np.int64,
			entry_bucket=np.int64,
			entry_overdue=float,
		)
		self.closures = _Chunks(case=np.int64, day=np.int64, status=object)
		self.case_months = _Chunks(
			case=np.int64,
			loan=np.int64,
			collector=np.int64,
			low=np.int64,
			high=np.int64,
			bucket=np.int64,
			outcome=np.int64,
			pay=float,
			installment=float,
		)
		self.snapshots = _Chunks(
			loan=np.int64, month=np.int64, outstanding=float, overdue=float, dpd=np.int64, bucket=np.int64
		)
		self.run()

	# -- pieces

	def _open(
		self,
		rows: np.ndarray,
		day: np.ndarray,
		dpd_open: np.ndarray,
		outstanding: np.ndarray,
		bucket: np.ndarray,
		month: int,
	) -> None:
		"""Open one case per loan in ``rows`` on ``day``; record its first case-month."""
		loans = self.loans
		count = len(rows)
		if not count:
			return
		ids = np.arange(self.n_cases, self.n_cases + count)
		self.n_cases += count
		collector = self.roster.pick(loans.team[rows], day, self.rng)
		team = self.roster.teams[loans.team[rows]]
		self.cases.add(
			loan=rows,
			opened=day,
			collector=collector,
			team=team,
			entry_bucket=bucket_of(dpd_open),
			entry_overdue=np.round(_overdue(outstanding, loans.installment[rows], dpd_open), 2),
		)
		self.open_case[rows] = ids
		self.open_collector[rows] = collector
		self.case_months.add(
			case=ids,
			loan=rows,
			collector=collector,
			low=day,
			high=np.full(count, self.cal.month_end[month]),
			bucket=bucket,
			outcome=np.full(count, NEW),
			pay=np.zeros(count),
			installment=loans.installment[rows],
		)

	def _balances(self, rows: np.ndarray, dpd: np.ndarray, month: int) -> tuple[np.ndarray, np.ndarray]:
		loans = self.loans
		missed = (dpd + 29) // 30
		outstanding = loans.balance(np.maximum(loans.age0[rows] + month - missed, 0), rows)
		return outstanding, _overdue(outstanding, loans.installment[rows], dpd)

	def _track_npl(self, rows: np.ndarray, dpd: np.ndarray, month: int, earliest: int) -> None:
		fresh = (dpd >= 91) & (self.first_npl_month[rows] < 0)
		crossed = self.cal.month_end[month] - (dpd[fresh] - 91)
		self.first_npl_month[rows[fresh]] = month
		self.npl_day[rows[fresh]] = np.maximum(crossed, earliest)

	# -- the run

	def run(self) -> None:
		loans, cal, rng = self.loans, self.cal, self.rng
		n = loans.n
		# month 0: the initial state
		delinquent = rng.random(n) < np.clip(0.075 * loans.risk / 1.1, 0.005, 0.6)
		bucket = np.where(delinquent, 1 + _choice(rng, INITIAL_DELINQUENT, n), 0)
		low, high = BUCKET_LOW[bucket], np.minimum(BUCKET_HIGH[bucket], BUCKET_LOW[bucket] + 29)
		dpd = low + (rng.random(n) * (high - low + 1)).astype(np.int64)
		dpd = np.where(
			bucket == 6, BUCKET_LOW[6] + rng.exponential(120.0, n).astype(np.int64).clip(0, 600), dpd
		)
		dpd = np.where(bucket == 0, 0, dpd)
		rows = np.arange(n)
		outstanding, overdue = self._balances(rows, dpd, 0)
		self.snapshots.add(
			loan=rows,
			month=np.zeros(n, np.int64),
			outstanding=outstanding,
			overdue=overdue,
			dpd=dpd,
			bucket=bucket,
		)
		late = np.flatnonzero(dpd > 0)
		end = cal.month_end[0]
		opened = np.maximum(cal.start, end - dpd[late] + 1)
		self._open(
			late, opened, np.maximum(dpd[late] - (end - opened), 1), outstanding[late], bucket[late], 0
		)
		self._track_npl(rows, dpd, 0, NO_DAY + 1)
		alive = np.ones(n, dtype=bool)
		for month in range(1, cal.months):
			alive, bucket, dpd, outstanding, overdue = self._month(
				month, alive, bucket, dpd, outstanding, overdue
			)

	def _month(
		self,
		month: int,
		alive: np.ndarray,
		bucket: np.ndarray,
		dpd: np.ndarray,
		outstanding: np.ndarray,
		overdue: np.ndarray,
	) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
		"""One month-end: transitions, terminal events, case closings and openings, the snapshot rows."""
		loans, cal, rng, org = self.loans, self.cal, self.rng, self.org
		rows = np.flatnonzero(alive)
		m = len(rows)
		first_day, end = cal.month_end[month - 1] + 1, cal.month_end[month]
		days_in_month = end - first_day + 1
		prev_bucket, prev_dpd = bucket[rows], dpd[rows]
		prev_out, prev_overdue = outstanding[rows], overdue[rows]
		case = self.open_case[rows]
		has_case = case >= 0
		skill = np.where(has_case, org.emp_skill[np.maximum(self.open_collector[rows], 0)], 0.0)
		# bucket transition
		table = ROLL_RATES[prev_bucket].copy()
		current = prev_bucket == 0
		into_m1 = np.clip(0.035 * loans.risk[rows[current]], 0.003, 0.3)
		table[current, 0], table[current, 1] = 1.0 - into_m1, into_m1
		late = ~current
		table[late, 0] *= np.exp(0.4 * skill[late])
		rolling = np.flatnonzero(late & (prev_bucket < 6))
		table[rolling, prev_bucket[rolling] + 1] *= np.exp(-0.3 * skill[rolling])
		new_bucket = _choice(rng, table / table.sum(axis=1, keepdims=True), m)
		# days past due in the new bucket
		lo, hi = BUCKET_LOW[new_bucket], BUCKET_HIGH[new_bucket]
		entering = (prev_bucket == 0) & (new_bucket == 1)
		fresh_dpd = 1 + (rng.random(m) * min(30, days_in_month)).astype(np.int64)
		wobble = rng.integers(-4, 5, m)
		new_dpd = np.select(
			[
				new_bucket == 0,
				entering,
				(new_bucket == 6) & (prev_bucket == 6),
				new_bucket > prev_bucket,
				new_bucket == prev_bucket,
			],
			[
				0,
				fresh_dpd,
				prev_dpd + days_in_month,
				np.clip(prev_dpd + days_in_month, lo, hi),
				np.clip(prev_dpd + wobble, lo, hi),
			],
			np.clip(prev_dpd + days_in_month - 30 * (prev_bucket - new_bucket + 1), lo, hi),
		)
		# settlement, pay-off of a case, write-off, hand-over
		product = loans.product[rows]
		settle = (new_bucket == 0) & (rng.random(m) < SETTLE_MONTHLY[product])
		payoff = (
			has_case & (new_bucket >= 1) & (new_bucket <= 5) & (rng.random(m) < 0.012 * np.exp(0.3 * skill))
		)
		settled = settle | payoff
		new_bucket = np.where(payoff, 0, new_bucket)
		new_dpd = np.where(payoff, 0, new_dpd)
		written_off = (
			~settled & (new_bucket == 6) & (new_dpd > 180) & (rng.random(m) < WRITE_OFF_MONTHLY[product])
		)
		terminal = settled | written_off
		handover = has_case & ~terminal & (new_bucket >= 4) & (rng.random(m) < 0.06)
		cured = has_case & ~terminal & (new_bucket == 0)
		closing = has_case & (terminal | handover | cured)
		event_day = first_day + (rng.random(m) * days_in_month).astype(np.int64)
		# case-month of the cases open since before this month
		outcome = np.select(
			[
				settled,
				written_off,
				handover,
				cured,
				(new_bucket > prev_bucket) | (prev_bucket == 6),
				new_bucket == prev_bucket,
			],
			[PAYOFF, WRITE_OFF, HANDOVER, CURE, ROLL, STAY],
			BACK,
		)
		installment = loans.installment[rows]
		pay = np.select(
			[outcome == PAYOFF, outcome == CURE, outcome == STAY, outcome == BACK],
			[
				prev_out,
				np.minimum(prev_out, prev_overdue + installment),
				installment,
				installment * (1 + prev_bucket - new_bucket),
			],
			0.0,
		)
		held = np.flatnonzero(has_case)
		self.case_months.add(
			case=case[held],
			loan=rows[held],
			collector=self.open_collector[rows[held]],
			low=np.full(len(held), first_day),
			high=np.where(closing[held], event_day[held], end),
			bucket=prev_bucket[held],
			outcome=outcome[held],
			pay=np.round(pay[held], 2),
			installment=installment[held],
		)
		shut = np.flatnonzero(closing)
		status = np.array([CLOSING_STATUS.get(int(code), "") for code in outcome[shut]], dtype=object)
		status[outcome[shut] == HANDOVER] = np.where(
			loans.collateral[rows[shut][outcome[shut] == HANDOVER]] > 0, "Legal", "Outsourced"
		)
		self.closures.add(case=case[shut], day=event_day[shut], status=status)
		self.open_case[rows[shut]] = -1
		self.open_collector[rows[shut]] = -1
		self.handed[rows[handover]] = True
		self.handed[rows[new_bucket == 0]] = False
		# balances
		new_out, new_overdue = self._balances(rows, new_dpd, month)
		new_out = np.where(terminal, 0.0, new_out)
		new_overdue = np.where(terminal, 0.0, new_overdue)
		self.snapshots.add(
			loan=rows,
			month=np.full(m, month),
			outstanding=new_out,
			overdue=new_overdue,
			dpd=new_dpd,
			bucket=new_bucket,
		)
		self.term_status[rows[settled]] = 1
		self.term_status[rows[written_off]] = 2
		self.term_day[rows[terminal]] = event_day[terminal]
		# new cases: loans that fall overdue this month
		fresh = np.flatnonzero(
			(prev_dpd == 0) & (new_dpd > 0) & ~terminal & ~self.handed[rows] & (self.open_case[rows] < 0)
		)
		opened = np.maximum(first_day, end - new_dpd[fresh] + 1)
		self._open(
			rows[fresh],
			opened,
			np.maximum(new_dpd[fresh] - (end - opened), 1),
			new_out[fresh],
			new_bucket[fresh],
			month,
		)
		self._track_npl(rows, new_dpd, month, first_day)
		bucket, dpd, outstanding, overdue = bucket.copy(), dpd.copy(), outstanding.copy(), overdue.copy()
		bucket[rows], dpd[rows], outstanding[rows], overdue[rows] = new_bucket, new_dpd, new_out, new_overdue
		alive = alive.copy()
		alive[rows[terminal]] = False
		return alive, bucket, dpd, outstanding, overdue


# ----------------------------------------------------------------------------------------- collection work

ACTION_MIX = np.array(
	[
		[0.62, 0.28, 0.04, 0.06, 0.00],  # M1–M2: Call, SMS, Visit, Letter, Legal
		[0.45, 0.15, 0.20, 0.15, 0.05],  # M3–M5
		[0.35, 0.10, 0.20, 0.20, 0.15],  # M6+
	]
)
ACTIONS_PER_MONTH = np.array([0.0, 2.5, 3.5, 4.0, 4.5, 5.0, 3.5])
RIGHT_PARTY_LOGIT = np.array([-0.2, 0.0, 0.85, 0.0, 0.0])  # by action type (Call, SMS, Visit, Letter, Legal)
PROMISE_CHANCE = np.array([0.25, 0.20, 0.55, 0.55, 0.65, 0.50, 0.08, 0.10])  # by case-month outcome
REFUSALS = ("Refused to Pay", "Financial Hardship", "Dispute Raised", "Will Call Back")


def _collection_work(cm: dict[str, np.ndarray], org: _Org, rng: np.random.Generator) -> tuple[dict, dict]:
	"""Actions (with promises to pay) and recoveries for every case-month, consistent with its outcome."""
	rows = len(cm["case"])
	skill = org.emp_skill[cm["collector"]] if rows else np.zeros(0)
	span = cm["high"] - cm["low"] + 1
	rate = ACTIONS_PER_MONTH[cm["bucket"]] * np.minimum(span / 30.0, 1.0)
	count = np.minimum(1 + rng.poisson(rate), 15)
	row = np.repeat(np.arange(rows), count)
	n = len(row)
	day = _uniform_days(rng, cm["low"][row], cm["high"][row])
	second = day * DAY_SECONDS + rng.integers(8 * 3600, 20 * 3600 + 1800, n)
	order = np.lexsort((second, row))
	row, day, second = row[order], day[order], second[order]
	deep = np.select([cm["bucket"][row] >= 6, cm["bucket"][row] >= 3], [2, 1], 0)
	kind = _choice(rng, ACTION_MIX[deep], n)
	contactable = np.isin(kind, (0, 2, 4))
	right_party = contactable & (rng.random(n) < _sigmoid(RIGHT_PARTY_LOGIT[kind] + 0.55 * skill[row]))
	third_party = contactable & ~right_party & (rng.random(n) < 0.35)
	contact = np.select([right_party, third_party, contactable], [1, 2, 3], 0)
	# at most one promise per case-month: the first eligible right-party contact
	outcome = cm["outcome"][row]
	closing_pay = np.isin(outcome, (CURE, PAYOFF))
	eligible = (
		right_party & (rng.random(n) < PROMISE_CHANCE[outcome]) & (~closing_pay | (day < cm["high"][row]))
	)
	candidates = np.flatnonzero(eligible)
	promise_rows, first = np.unique(row[candidates], return_index=True)
	promise = candidates[first]
	p_day, p_row = day[promise], row[promise]
	p_outcome, p_skill = outcome[promise], skill[p_row]
	pay, high = cm["pay"][p_row], cm["high"][p_row]
	installment = cm["installment"][p_row]
	k = len(promise)
	closing = np.isin(p_outcome, (CURE, PAYOFF))
	paying = np.isin(p_outcome, (STAY, BACK))
	other = ~closing & ~paying
	ptp_date = np.select(
		[closing, paying],
		[np.maximum(p_day, high - rng.integers(0, 3, k)), p_day + rng.integers(1, 8, k)],
		p_day + rng.integers(1, 11, k),
	)
	ptp_amount = np.round(
		np.select(
			[closing, paying],
			[pay * rng.uniform(0.8, 1.0, k), pay * rng.uniform(0.85, 1.0, k)],
			installment * rng.uniform(0.3, 1.0, k),
		),
		2,
	)
	keep_chance = np.where(
		paying, np.clip(0.9 + 0.04 * p_skill, 0.7, 0.98), np.clip(0.45 + 0.1 * p_skill, 0.15, 0.75)
	)
	kept = closing | (rng.random(k) < keep_chance)
	# recoveries of paying months: the promise's payment when there is one, else a payment in the month
	promise_of_row = np.full(rows, -1, dtype=np.int64)
	promise_of_row[promise_rows] = np.arange(k)
	pay_rows = np.flatnonzero(np.isin(cm["outcome"], PAYING) & (cm["pay"] > 0))
	linked = promise_of_row[pay_rows]
	has_promise = linked >= 0
	pay_day = np.where(
		np.isin(cm["outcome"][pay_rows], (CURE, PAYOFF)),
		cm["high"][pay_rows],
		_uniform_days(rng, cm["low"][pay_rows], cm["high"][pay_rows]),
	)
	pay_amount = cm["pay"][pay_rows].copy()
	li = linked[has_promise]
	window_end = np.minimum(ptp_date[li] + 3, cm["high"][pay_rows[has_promise]])
	in_window = _uniform_days(rng, p_day[li], np.maximum(window_end, p_day[li]))
	stay_back = paying[li]
	pay_day[has_promise] = np.where(
		stay_back,
		np.where(kept[li], in_window, _uniform_days(rng, p_day[li], cm["high"][pay_rows[has_promise]])),
		pay_day[has_promise],
	)
	pay_amount[has_promise] = np.where(
		stay_back & ~kept[li],
		np.round(ptp_amount[li] * rng.uniform(0.3, 0.85, len(li)), 2),
		pay_amount[has_promise],
	)
	# recoveries on promises of non-paying months: kept in full, or a partial payment
	loose = np.flatnonzero(other)
	partial = ~kept[loose] & (rng.random(len(loose)) < 0.4)
	paid = kept[loose] | partial
	loose = loose[paid]
	loose_high = np.where(
		np.isin(p_outcome[loose], (WRITE_OFF, HANDOVER)),
		np.minimum(ptp_date[loose] + 3, high[loose]),
		ptp_date[loose] + 3,
	)
	loose_day = _uniform_days(rng, p_day[loose], np.maximum(loose_high, p_day[loose]))
	loose_amount = np.where(
		kept[loose], ptp_amount[loose], np.round(ptp_amount[loose] * rng.uniform(0.2, 0.7, len(loose)), 2)
	)
	# outcome texts
	kind_labels = np.array(ACTION_TYPES, dtype=object)[kind]
	text = np.select(
		[kind == 1, kind == 3, contact == 2, (contact == 3) & (kind == 2), contact == 3],
		["Reminder Sent", "Demand Letter Sent", "Message Left with Third Party", "Not at Home", "No Answer"],
		"",
	).astype(object)
	refusal = np.array(REFUSALS, dtype=object)[rng.integers(0, len(REFUSALS), n)]
	text = np.where(
		(contact == 1) & (kind == 4), "Legal Notice Served", np.where(contact == 1, refusal, text)
	)
	text = np.where((kind == 4) & (contact != 1), np.where(contact == 0, "Legal Notice Sent", text), text)
	text[promise] = "Promise to Pay"
	amounts = np.zeros(n)
	amounts[promise] = ptp_amount
	dates = np.full(n, NO_DAY, dtype=np.int64)
	dates[promise] = ptp_date
	order = np.lexsort((second, cm["case"][row]))  # by case, then time
	row, second, kind_labels, contact, text = (
		row[order],
		second[order],
		kind_labels[order],
		contact[order],
		text[order],
	)
	amounts, dates = amounts[order], dates[order]
	actions = {
		"case": cm["case"][row],
		"collector": cm["collector"][row],
		"kind": kind_labels,
		"second": second,
		"contact": _pick(CONTACT_RESULTS, contact),
		"outcome": text,
		"ptp_amount": amounts,
		"ptp_date": dates,
	}
	recoveries = {
		"case": np.concatenate([cm["case"][pay_rows], cm["case"][p_row[loose]]]),
		"loan": np.concatenate([cm["loan"][pay_rows], cm["loan"][p_row[loose]]]),
		"collector": np.concatenate([cm["collector"][pay_rows], cm["collector"][p_row[loose]]]),
		"amount": np.concatenate([pay_amount, loose_amount]),
		"day": np.concatenate([pay_day, loose_day]).astype(np.int64),
	}
	return actions, recoveries


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


def _events(loans: _Loans, org: _Org, cal: _Calendar, rng: np.random.Generator) -> dict:
	teams = org.layer_teams["Risk Control"]
	if not teams or not loans.n:
		return {}
	roster = org.roster("Risk Control", cal.start - 90)
	count = int(rng.poisson(0.004 * loans.n * cal.months))
	loan = rng.integers(0, loans.n, count)
	reported = rng.integers(cal.start * DAY_SECONDS, (cal.month_end[-1] + 1) * DAY_SECONDS, count)
	handler = roster.pick(loans.team[loan] % len(teams), reported // DAY_SECONDS, rng)
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
	teams = org.layer_teams["Customer Service"]
	if not teams or not loans.n:
		return {}
	roster = org.roster("Customer Service", cal.start - 90)
	count = int(rng.poisson(0.02 * loans.n * cal.months))
	loan = rng.integers(0, loans.n, count)
	day = rng.integers(cal.start, cal.month_end[-1] + 1, count)
	opened = day * DAY_SECONDS + rng.integers(8 * 3600, 22 * 3600, count)
	channel = _choice(rng, np.array([0.35, 0.25, 0.25, 0.08, 0.07]), count)
	agent = roster.pick(loans.team[loan] % len(teams), day, rng)
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


# --------------------------------------------------------------------------------------------- generate


def generate(
	seed: int = 42,
	*,
	start: str | dt.date = "2025-07-01",
	months: int = 12,
	n_loans: int = 300,
	org: OrgSpec | None = None,
	as_of: dt.date | None = None,
) -> Dataset:
	"""Generate the synthetic post-loan dataset (see the module docstring). Deterministic in all arguments.

	``start``: first day of the data (month-end snapshots from its month on); ``months``: number of
	month-ends; ``as_of``: the data's "today" (default: the last month-end); nothing later is reported.
	"""
	if months < 1:
		raise ValueError("months must be >= 1")
	if n_loans < 0:
		raise ValueError("n_loans must be >= 0")
	spec = org if org is not None else OrgSpec()
	cal = _Calendar(_to_date(start), months)
	cutoff = int(cal.month_end[-1]) if as_of is None else _day(_to_date(as_of))
	organisation = _Org(spec, cal, _rng(seed, 1))
	loans = _Loans(n_loans, organisation, cal, _rng(seed, 2))
	sim = _Simulation(loans, organisation, cal, _rng(seed, 3))
	cm = sim.case_months.get()
	actions, recoveries = _collection_work(cm, organisation, _rng(seed, 4))
	return _Assembler(organisation, loans, sim, cal, cutoff, seed).build(actions, recoveries)


class _Assembler:
	"""Censors at the cut-off date and builds the frames."""

	def __init__(
		self, org: _Org, loans: _Loans, sim: _Simulation, cal: _Calendar, cutoff: int, seed: int
	) -> None:
		self.org, self.loans, self.sim, self.cal, self.cutoff, self.seed = org, loans, sim, cal, cutoff, seed
		self.team_names = np.array(org.team_name, dtype=object)
		self.keys = org.emp_key
		self.loan_no = _codes("L", loans.n, 6)
		self.customers = _codes("C", loans.n, 6)[loans.customer] if loans.n else np.zeros(0, dtype=object)

	def build(self, actions: dict, recoveries: dict) -> Dataset:
		org, cal = self.org, self.cal
		cases, case_number = self._cases(actions)
		frames = {
			**self._organisation(),
			"loans": self._loans(),
			"snapshots": self._snapshots(),
			"cases": cases,
			"actions": self._actions(actions, case_number),
			"recoveries": self._recoveries(recoveries, case_number),
			"alerts": self._alerts(_alerts(self.sim, org, cal, _rng(self.seed, 5))),
			"events": self._events(_events(self.loans, org, cal, _rng(self.seed, 6))),
			"assessments": self._assessments(_assessments(self.loans, org, cal, _rng(self.seed, 7))),
		}
		tickets, ticket_info = self._tickets(_tickets(self.loans, org, cal, _rng(self.seed, 8)))
		frames["tickets"] = tickets
		frames["customer_feedback"] = self._feedback(case_number, ticket_info, _rng(self.seed, 9))
		frames["surveys"] = self._surveys(frames["employees"], _rng(self.seed, 10))
		return Dataset(**frames)

	# -- organisation

	def _organisation(self) -> dict[str, pd.DataFrame]:
		org, cutoff = self.org, self.cutoff
		known = org.m_from <= cutoff
		m_to = np.where(known & (org.m_to != NO_DAY) & (org.m_to < cutoff), org.m_to, NO_DAY)
		m_team, m_emp, m_from = org.m_team[known], org.m_employee[known], org.m_from[known]
		m_to = m_to[known]
		order = np.lexsort((m_from, m_emp))
		m_team, m_emp, m_from, m_to = m_team[order], m_emp[order], m_from[order], m_to[order]
		current = org.emp_home.copy()
		current[m_emp] = m_team  # the latest membership wins (sorted by from_date)
		memberships = _frame(
			"memberships",
			{
				"team": self.team_names[m_team],
				"employee_key": self.keys[m_emp],
				"from_date": _dates(m_from),
				"to_date": _dates(m_to),
			},
		)
		employees = _frame(
			"employees",
			{
				"key": self.keys,
				"first_name": org.emp_name,
				"layer": org.emp_layer,
				"team": self.team_names[current],
				"is_lead": org.emp_lead,
			},
		)
		parent = [None if p < 0 else org.team_name[p] for p in org.team_parent]
		lead = [None if e < 0 else str(self.keys[e]) for e in org.team_lead]
		teams = _frame(
			"teams",
			{
				"team_name": self.team_names,
				"layer": np.array(org.team_layer, dtype=object),
				"parent_pl_team": _object(parent),
				"lead_key": _object(lead),
				"is_group": np.array(org.team_is_group, dtype=np.int64),
			},
		)
		return {"employees": employees, "teams": teams, "memberships": memberships}

	# -- loans and snapshots

	def _loans(self) -> pd.DataFrame:
		loans, sim = self.loans, self.sim
		finished = sim.term_day <= self.cutoff
		status = np.where(
			finished & (sim.term_status == 1),
			"Settled",
			np.where(finished & (sim.term_status == 2), "Written Off", "Active"),
		)
		team = self.org.layer_teams["Collection"]
		return _frame(
			"loans",
			{
				"name": self.loan_no,
				"loan_no": self.loan_no,
				"customer": self.customers,
				"product": _pick(PRODUCTS, loans.product),
				"branch": _pick(BRANCHES, loans.branch),
				"managing_team": self.team_names[np.array(team, dtype=np.int64)[loans.team]]
				if loans.n
				else np.zeros(0, object),
				"disbursed_on": _dates(loans.disbursed),
				"principal": loans.principal,
				"maturity_date": _dates(loans.maturity),
				"collateral_value": loans.collateral,
				"status": status.astype(object),
			},
		)

	def _snapshots(self) -> pd.DataFrame:
		snap = self.sim.snapshots.get()
		day = self.cal.month_end[snap["month"]]
		keep = day <= self.cutoff
		order = np.lexsort((snap["month"][keep], snap["loan"][keep]))
		loan = snap["loan"][keep][order]
		month = snap["month"][keep][order]
		# name = f"{loan}-{as_of_date:%Y-%m-%d}", assembled from ASCII rows (millions of rows)
		labels = _ascii_rows(["-" + str(np.datetime64(int(d), "D")) for d in self.cal.month_end])
		loan_no = self.loan_no[loan]
		names = _ascii(np.hstack([_ascii_rows(self.loan_no)[loan], labels[month]])) if len(loan) else loan_no
		return _frame(
			"snapshots",
			{
				"name": names,
				"loan": loan_no,
				"as_of_date": _dates(self.cal.month_end[month]),
				"outstanding": np.round(snap["outstanding"][keep][order], 2),
				"overdue_amount": np.round(snap["overdue"][keep][order], 2),
				"dpd": snap["dpd"][keep][order].astype(np.int64),
				"bucket": _pick(BUCKETS, snap["bucket"][keep][order]),
				"classification": _pick(CLASSIFICATIONS, classification_of(snap["dpd"][keep][order])),
			},
		)

	# -- collection

	def _cases(self, actions: dict) -> tuple[pd.DataFrame, np.ndarray]:
		"""Cases opened by the cut-off, numbered by opening date; returns also internal id → case number."""
		raw = self.sim.cases.get()
		closures = self.sim.closures.get()
		n = len(raw["loan"])
		close_day = np.full(n, NO_DAY, dtype=np.int64)
		status = np.full(n, "", dtype=object)
		close_day[closures["case"]] = closures["day"]
		status[closures["case"]] = closures["status"]
		reopened = (close_day != NO_DAY) & (close_day > self.cutoff)
		close_day[reopened] = NO_DAY
		status[reopened] = ""
		# status of open cases from their last action up to the cut-off
		acted = actions["second"] < (self.cutoff + 1) * DAY_SECONDS
		case_of_action = actions["case"][acted]
		if len(case_of_action):
			last = np.flatnonzero(np.r_[case_of_action[1:] != case_of_action[:-1], True])
			has_actions = np.zeros(n, dtype=bool)
			has_actions[case_of_action] = True
			promised = np.zeros(n, dtype=bool)
			ptp_date = actions["ptp_date"][acted][last]
			promised[case_of_action[last]] = (ptp_date != NO_DAY) & (ptp_date >= self.cutoff - 3)
		else:
			has_actions = promised = np.zeros(n, dtype=bool)
		open_status = np.where(promised, "Promise to Pay", np.where(has_actions, "In Progress", "Open"))
		status = np.where(status == "", open_status, status).astype(object)
		keep = raw["opened"] <= self.cutoff
		ids = np.flatnonzero(keep)
		ids = ids[np.lexsort((raw["loan"][ids], raw["opened"][ids]))]
		number = np.full(n, -1, dtype=np.int64)
		number[ids] = np.arange(len(ids))
		self.case_names = _codes("K", len(ids), 6)
		self.case_raw, self.case_close, self.case_status = raw, close_day, status
		frame = _frame(
			"cases",
			{
				"name": self.case_names,
				"case_no": self.case_names,
				"loan": self.loan_no[raw["loan"][ids]],
				"opened_on": _dates(raw["opened"][ids]),
				"closed_on": _dates(close_day[ids]),
				"entry_bucket": _pick(BUCKETS, raw["entry_bucket"][ids]),
				"entry_overdue_amount": raw["entry_overdue"][ids],
				"collector": self.keys[raw["collector"][ids]],
				"pl_team": self.team_names[raw["team"][ids]],
				"status": status[ids],
			},
		)
		return frame, number

	def _actions(self, actions: dict, number: np.ndarray) -> pd.DataFrame:
		keep = (actions["second"] < (self.cutoff + 1) * DAY_SECONDS) & (number[actions["case"]] >= 0)
		case = number[actions["case"][keep]]
		order = np.lexsort((actions["second"][keep], case))
		pick = np.flatnonzero(keep)[order]
		return _frame(
			"actions",
			{
				"reference": _codes("ACT", len(pick), 7),
				"collection_case": self.case_names[number[actions["case"][pick]]],
				"collector": self.keys[actions["collector"][pick]],
				"action_type": actions["kind"][pick],
				"action_on": _datetimes(actions["second"][pick]),
				"contact_result": actions["contact"][pick],
				"outcome": actions["outcome"][pick],
				"ptp_amount": np.round(actions["ptp_amount"][pick], 2),
				"ptp_date": _dates(actions["ptp_date"][pick]),
			},
		)

	def _recoveries(self, recoveries: dict, number: np.ndarray) -> pd.DataFrame:
		keep = (
			(recoveries["day"] <= self.cutoff)
			& (number[recoveries["case"]] >= 0)
			& (recoveries["amount"] > 0)
		)
		pick = np.flatnonzero(keep)
		pick = pick[np.lexsort((number[recoveries["case"][pick]], recoveries["day"][pick]))]
		return _frame(
			"recoveries",
			{
				"reference": _codes("REC", len(pick), 7),
				"loan": self.loan_no[recoveries["loan"][pick]],
				"collection_case": self.case_names[number[recoveries["case"][pick]]],
				"collector": self.keys[recoveries["collector"][pick]],
				"amount": np.round(recoveries["amount"][pick], 2),
				"received_on": _dates(recoveries["day"][pick]),
			},
		)

	# -- risk and service

	def _alerts(self, alerts: dict) -> pd.DataFrame:
		if not alerts:
			return _frame("alerts", {})
		keep = np.flatnonzero(alerts["raised"] <= self.cutoff)
		keep = keep[np.lexsort((alerts["loan"][keep], alerts["raised"][keep]))]
		later = (alerts["outcome_day"][keep] == NO_DAY) | (alerts["outcome_day"][keep] > self.cutoff)
		return _frame(
			"alerts",
			{
				"reference": _codes("ALR", len(keep), 7),
				"loan": self.loan_no[alerts["loan"][keep]],
				"rule": alerts["rule"][keep],
				"severity": alerts["severity"][keep],
				"raised_on": _dates(alerts["raised"][keep]),
				"officer": self.keys[alerts["officer"][keep]],
				"outcome": np.where(later, "Pending", alerts["outcome"][keep]).astype(object),
				"outcome_on": _dates(np.where(later, NO_DAY, alerts["outcome_day"][keep])),
			},
		)

	def _events(self, events: dict) -> pd.DataFrame:
		if not events:
			return _frame("events", {})
		limit = (self.cutoff + 1) * DAY_SECONDS
		keep = events["reported"] < limit
		resolved = events["resolved"][keep]
		return _frame(
			"events",
			{
				"reference": _codes("EVT", int(keep.sum()), 7),
				"loan": self.loan_no[events["loan"][keep]],
				"event_type": events["type"][keep],
				"reported_on": _datetimes(events["reported"][keep]),
				"resolved_on": _datetimes(np.where(resolved < limit, resolved, NO_DAY)),
				"handler": self.keys[events["handler"][keep]],
			},
		)

	def _assessments(self, rows: dict) -> pd.DataFrame:
		if not rows:
			return _frame("assessments", {})
		keep = rows["day"] <= self.cutoff
		count = int(keep.sum())
		return _frame(
			"assessments",
			{
				"reference": _codes("ASM", count, 7),
				"loan": self.loan_no[rows["loan"][keep]],
				"portfolio": _object([None] * count),
				"author": self.keys[rows["author"][keep]],
				"report_date": _dates(rows["day"][keep]),
				"quality_rating": rows["quality"][keep],
				"reviewer": self.keys[rows["reviewer"][keep]],
			},
		)

	def _tickets(self, rows: dict) -> tuple[pd.DataFrame, dict]:
		if not rows:
			return _frame("tickets", {}), {}
		limit = (self.cutoff + 1) * DAY_SECONDS
		keep = rows["opened"] < limit
		first = np.where(rows["first_response"][keep] < limit, rows["first_response"][keep], NO_DAY)
		resolved = np.where(rows["resolved"][keep] < limit, rows["resolved"][keep], NO_DAY)
		closed = (resolved != NO_DAY) & (resolved < limit - 7 * DAY_SECONDS)
		status = np.where(resolved == NO_DAY, "Open", np.where(closed, "Closed", "Resolved")).astype(object)
		references = _codes("TKT", int(keep.sum()), 7)
		loan = rows["loan"][keep]
		frame = _frame(
			"tickets",
			{
				"reference": references,
				"customer": self.customers[loan],
				"loan": self.loan_no[loan],
				"channel": rows["channel"][keep],
				"agent": self.keys[rows["agent"][keep]],
				"status": status,
				"opened_on": _datetimes(rows["opened"][keep]),
				"first_response_on": _datetimes(first),
				"resolved_on": _datetimes(resolved),
			},
		)
		info = {"reference": references, "loan": loan, "agent": rows["agent"][keep], "resolved": resolved}
		return frame, info

	def _feedback(self, number: np.ndarray, tickets: dict, rng: np.random.Generator) -> pd.DataFrame:
		org, raw = self.org, self.case_raw
		# on cases: after the case closed, or while it is open
		ids = np.flatnonzero(number >= 0)
		ids = ids[np.argsort(number[ids], kind="stable")]
		ids = ids[rng.random(len(ids)) < 0.3]
		closed = self.case_close[ids]
		given = np.where(
			closed != NO_DAY,
			closed + rng.integers(1, 8, len(ids)),
			raw["opened"][ids] + rng.integers(3, 31, len(ids)),
		)
		status = self.case_status[ids]
		mood = np.select(
			[np.isin(status, ("Cured", "Paid Off")), np.isin(status, ("Written Off", "Legal", "Outsourced"))],
			[0.5, -0.6],
			0.0,
		)
		collector = raw["collector"][ids]
		case_csat, case_nps = _rating(rng, 3.5 + 0.45 * org.emp_skill[collector] + mood)
		# on resolved tickets
		if tickets:
			resolved = np.flatnonzero(tickets["resolved"] != NO_DAY)
			resolved = resolved[rng.random(len(resolved)) < 0.45]
			agent = tickets["agent"][resolved]
			t_given = tickets["resolved"][resolved] // DAY_SECONDS + rng.integers(0, 5, len(resolved))
			t_csat, t_nps = _rating(rng, 3.8 + 0.45 * org.emp_skill[agent])
			t_loan, t_ref = tickets["loan"][resolved], tickets["reference"][resolved]
		else:
			agent = t_given = t_csat = t_nps = t_loan = np.zeros(0, dtype=np.int64)
			t_ref = np.zeros(0, dtype=object)
		n_case, n_ticket = len(ids), len(agent)
		given_all = np.concatenate([given, t_given]).astype(np.int64)
		keep = np.flatnonzero(given_all <= self.cutoff)
		keep = keep[np.argsort(given_all[keep], kind="stable")]
		loan = np.concatenate([raw["loan"][ids], t_loan]).astype(np.int64)
		case_ref = np.concatenate([self.case_names[number[ids]], np.full(n_ticket, None, dtype=object)])
		ticket_ref = np.concatenate([np.full(n_case, None, dtype=object), t_ref.astype(object)])
		return _frame(
			"customer_feedback",
			{
				"reference": _codes("FBK", len(keep), 7),
				"customer": self.customers[loan[keep]],
				"employee": self.keys[np.concatenate([collector, agent]).astype(np.int64)[keep]],
				"collection_case": _object(case_ref[keep]),
				"ticket": _object(ticket_ref[keep]),
				"csat": np.concatenate([case_csat, t_csat]).astype(np.int64)[keep],
				"nps": np.concatenate([case_nps, t_nps]).astype(np.int64)[keep],
				"given_on": _dates(given_all[keep]),
			},
		)

	def _surveys(self, employees: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
		org = self.org
		n = org.n_employees
		team_mood = rng.normal(0.0, 0.4, len(org.team_name))[org.emp_home]
		base = np.array([3.6, 3.8, 3.5, 3.0])
		ratings = np.clip(np.round(base + team_mood[:, None] + rng.normal(0.0, 0.7, (n, 4))), 1, 5).astype(
			np.int64
		)
		return _frame(
			"surveys",
			{
				"respondent": self.keys,
				"team": employees["team"].to_numpy(),
				"fairness": ratings[:, 0],
				"clarity": ratings[:, 1],
				"motivation": ratings[:, 2],
				"workload": ratings[:, 3],
				"suggestion": _pick(SUGGESTIONS, rng.integers(0, len(SUGGESTIONS), n)),
			},
		)
