"""The generated organisation: teams of the four layers, their members, leads and moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product as _cartesian

import numpy as np

from postloan_performance.datagen.common import _Calendar, _codes
from postloan_performance.datagen.schema import NO_DAY
from postloan_performance.engine.names import LAYERS

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
