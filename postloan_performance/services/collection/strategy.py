"""Collection strategies: their rules by bucket, validation, loading, and the rule for a case."""

from __future__ import annotations

from dataclasses import dataclass

import frappe
from frappe import _
from frappe.utils import escape_html

from postloan_performance.engine import assignment as assign_engine
from postloan_performance.engine import delinquency

CASE = "PL Collection Case"
STRATEGY = "PL Collection Strategy"
DEFAULT_ACTION = "Call"


# --- strategies --------------------------------------------------------------------------------------


@dataclass
class Rule:
	strategy: str | None
	label: str
	from_bucket: str
	to_bucket: str
	action_type: str
	method: str
	team: str | None
	case_status: str | None
	floor_pct: float | None
	cap_pct: float | None
	include_leads: bool

	@property
	def key(self) -> str:
		return f"{self.strategy or ''}\x1f{self.label}"


def rule_label(from_bucket: str, to_bucket: str) -> str:
	return from_bucket if from_bucket == to_bucket else f"{from_bucket}–{to_bucket}"


def rule_end_bucket(label) -> int | None:
	"""The last bucket number a rule label ("M1–M2", "M3", "M3–M6+") covers; None when unknown."""
	if not isinstance(label, str) or not label:
		return None
	last = label.split("–")[-1].strip()
	return delinquency.BUCKETS.index(last) if last in delinquency.BUCKETS else None


DEFAULT_RULES = [
	Rule(
		None,
		rule_label("M1", "M6+"),
		"M1",
		"M6+",
		DEFAULT_ACTION,
		assign_engine.ROUND_ROBIN,
		None,
		None,
		None,
		None,
		False,
	)
]


def strategy_message(error: assign_engine.AssignmentError) -> str:
	d = error.details
	messages = {
		"no_rules": lambda: _("Add at least one rule."),
		"unknown_bucket": lambda: _("Row {0}: {1} is not a delinquent bucket (M1 to M6+).").format(
			d.get("row"), escape_html(str(d.get("bucket")))
		),
		"bucket_order": lambda: _("Row {0}: From Bucket must not be after To Bucket.").format(d.get("row")),
		"unknown_method": lambda: _("Row {0}: unknown assignment method {1}.").format(
			d.get("row"), escape_html(str(d.get("method")))
		),
		"floor_cap": lambda: _(
			"Row {0}: the floor must be between 0 and 100% and the cap at least 100% of an equal share (got {1}% and {2}%)."
		).format(d.get("row"), d.get("floor"), d.get("cap")),
		"overlap": lambda: _("Row {0}: bucket {1} is already covered by row {2}.").format(
			d.get("row"), d.get("bucket"), d.get("other")
		),
		"gap": lambda: _("No rule covers {0}: the rules must cover M1 to M6+.").format(
			", ".join(d.get("buckets", []))
		),
	}
	message = messages.get(error.code)
	return message() if message else _("Invalid collection strategy ({0}).").format(error.code)


def _ranges(rows) -> list[assign_engine.RuleRange]:
	return [
		assign_engine.RuleRange(
			r.get("from_bucket"),
			r.get("to_bucket"),
			r.get("assignment_method"),
			r.get("floor_pct") if r.get("floor_pct") not in (None, "") else None,
			r.get("cap_pct") if r.get("cap_pct") not in (None, "") else None,
		)
		for r in rows
	]


def validate_strategy(doc) -> None:
	"""PL Collection Strategy.validate: bucket ranges, methods, floor/cap; one enabled strategy per scope."""
	try:
		assign_engine.validate_rules(_ranges(doc.get("rules") or []))
	except assign_engine.AssignmentError as e:
		frappe.throw(strategy_message(e), title=_("Invalid Collection Strategy"))
	doc.product = (doc.product or "").strip() or None
	doc.company = doc.company or None  # "" and NULL both mean every company; stored as NULL
	if doc.enabled:
		clash = frappe.db.get_value(
			STRATEGY,
			{
				"enabled": 1,
				"name": ("!=", doc.name or ""),
				"company": doc.company or ("is", "not set"),
				"product": doc.product or ("is", "not set"),
			},
			"name",
		)
		if clash:
			frappe.throw(
				_(
					"Strategy {0} already applies to the same company and product; disable one of them."
				).format(escape_html(clash)),
				title=_("Invalid Collection Strategy"),
			)


def load_strategies() -> dict[str, dict]:
	"""Enabled strategies: name -> {company, product, rules: [Rule …] in row order}."""
	strategies = frappe.get_all(
		STRATEGY, filters={"enabled": 1}, fields=["name", "company", "product", "include_team_leads"]
	)
	if not strategies:
		return {}
	rows = frappe.get_all(
		"PL Collection Strategy Rule",
		filters={"parenttype": STRATEGY, "parent": ("in", [s.name for s in strategies])},
		fields=[
			"parent",
			"idx",
			"from_bucket",
			"to_bucket",
			"action_type",
			"assignment_method",
			"assign_to_team",
			"case_status",
			"floor_pct",
			"cap_pct",
		],
		order_by="parent asc, idx asc",
	)
	out = {
		s.name: {
			"company": s.company or None,
			"product": s.product or None,
			"leads": bool(s.include_team_leads),
			"rules": [],
		}
		for s in strategies
	}
	for r in rows:
		strategy = out[r.parent]
		strategy["rules"].append(
			Rule(
				r.parent,
				rule_label(r.from_bucket, r.to_bucket),
				r.from_bucket,
				r.to_bucket,
				r.action_type or DEFAULT_ACTION,
				r.assignment_method or assign_engine.ROUND_ROBIN,
				r.assign_to_team or None,
				r.case_status or None,
				r.floor_pct,
				r.cap_pct,
				strategy["leads"],
			)
		)
	return out


def choose_strategy(strategies: dict[str, dict], company: str | None, product: str | None) -> str | None:
	"""The most specific enabled strategy for a loan: product and company match > product > company > any."""
	best, best_rank = None, -1
	for name in sorted(strategies):
		s = strategies[name]
		if s["company"] and s["company"] != company:
			continue
		if s["product"] and s["product"] != product:
			continue
		rank = 2 * bool(s["product"]) + bool(s["company"])
		if rank > best_rank:
			best, best_rank = name, rank
	return best


def rule_of(strategies: dict[str, dict], strategy: str | None, bucket: int) -> Rule:
	rules = strategies[strategy]["rules"] if strategy else DEFAULT_RULES
	ranges = _ranges(
		[
			{"from_bucket": r.from_bucket, "to_bucket": r.to_bucket, "assignment_method": r.method}
			for r in rules
		]
	)
	index = assign_engine.rule_for_bucket(ranges, bucket)
	return rules[index] if index >= 0 else DEFAULT_RULES[0]
