"""The app's whitelisted methods, by area. Every method keeps its dotted path
``postloan_performance.api.<name>`` (the desk's JavaScript, stored number cards and charts, and queued jobs
call it so); the code lives in the modules of this package.
"""

from postloan_performance.api.cycle import (
	COMPUTE_ROLES,
	CYCLE_ROLES,
	calibration_view,
	compute_appraisal,
	compute_cycle_job,
	cycle_step,
	feedback_summary,
	latest_review_cycle,
	override_grade,
	request_feedback,
)
from postloan_performance.api.dashboard import (
	current_npl_ratio,
	grade_distribution_chart,
	kpi_achievement_chart,
	last_payout_pool,
	npl_trend_chart,
	open_cycle_progress,
	recovery_rate_last_month,
)
from postloan_performance.api.data_import import (
	check_data_import,
	data_import_sheets,
	data_import_status,
	download_import_template,
	import_post_loan_data,
	start_data_import,
)
from postloan_performance.api.demo import make_demo, remove_demo
from postloan_performance.api.evaluation import SCHEME_EFFECT_ROLES, refresh_scheme_evaluation
from postloan_performance.api.payout import export_payout, payout_job, payout_step
from postloan_performance.api.post_loan import (
	POST_LOAN_ROLES,
	QUEUE_READER_ROLES,
	close_risk_alert,
	my_collection_queue,
	post_loan_job_status,
	run_lending_sync,
	run_post_loan_job,
	set_manual_classification,
	train_propensity_model,
)

__all__ = [
	"COMPUTE_ROLES",
	"CYCLE_ROLES",
	"POST_LOAN_ROLES",
	"QUEUE_READER_ROLES",
	"SCHEME_EFFECT_ROLES",
	"calibration_view",
	"check_data_import",
	"close_risk_alert",
	"compute_appraisal",
	"compute_cycle_job",
	"current_npl_ratio",
	"cycle_step",
	"data_import_sheets",
	"data_import_status",
	"download_import_template",
	"export_payout",
	"feedback_summary",
	"grade_distribution_chart",
	"import_post_loan_data",
	"kpi_achievement_chart",
	"last_payout_pool",
	"latest_review_cycle",
	"make_demo",
	"my_collection_queue",
	"npl_trend_chart",
	"open_cycle_progress",
	"override_grade",
	"payout_job",
	"payout_step",
	"post_loan_job_status",
	"recovery_rate_last_month",
	"refresh_scheme_evaluation",
	"remove_demo",
	"request_feedback",
	"run_lending_sync",
	"run_post_loan_job",
	"set_manual_classification",
	"start_data_import",
	"train_propensity_model",
]
