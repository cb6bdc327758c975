"""Month-by-month simulation of every loan at once: roll rates, cures, settlements, write-offs, cases."""

from __future__ import annotations

import numpy as np

from postloan_performance.datagen.common import _Calendar, _choice, bucket_of
from postloan_performance.datagen.loans import SETTLE_MONTHLY, WRITE_OFF_MONTHLY, _Loans, _overdue
from postloan_performance.datagen.organisation import _Org
from postloan_performance.datagen.schema import NO_DAY
from postloan_performance.engine.delinquency import (
	BUCKET_LOWER_DPD,
	BUCKET_UPPER_DPD,
)

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
