"""What an appeal does to its appraisal: filing it marks the appraisal Appealed; deciding it returns the
appraisal to Published, with the revised score and its grade when the appeal is upheld."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import flt

from postloan_performance.engine import scoring
from postloan_performance.services.cycle import notify


def mark_appealed(appraisal_name: str) -> None:
	"""Filing an appeal moves the appraisal to Appealed (the workflow's Appeal transition)."""
	# a locking read: the latest appraisal, never a snapshot from before publication
	appraisal = frappe.get_doc("PL Appraisal", appraisal_name, for_update=True)
	if appraisal.status != "Appealed":
		appraisal.status = "Appealed"
		appraisal.flags.ignore_permissions = True
		appraisal.save(ignore_version=False)


def apply_decision(appeal) -> None:
	"""Upheld: the appraisal takes the revised score and its grade (the change is kept in its Version
	history); either way it returns to Published and the appraisee is told."""
	appraisal = frappe.get_doc("PL Appraisal", appeal.appraisal)
	if appeal.status == "Upheld":
		bands = [
			(b.grade, flt(b.min_score))
			for b in frappe.get_doc("PL KPI Template", appraisal.template).grade_bands
		]
		appraisal.total_score = flt(appeal.revised_score)
		appraisal.final_grade = scoring.grade_for(appraisal.total_score, bands or scoring.DEFAULT_GRADE_BANDS)
		appraisal.add_comment(
			"Info",
			_("Appeal {0} upheld: total score {1} → {2}. {3}").format(
				appeal.name, flt(appeal.original_score, 2), flt(appeal.revised_score, 2), appeal.resolution
			),
		)
	if appraisal.status == "Appealed":
		appraisal.status = "Published"
	appraisal.flags.ignore_permissions = True
	appraisal.save(ignore_version=False)  # the amendment stays in the appraisal's history
	notify(
		[appeal.appraisee_user],
		_("Your appeal {0} was {1}").format(appeal.name, _(appeal.status).lower()),
		"PL Appeal",
		appeal.name,
	)
