"""Versions of a KPI scheme (PL KPI Template): copy as the next draft version, diff against the
predecessor, pick the version active on a date, and adopt a draft from a date.

A version chain is rooted at its first template (``version_of`` is blank on the root and names the root
on every later version). Only one version of a chain is active on any date: adopting a version closes
its predecessor (``effective_to``) the day before.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import add_days, escape_html, getdate, now_datetime

from postloan_performance.engine.scheme_diff import (
	BAND_FIELDS,
	CRITERION_FIELDS,
	ITEM_FIELDS,
	SETTINGS,
	diff_schemes,
	summarise,
)

DOCTYPE = "PL KPI Template"
CHILD_FIELDS = {"items": ("kpi", *ITEM_FIELDS), "grade_bands": ("grade", *BAND_FIELDS)}
CHILD_FIELDS["criteria"] = ("criterion", *CRITERION_FIELDS)


def chain_root(doc) -> str:
	return doc.version_of or doc.name


def scheme_dict(doc) -> dict:
	"""The scoring-relevant content of a template, as the engine's diff reads it."""
	data = {f: doc.get(f) for f in SETTINGS}
	for table, fields in CHILD_FIELDS.items():
		data[table] = [{f: row.get(f) for f in fields} for row in doc.get(table)]
	return data


def changes_between(old_doc, new_doc) -> list[dict]:
	return diff_schemes(scheme_dict(old_doc), scheme_dict(new_doc))


def in_use(name: str) -> bool:
	return bool(frappe.db.exists("PL Appraisal", {"template": name}))


def version_names(root: str) -> list[str]:
	return [root, *frappe.get_all(DOCTYPE, filters={"version_of": root}, pluck="name", order_by="creation")]


def next_version_label(root: str) -> str:
	labels = frappe.get_all(DOCTYPE, filters={"name": ("in", version_names(root))}, pluck="scheme_version")
	majors = []
	for label in labels:
		try:
			majors.append(int(float(label or 1)))
		except ValueError:
			majors.append(1)
	return f"{max(majors or [1]) + 1}.0"


def new_version(name: str) -> str:
	"""Copy the template as the next draft version of its chain; returns the new template's name."""
	source = frappe.get_doc(DOCTYPE, name)
	root = chain_root(source)
	label = next_version_label(root)
	base = frappe.db.get_value(DOCTYPE, root, "template_name")
	copy = frappe.copy_doc(source)
	copy.update(
		{
			"template_name": f"{base} v{label}",
			"scheme_version": label,
			"version_of": root,
			"previous_version": source.name,
			"version_status": "Draft",
			"company": source.company or "",
			"is_default": 0,
			"is_standard": 0,
			"effective_from": None,
			"effective_to": None,
			"adopted_by": None,
			"adopted_on": None,
			"adoption_reason": None,
		}
	)
	copy.flags.new_version = True
	copy.insert()
	return copy.name


VERSION_FIELDS = (
	"version_of",
	"previous_version",
	"effective_to",
	"adopted_by",
	"adopted_on",
	"adoption_reason",
)


def start_own_chain(doc) -> None:
	"""A template made other than by New Version (a copy, a new one) is the first of its own chain."""
	for field in VERSION_FIELDS:
		doc.set(field, None)
	doc.version_status = "Active"


def version_diff(name: str) -> dict:
	"""Changes of a version against its predecessor, with a summary and the rendered HTML."""
	doc = frappe.get_doc(DOCTYPE, name)
	if not doc.previous_version:
		return {"previous": None, "changes": [], "summary": summarise([]), "html": ""}
	previous = frappe.get_doc(DOCTYPE, doc.previous_version)
	changes = changes_between(previous, doc)
	return {
		"previous": previous.name,
		"changes": changes,
		"summary": summarise(changes),
		"html": render_changes(changes),
	}


SECTION_LABELS = {
	"settings": "Settings",
	"items": "KPIs",
	"grade_bands": "Grade Bands",
	"criteria": "Criteria",
}


def _show(value) -> str:
	if isinstance(value, dict):
		return ""
	return escape_html(str(value if value is not None else ""))


def render_changes(changes: list[dict]) -> str:
	if not changes:
		return "<p>{}</p>".format(_("No changes from the previous version."))
	rows = []
	for c in changes:
		if c["field"] is None:
			what = _("added") if c["old"] is None else _("removed")
			rows.append((_(SECTION_LABELS[c["section"]]), escape_html(c["key"]), what, "", ""))
		else:
			label = (
				frappe.get_meta(DOCTYPE).get_label(c["field"]) if c["section"] == "settings" else c["field"]
			)
			rows.append(
				(
					_(SECTION_LABELS[c["section"]]),
					escape_html(c["key"]),
					_(label),
					_show(c["old"]),
					_show(c["new"]),
				)
			)
	head = "".join(f"<th>{h}</th>" for h in (_("Section"), _("Item"), _("Change"), _("Before"), _("After")))
	body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in rows)
	return f'<table class="table table-bordered table-condensed"><tr>{head}</tr>{body}</table>'


def active_version(template: str, on_date) -> str:
	"""The version of ``template``'s chain active on ``on_date``; ``template`` itself when the chain has
	no version active on that date."""
	root = chain_root(frappe.get_cached_doc(DOCTYPE, template)) if template else template
	versions = frappe.get_all(
		DOCTYPE,
		filters={"name": ("in", version_names(root)), "version_status": ("!=", "Draft"), "disabled": 0},
		fields=["name", "effective_from", "effective_to"],
	)
	on = getdate(on_date)
	candidates = [
		v
		for v in versions
		if (not v.effective_from or getdate(v.effective_from) <= on)
		and (not v.effective_to or getdate(v.effective_to) >= on)
	]
	if not candidates:
		return template
	candidates.sort(key=lambda v: getdate(v.effective_from) if v.effective_from else getdate("1900-01-01"))
	return candidates[-1].name


def validate_single_active(doc) -> None:
	"""No two non-draft versions of one chain overlap in time."""
	if doc.version_status == "Draft" or doc.disabled:
		return
	root = chain_root(doc)
	others = frappe.get_all(
		DOCTYPE,
		filters={
			"name": ("in", [n for n in version_names(root) if n != doc.name]),
			"version_status": ("!=", "Draft"),
			"disabled": 0,
		},
		fields=["name", "effective_from", "effective_to"],
	)
	start = getdate(doc.effective_from) if doc.effective_from else getdate("1900-01-01")
	end = getdate(doc.effective_to) if doc.effective_to else getdate("2999-12-31")
	for other in others:
		o_start = getdate(other.effective_from) if other.effective_from else getdate("1900-01-01")
		o_end = getdate(other.effective_to) if other.effective_to else getdate("2999-12-31")
		if start <= o_end and o_start <= end:
			frappe.throw(
				_(
					"Version {0} is already active in this period; only one version is active on a date."
				).format(frappe.bold(other.name)),
				title=_("Overlapping Versions"),
			)


def validate_not_in_use(doc) -> None:
	"""An active version already used by appraisals cannot change its scoring: supersede it instead."""
	if doc.is_new() or doc.flags.adopting:
		return
	before = doc.get_doc_before_save()
	if not before or not in_use(doc.name):
		return
	if changes_between(before, doc):
		frappe.throw(
			_(
				"Template {0} is used by appraisals and cannot be edited. Create a new version and adopt it instead."
			).format(frappe.bold(doc.name)),
			title=_("Version In Use"),
		)


def adopt(name: str, effective_from: str, reason: str) -> dict:
	"""Activate a draft version from ``effective_from``: record who and why, close the predecessor the
	day before, and notify the team leaders of the layer. Returns the change summary."""
	doc = frappe.get_doc(DOCTYPE, name)
	if doc.version_status != "Draft":
		frappe.throw(_("Only a draft version can be adopted."), title=_("Not Allowed"))
	if not (reason or "").strip():
		frappe.throw(_("Give a reason for adopting this version."), title=_("Missing Reason"))
	start = getdate(effective_from)
	predecessor = frappe.get_doc(DOCTYPE, doc.previous_version) if doc.previous_version else None
	if predecessor:
		if predecessor.effective_from and getdate(predecessor.effective_from) >= start:
			frappe.throw(
				_("The effective date must be after the previous version's ({0}).").format(
					predecessor.effective_from
				),
				title=_("Invalid Date"),
			)
		frappe.db.set_value(
			DOCTYPE,
			predecessor.name,
			{"effective_to": add_days(start, -1), "version_status": "Superseded", "is_default": 0},
		)
	doc.flags.adopting = True
	doc.update(
		{
			"version_status": "Active",
			"effective_from": start,
			"adopted_by": frappe.session.user,
			"adopted_on": now_datetime(),
			"adoption_reason": reason.strip(),
			"is_default": predecessor.is_default if predecessor else doc.is_default,
		}
	)
	doc.save()
	info = version_diff(doc.name)
	notify_team_leaders(doc, info)
	return {"name": doc.name, "summary": info["summary"], "changes": len(info["changes"])}


def team_leader_users(layer: str, company: str | None) -> list[str]:
	filters = {"layer": layer, "disabled": 0, "team_lead": ("is", "set")}
	if company:
		filters["company"] = company
	leads = frappe.get_all("PL Team", filters=filters, pluck="team_lead")
	if not leads:
		return []
	return sorted(
		set(
			frappe.get_all(
				"Employee", filters={"name": ("in", leads), "user_id": ("is", "set")}, pluck="user_id"
			)
		)
	)


def notify_team_leaders(doc, info: dict) -> None:
	s = info["summary"]
	subject = _("Scheme {0} version {1} applies from {2}").format(
		doc.template_name, doc.scheme_version, doc.effective_from
	)
	detail = _("KPIs added: {0}, removed: {1}, changed: {2}; other changes: {3}. Reason: {4}").format(
		s["kpis_added"],
		s["kpis_removed"],
		s["kpis_changed"],
		s["other_changes"],
		escape_html(doc.adoption_reason),
	)
	for user in team_leader_users(doc.layer, doc.company):
		frappe.get_doc(
			{
				"doctype": "Notification Log",
				"for_user": user,
				"type": "Alert",
				"document_type": DOCTYPE,
				"document_name": doc.name,
				"subject": subject,
				"email_content": detail + info["html"],
			}
		).insert(ignore_permissions=True)


def change_log(company: str | None, since=None) -> str:
	"""The versions adopted since ``since`` (a datetime; all when None) for the company (and the
	templates of every company), oldest first: the scheme changes a new Scheme Briefing presents."""
	filters = {"adopted_on": ("is", "set"), "company": ("in", [company or "", ""])}
	if since:
		filters["adopted_on"] = (">", since)
	rows = frappe.get_all(
		DOCTYPE,
		filters=filters,
		fields=["name", "template_name", "layer", "scheme_version", "effective_from", "adoption_reason"],
		order_by="adopted_on asc",
	)
	if not rows:
		return ""
	parts = [f"<p><b>{escape_html(_('Scheme changes since the last briefing'))}</b></p>"]
	for row in rows:
		info = version_diff(row.name)
		s = info["summary"]
		parts.append(
			"<p>"
			+ _("{0} version {1} ({2}) applies from {3}.").format(
				escape_html(row.template_name or row.name),
				escape_html(row.scheme_version or ""),
				_(row.layer) if row.layer else "",
				frappe.format_value(row.effective_from, {"fieldtype": "Date"}),
			)
			+ " "
			+ _("KPIs added: {0}, removed: {1}, changed: {2}; other changes: {3}. Reason: {4}").format(
				s["kpis_added"],
				s["kpis_removed"],
				s["kpis_changed"],
				s["other_changes"],
				escape_html(row.adoption_reason or ""),
			)
			+ "</p>"
			+ info["html"]
		)
	return "".join(parts)
