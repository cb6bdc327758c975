"""The collection work of every case-month: actions, promises to pay and recoveries."""

from __future__ import annotations

import numpy as np

from postloan_performance.datagen.common import _choice, _pick, _sigmoid, _uniform_days
from postloan_performance.datagen.organisation import _Org
from postloan_performance.datagen.schema import ACTION_TYPES, CONTACT_RESULTS, DAY_SECONDS, NO_DAY
from postloan_performance.datagen.simulation import BACK, CURE, HANDOVER, PAYING, PAYOFF, STAY, WRITE_OFF

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
