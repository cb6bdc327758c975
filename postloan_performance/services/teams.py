"""Team membership queries."""

import frappe
from frappe.utils import getdate

FAR_FUTURE = getdate("9999-12-31")


def _overlap(a_from, a_to, b_from, b_to) -> bool:
	return getdate(a_from) <= getdate(b_to or FAR_FUTURE) and getdate(b_from) <= getdate(a_to or FAR_FUTURE)


def find_membership_overlaps(team: str | None, layer: str, members) -> list[dict]:
	"""Memberships in `members` that overlap another membership of the same employee in the same layer.

	Checks rows against each other (same team) and against every other team of the layer in one query.
	"""
	rows = [m for m in members if m.employee and m.from_date]
	overlaps = []
	for i, a in enumerate(rows):
		for b in rows[i + 1 :]:
			if a.employee == b.employee and _overlap(a.from_date, a.to_date, b.from_date, b.to_date):
				overlaps.append(
					{"employee": a.employee, "team": team, "from_date": b.from_date, "to_date": b.to_date}
				)
	if not rows or not layer:
		return overlaps

	member = frappe.qb.DocType("PL Team Member")
	pl_team = frappe.qb.DocType("PL Team")
	others = (
		frappe.qb.from_(member)
		.join(pl_team)
		.on(member.parent == pl_team.name)
		.select(member.employee, member.parent.as_("team"), member.from_date, member.to_date)
		.where(
			(member.parenttype == "PL Team")
			& (pl_team.layer == layer)
			& (pl_team.name != (team or ""))
			& (member.employee.isin(list({m.employee for m in rows})))
		)
	).run(as_dict=True)
	for a in rows:
		for b in others:
			if a.employee == b.employee and _overlap(a.from_date, a.to_date, b.from_date, b.to_date):
				overlaps.append(b)
	return overlaps
