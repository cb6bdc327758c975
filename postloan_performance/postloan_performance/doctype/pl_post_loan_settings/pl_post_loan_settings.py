# Copyright (c) 2026, Post-Loan Performance contributors
# For license information, please see license.txt

from frappe.model.document import Document

from postloan_performance.services.delinquency import validate_settings


class PLPostLoanSettings(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from postloan_performance.postloan_performance.doctype.pl_classification_rule.pl_classification_rule import (
			PLClassificationRule,
		)

		classification_last_run: DF.SmallText | None
		classification_processed_through: DF.Date | None
		classification_rules: DF.Table[PLClassificationRule]
		collection_last_run: DF.SmallText | None
		collection_processed_through: DF.Date | None
		doubtful_after_dpd: DF.Int
		enable_daily_jobs: DF.Check
		enable_propensity_model: DF.Check
		import_date_order: DF.Literal["Year-Month-Day", "Day-Month-Year", "Month-Day-Year"]
		loss_after_dpd: DF.Int
		model_auc: DF.Float
		model_parameters: DF.Code | None
		model_trained_on: DF.Datetime | None
		model_training_cases: DF.Int
		priority_broken_promise_weight: DF.Float
		priority_bucket_weight: DF.Float
		priority_overdue_weight: DF.Float
		priority_propensity_weight: DF.Float
		special_mention_after_dpd: DF.Int
		substandard_after_dpd: DF.Int
		warning_last_run: DF.SmallText | None
		warning_processed_through: DF.Date | None

	# end: auto-generated types
	def validate(self):
		# ordered classification thresholds, one row per product, non-negative queue weights
		validate_settings(self)
