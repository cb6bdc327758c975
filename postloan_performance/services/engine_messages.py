"""Translated messages for the engine's machine-readable errors."""

import frappe
from frappe import _

from postloan_performance.engine import EngineError


def engine_error_message(error: EngineError, context: str = "") -> str:
	d = error.details
	messages = {
		"target_order": lambda: _(
			"Threshold, target and stretch must be ordered for {0}: got threshold {1}, target {2}, stretch {3}."
		).format(_(d.get("direction") or ""), d.get("threshold"), d.get("target"), d.get("stretch")),
		"target_required": lambda: _("Scoring method {0} needs a target.").format(_(d.get("method") or "")),
		"ratio_target_not_positive": lambda: _("Ratio scoring needs a target above zero."),
		"no_data": lambda: _(
			"These KPI lines have no data and need a manual value before submission: {0}"
		).format(", ".join(str(i + 1) for i in d.get("lines", []))),
		"rating_out_of_range": lambda: _("Ratings must be between 1 and 5 (got {0}).").format(
			d.get("rating")
		),
		"invalid_cap": lambda: _("The score cap must be at least 100."),
		"invalid_threshold_score": lambda: _("The score at threshold must be between 0 and 100."),
		"negative_weight": lambda: _("Weights cannot be negative."),
	}
	message = messages.get(error.code)
	text = message() if message else _("Invalid scoring configuration ({0}).").format(error.code)
	return f"{context}{text}"


def throw_engine_error(error: EngineError, context: str = "", title: str | None = None):
	frappe.throw(engine_error_message(error, context), title=title or _("Invalid Value"))


def expression_limit_message(error: EngineError) -> str | None:
	"""The translated message for a limit of ``engine.expressions`` (formulas and warning rules), or None
	when ``error`` is about something else."""
	d = error.details
	messages = {
		"too_long": lambda: _("The expression is longer than {0} characters.").format(d.get("max")),
		"too_many_nodes": lambda: _("The expression has more than {0} parts; write it shorter.").format(
			d.get("max")
		),
		"too_deep": lambda: _("The expression is nested more than {0} levels deep.").format(d.get("max")),
		"power": lambda: _(
			"'**' needs a constant exponent of at most {0} and cannot be nested (round takes at most {0} digits)."
		).format(d.get("max")),
		"text_too_long": lambda: _("Text in the expression may not be longer than {0} characters.").format(
			d.get("max")
		),
		"text_operation": lambda: _("Text can only be joined with '+', repeated with '*' or compared."),
		"steps": lambda: _("The expression takes more than {0} steps to evaluate.").format(d.get("max")),
		"timeout": lambda: _("The expression took longer than {0} seconds to evaluate.").format(
			d.get("seconds")
		),
	}
	message = messages.get(error.code)
	return message() if message else None
