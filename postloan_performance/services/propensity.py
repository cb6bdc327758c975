"""The optional propensity-to-pay model on the site (``propensity.propensity``): training on closed cases and
scoring of open cases. Off by default (PL Post-Loan Settings → Use the Propensity-to-Pay Model); its only
use is the order of the collectors' queues (``services.collection.my_queue``).
"""

from __future__ import annotations

import json

import pandas as pd

import frappe
from frappe import _
from frappe.utils import now_datetime

from postloan_performance.engine import delinquency, frames, propensity
from postloan_performance.services import daily_jobs as ops
from postloan_performance.services.bulk import bulk_update

COLUMNS = [
	"name",
	"status",
	"entry_bucket",
	"entry_overdue_amount",
	"opened_on",
	"propensity_score",
	"principal",
	"collateral_value",
	"disbursed_on",
	"product",
	"prior_cases",
]


def load_cases(statuses: tuple[str, ...]) -> pd.DataFrame:
	"""Cases with the given statuses, with their loan's fields and how many cases the loan had before."""
	rows = frappe.db.sql(
		"""select * from (
			select c.`name`, c.`status`, c.`entry_bucket`, c.`entry_overdue_amount`, c.`opened_on`,
				c.`propensity_score`, l.`principal`, l.`collateral_value`, l.`disbursed_on`, l.`product`,
				row_number() over (partition by c.`loan` order by c.`opened_on`, c.`name`) - 1 as prior_cases
			from `tabPL Collection Case` c join `tabPL Loan` l on l.`name` = c.`loan`
		) cases where `status` in %(statuses)s""",
		{"statuses": statuses},
	)
	return frames.from_rows(rows, COLUMNS)


def message(error: propensity.PropensityError) -> str:
	d = error.details
	return {
		"too_few_cases": lambda: _("The model needs at least {0} closed cases; there are {1}.").format(
			d.get("minimum"), d.get("cases")
		),
		"one_class": lambda: _("Every closed case has the same outcome: there is nothing to learn."),
		"no_sklearn": lambda: _("Training needs scikit-learn on the server: pip install scikit-learn"),
		"bad_model": lambda: _("The stored model cannot be used; train it again."),
	}.get(error.code, lambda: _("The model failed ({0}).").format(error.code))()


def train_model(seed: int = 0) -> dict:
	"""Train on every closed case, store the model and its holdout AUC in the settings, score open cases."""
	cases = load_cases((*propensity.PAID, *propensity.LOST))
	products = sorted(set(cases["product"].dropna()) - {""})
	try:
		model = propensity.train(
			propensity.features(cases, products), propensity.labels(cases["status"]), products, seed=seed
		)
	except propensity.PropensityError as e:
		frappe.throw(message(e), title=_("Model Not Trained"))
	frappe.db.set_single_value(
		ops.SETTINGS,
		{
			"model_parameters": json.dumps(model, indent=1),
			"model_auc": round(model["auc"], 4),
			"model_trained_on": now_datetime(),
			"model_training_cases": model["cases"],
		},
	)
	scored = score_open_cases(model, force=True)
	return {
		"auc": model["auc"],
		"cases": model["cases"],
		"holdout_cases": model["holdout_cases"],
		"scored": scored,
	}


def stored_model() -> dict | None:
	text = ops.setting("model_parameters")
	return json.loads(text) if text else None


def score_open_cases(model: dict | None = None, force: bool = False) -> int:
	"""Write the propensity (percent) of every open case when the model is enabled (or ``force``)."""
	if not force and not ops.setting("enable_propensity_model", 0):
		return 0
	model = model or stored_model()
	if not model:
		return 0
	cases = load_cases(delinquency.OPEN_CASE_STATUSES)
	if cases.empty:
		return 0
	try:
		score = propensity.predict(model, propensity.features(cases, model["products"])) * 100.0
	except propensity.PropensityError as e:
		frappe.log_error(title="PL propensity model", message=message(e))
		return 0
	cases["new"] = pd.Series(score, index=cases.index).round(2)
	changed = cases[
		(pd.to_numeric(cases["propensity_score"], errors="coerce").fillna(-1).round(2) != cases["new"])
	]
	bulk_update(
		"PL Collection Case",
		{n: {"propensity_score": float(s)} for n, s in zip(changed["name"], changed["new"], strict=True)},
	)
	return len(changed)
