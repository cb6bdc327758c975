"""Bucket and five-category classification of loan snapshots (Frappe side of ``delinquency.delinquency``).

* :func:`process_date` – the daily job's step for one snapshot date: every snapshot of that date gets its
  bucket (from dpd), its proposed classification (dpd and the thresholds of the loan's product) and its
  classification (the manual one when recorded, else the proposed one). One query reads the date's rows,
  the engine classifies them, and only rows that change are written, with one UPDATE per distinct
  (bucket, proposed, classification) and 5,000 rows.
* :func:`apply_to_document` – the same for one snapshot saved from the desk or the REST API.
* :func:`set_manual_classification` – a manual classification with its reason, who and when (and a Version).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

import frappe
from frappe import _
from frappe.utils import escape_html, getdate, now_datetime

from postloan_performance.engine import delinquency, frames
from postloan_performance.services import daily_jobs as ops
from postloan_performance.services import portfolio_months

SNAPSHOT = "PL Loan Snapshot"
THRESHOLD_FIELDS = (
	"special_mention_after_dpd",
	"substandard_after_dpd",
	"doubtful_after_dpd",
	"loss_after_dpd",
)


def _thresholds(row) -> delinquency.Thresholds:
	values = [row.get(f) for f in THRESHOLD_FIELDS]
	defaults = delinquency.DEFAULT_THRESHOLDS.as_tuple()
	return delinquency.Thresholds(
		*(int(v) if v not in (None, "") else d for v, d in zip(values, defaults, strict=True))
	)


def thresholds(doc=None) -> tuple[delinquency.Thresholds, dict[str, delinquency.Thresholds]]:
	"""(default thresholds, {product: thresholds}) from PL Post-Loan Settings."""
	doc = doc or frappe.get_cached_doc(ops.SETTINGS)
	default = _thresholds(doc)
	by_product = {
		(row.product or "").strip(): _thresholds(row)
		for row in doc.get("classification_rules") or []
		if (row.product or "").strip()
	}
	return default, by_product


def threshold_message(error: delinquency.DelinquencyError) -> str:
	product = error.details.get("product")
	where = (
		_("Thresholds for product {0}").format(escape_html(product)) if product else _("Default thresholds")
	)
	if error.code == "negative_threshold":
		return _("{0}: days past due cannot be negative.").format(where)
	return _(
		"{0}: the days past due must not decrease from Special Mention to Substandard, Doubtful and Loss (got {1})."
	).format(where, ", ".join(str(v) for v in error.details.get("values", ())))


def validate_settings(doc) -> None:
	"""PL Post-Loan Settings.validate: ordered thresholds, one row per product, sensible weights."""
	try:
		_thresholds(doc).validate()
		seen = set()
		for row in doc.get("classification_rules") or []:
			product = (row.product or "").strip()
			if product in seen:
				frappe.throw(
					_("Product {0} has more than one row of thresholds.").format(escape_html(product)),
					title=_("Invalid Value"),
				)
			seen.add(product)
			_thresholds(row).validate(product)
	except delinquency.DelinquencyError as e:
		frappe.throw(threshold_message(e), title=_("Invalid Value"))
	for field in (
		"priority_overdue_weight",
		"priority_bucket_weight",
		"priority_broken_promise_weight",
		"priority_propensity_weight",
	):
		if (doc.get(field) or 0) < 0:
			frappe.throw(
				_("{0} cannot be negative.").format(_(doc.meta.get_label(field))), title=_("Invalid Value")
			)


# --- the daily step ----------------------------------------------------------------------------------


def classify_frame(frame: pd.DataFrame, default, by_product) -> pd.DataFrame:
	"""Add bucket_new, proposed_new, classification_new to a frame of dpd, product, manual_classification."""
	out = frame.copy()
	out["bucket_new"] = delinquency.bucket_labels(delinquency.bucket_index(out["dpd"]))
	out["proposed_new"] = delinquency.classify(
		out["dpd"].to_numpy(), out["product"].to_numpy(), by_product, default
	)
	out["classification_new"] = delinquency.effective_classification(
		out["proposed_new"].to_numpy(), out["manual_classification"].to_numpy()
	)
	return out


def process_date(as_of: dt.date | str, progress=ops.no_progress) -> dict:
	"""Bucket and classification of every snapshot of ``as_of``; writes only the rows that change."""
	as_of = getdate(as_of)
	default, by_product = thresholds()
	progress(0.05, _("Reading snapshots of {0}").format(as_of))
	rows = frappe.db.sql(
		"""select s.`name`, s.`dpd`, s.`bucket`, s.`proposed_classification`, s.`classification`,
			s.`manual_classification`, l.`product`
		from `tabPL Loan Snapshot` s left join `tabPL Loan` l on l.`name` = s.`loan`
		where s.`as_of_date` = %s""",
		as_of,
	)
	columns = ["name", "dpd", "bucket", "proposed", "classification", "manual_classification", "product"]
	frame = frames.from_rows(rows, columns)
	if frame.empty:
		progress(1.0)
		return {"snapshots": 0, "updated": 0}
	progress(0.3, _("Classifying {0} snapshots").format(len(frame)))
	frame = classify_frame(frame, default, by_product)
	changed = (
		(frame["bucket"].fillna("") != frame["bucket_new"].fillna(""))
		| (frame["proposed"].fillna("") != frame["proposed_new"].fillna(""))
		| (frame["classification"].fillna("") != frame["classification_new"].fillna(""))
	).to_numpy()
	todo = frame[changed]
	progress(0.5, _("Writing {0} changed snapshots").format(len(todo)))
	# missing (a negative dpd has no bucket) as None, not NaN, for the driver
	values = [
		tuple(frames.db_row(row))
		for row in zip(todo["bucket_new"], todo["proposed_new"], todo["classification_new"], strict=True)
	]
	ops.update_grouped(
		SNAPSHOT, todo["name"].tolist(), values, ("bucket", "proposed_classification", "classification")
	)
	if len(todo):  # the Portfolio Quality Trend summary read these buckets and classifications
		portfolio_months.invalidate([as_of])
	progress(1.0)
	counts = frame["classification_new"].value_counts().to_dict()
	return {
		"snapshots": len(frame),
		"updated": len(todo),
		"manual": int(frame["manual_classification"].isin(delinquency.CLASSIFICATIONS).sum()),
		"classes": {k: int(v) for k, v in counts.items()},
	}


# --- the same rules as SQL expressions (set-wise writers: the Lending connector) -----------------------


def _literal(value: str) -> str:
	return frappe.db.escape(value)


def sql_bucket(dpd: str) -> str:
	"""SQL of :func:`delinquency.bucket_index` + labels for the column expression ``dpd`` (NULL where blank
	or negative), generated from ``delinquency.BUCKET_UPPER_DPD``."""
	steps = " ".join(
		f"when {dpd} <= {int(upper)} then {_literal(label)}" for upper, label in delinquency.BUCKET_UPPER_DPD
	)
	return f"(case when {dpd} is null or {dpd} < 0 then null {steps} else {_literal(delinquency.BUCKETS[-1])} end)"


def _sql_class_of(dpd: str, limits: delinquency.Thresholds) -> str:
	# class number = how many thresholds the dpd exceeds (delinquency.classification_index)
	exceeded = " + ".join(f"({dpd} > {int(t)})" for t in limits.as_tuple())
	labels = ", ".join(_literal(c) for c in delinquency.CLASSIFICATIONS)
	return f"elt(1 + {exceeded}, {labels})"


def sql_proposed(dpd: str, product: str, default, by_product) -> str:
	"""SQL of :func:`delinquency.classify`: the proposed class of ``dpd`` with the thresholds of ``product``
	(exact, case-sensitive product match as in the engine; others and blank use ``default``)."""
	cases = " ".join(
		f"when binary {product} = {_literal(name)} then {_sql_class_of(dpd, limits)}"
		for name, limits in by_product.items()
	)
	return f"(case when {dpd} is null or {dpd} < 0 then null {cases} else {_sql_class_of(dpd, default)} end)"


def sql_classification(proposed: str, manual: str) -> str:
	"""SQL of :func:`delinquency.effective_classification`: the manual class where one is recorded."""
	labels = ", ".join(_literal(c) for c in delinquency.CLASSIFICATIONS)
	return f"if(binary coalesce({manual}, '') in ({labels}), {manual}, {proposed})"


def sql_expressions(dpd: str, product: str, manual: str) -> dict[str, str]:
	"""{bucket, proposed_classification, classification}: SQL expressions of the rules of
	:func:`classify_frame` with the thresholds of PL Post-Loan Settings."""
	default, by_product = thresholds()
	proposed = sql_proposed(dpd, product, default, by_product)
	return {
		"bucket": sql_bucket(dpd),
		"proposed_classification": proposed,
		"classification": sql_classification(proposed, manual),
	}


def process_date_in_sql(as_of: dt.date | str) -> int:
	""":func:`process_date` in one UPDATE (same rules, same rows written: those that change); for the
	set-wise writers of many dates (the Lending back-fill). Returns the number of rows changed."""
	as_of = getdate(as_of)
	new = sql_expressions("s.`dpd`", "l.`product`", "s.`manual_classification`")
	differs = " or ".join(
		f"binary coalesce(s.`{f}`, '') != binary coalesce({sql}, '')" for f, sql in new.items()
	)
	frappe.db.sql(
		f"""update `tabPL Loan Snapshot` s left join `tabPL Loan` l on l.`name` = s.`loan`
		set {", ".join(f"s.`{f}` = {sql}" for f, sql in new.items())}
		where s.`as_of_date` = %s and ({differs})""",  # nosemgrep: expressions from the engine's constants
		as_of,
	)
	changed = frappe.db._cursor.rowcount or 0
	if changed:  # the Portfolio Quality Trend summary read these buckets and classifications
		portfolio_months.invalidate([as_of])
	return changed


# --- single documents --------------------------------------------------------------------------------


def apply_to_document(doc) -> None:
	"""PL Loan Snapshot.validate: bucket, proposed and effective classification; a manual one needs a reason."""
	if doc.dpd is None or doc.dpd == "" or int(doc.dpd) < 0:
		return
	default, by_product = thresholds()
	product = frappe.db.get_value("PL Loan", doc.loan, "product") if doc.loan else None
	doc.bucket = delinquency.bucket_labels(delinquency.bucket_index([doc.dpd]))[0]
	doc.proposed_classification = delinquency.classify([doc.dpd], [product], by_product, default)[0]
	manual = doc.get("manual_classification") or None
	if manual and not (doc.get("classification_reason") or "").strip():
		frappe.throw(
			_("Give the reason for the manual classification {0}.").format(_(manual)),
			title=_("Missing Value"),
		)
	doc.classification = manual or doc.proposed_classification
	before = doc.get_doc_before_save() if not doc.is_new() else None
	previous = before.get("manual_classification") if before else None
	if (manual or None) != (previous or None) or (
		before and (before.get("classification_reason") or "") != (doc.get("classification_reason") or "")
	):
		doc.classified_by = frappe.session.user if manual else None
		doc.classified_on = now_datetime() if manual else None


def set_manual_classification(snapshot: str, classification: str | None, reason: str | None) -> dict:
	"""Record (or, with a blank classification, remove) the manual classification of a snapshot.

	Returns the snapshot's proposed and effective classification and ``below_floor`` when the manual class
	is milder than the DPD-based one (the regulation's minimum is not met: the user is warned, not refused).
	"""
	classification = (classification or "").strip() or None
	reason = (reason or "").strip()
	if classification and classification not in delinquency.CLASSIFICATIONS:
		frappe.throw(
			_("{0} is not a classification; choose one of: {1}").format(
				escape_html(classification), ", ".join(_(c) for c in delinquency.CLASSIFICATIONS)
			),
			title=_("Invalid Value"),
		)
	if classification and not reason:
		frappe.throw(
			_("Give the reason for the manual classification {0}.").format(_(classification)),
			title=_("Missing Value"),
		)
	doc = frappe.get_doc(SNAPSHOT, snapshot)
	doc.check_permission("write")
	old = {f: doc.get(f) for f in ("manual_classification", "classification_reason", "classification")}
	doc.manual_classification = classification
	doc.classification_reason = reason if classification else None
	doc.save()
	from postloan_performance.services.bulk import insert_versions

	changed = [[f, old[f], doc.get(f)] for f in old if (old[f] or None) != (doc.get(f) or None)]
	insert_versions(SNAPSHOT, {doc.name: {"changed": changed}})
	below = delinquency.less_severe_than_proposed(classification, doc.proposed_classification)
	if below:
		frappe.msgprint(
			_(
				"The manual classification {0} is milder than {1}, the minimum for {2} days past due under the risk-classification rules."
			).format(_(classification), _(doc.proposed_classification), doc.dpd),
			title=_("Below the Regulatory Minimum"),
			indicator="orange",
		)
	return {
		"snapshot": doc.name,
		"proposed_classification": doc.proposed_classification,
		"classification": doc.classification,
		"manual_classification": doc.manual_classification,
		"below_floor": bool(below),
	}
