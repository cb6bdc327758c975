app_name = "postloan_performance"
app_title = "Post-Loan Performance"
app_publisher = "Post-Loan Performance contributors"
app_description = "Post-loan performance scheme: KPIs, review cycles, 360 feedback, calibration, appeals"
app_email = "postloan-performance@example.com"
app_license = "GPL-3.0-or-later"
# "frappe/erpnext" rather than "erpnext": Frappe resolves a bare name through the GitHub API
# (installer.find_org) on every install-app, which fails on an offline server.
required_apps = ["frappe/erpnext"]
# controllers carry their fields as typed class annotations (regenerated when a DocType is saved)
export_python_type_annotations = True

add_to_apps_screen = [
	{
		"name": "postloan_performance",
		"logo": "/assets/postloan_performance/images/logo.svg",
		"title": "Post-Loan Performance",
		"route": "/app/post-loan-performance",
		"has_permission": "postloan_performance.permissions.has_app_permission",
	}
]

# the filters the app's script reports share (a plain file served from public/: no build step needed)
app_include_js = ["/assets/postloan_performance/js/report_filters.js"]

# Installation
# ------------
before_install = "postloan_performance.install.before_install"
after_install = "postloan_performance.install.after_install"
before_uninstall = "postloan_performance.install.before_uninstall"
# unique keys the database keeps (services/constraints.py), also on sites restored or upgraded
after_migrate = [
	"postloan_performance.services.constraints.after_migrate",
	"postloan_performance.install.allow_employee_selection",
]

# Roles ship as fixtures so that `migrate` keeps them in place.
fixtures = [
	{
		"dt": "Role",
		"filters": [
			[
				"name",
				"in",
				[
					"PL Performance Manager",
					"PL Team Leader",
					"PL Appraisee",
					"PL Executive",
					"PL Post-Loan Officer",
				],
			]
		],
	},
	{"dt": "Workflow", "filters": [["name", "=", "PL Appraisal Workflow"]]},
]

# Row-level permissions
# ---------------------
permission_query_conditions = {
	"PL Appraisal": "postloan_performance.permissions.appraisal_query",
	"PL Feedback": "postloan_performance.permissions.feedback_query",
	"PL Appeal": "postloan_performance.permissions.appeal_query",
	"PL Satisfaction Survey": "postloan_performance.permissions.survey_query",
	"PL Data Import": "postloan_performance.permissions.data_import_query",
	"PL Payout Line": "postloan_performance.services.payout_access.payout_line_query",
	"PL Payout Run": "postloan_performance.services.payout_access.payout_run_query",
}

has_permission = {
	"PL Appraisal": "postloan_performance.permissions.appraisal_has_permission",
	"PL Feedback": "postloan_performance.permissions.feedback_has_permission",
	"PL Appeal": "postloan_performance.permissions.appeal_has_permission",
	"PL Satisfaction Survey": "postloan_performance.permissions.survey_has_permission",
	"PL Data Import": "postloan_performance.permissions.data_import_has_permission",
	"PL Payout Line": "postloan_performance.services.payout_access.payout_line_has_permission",
	"PL Payout Run": "postloan_performance.services.payout_access.payout_run_has_permission",
}

# Stored Scheme Effect Evaluation values (PL Metric Value) do not keep a review cycle from being deleted;
# they go with it (doc_events below).
ignore_links_on_delete = ["PL Metric Value"]

# Scheduled jobs
# --------------
scheduler_events = {
	"daily": [
		"postloan_performance.services.feedback.send_feedback_reminders",
		# classification, collection cases and early-warning alerts: enqueued on the long queue
		"postloan_performance.services.daily_jobs.enqueue_daily_jobs",
	],
	# the Portfolio Quality Trend summary (PL Portfolio Month): build the months that writes made stale
	"daily_long": [
		"postloan_performance.services.portfolio_months.refresh_missing",
		# Lending connector: a no-op unless Lending is installed and the daily sync is enabled
		"postloan_performance.services.lending.jobs.daily",
	],
}

# The Portfolio Quality Trend summary drops what a loan's move, a case or a recovery makes stale
_portfolio_months = "postloan_performance.services.portfolio_months"
doc_events = {
	# Lending connector: the daily increment after Lending's loan classification (no-op without Lending)
	"Process Loan Classification": {
		"on_submit": "postloan_performance.services.lending.jobs.after_lending_classification"
	},
	"PL Loan": {
		"on_update": f"{_portfolio_months}.on_loan_change",
		"on_trash": f"{_portfolio_months}.on_loan_change",
	},
	"PL Collection Case": {
		"on_update": f"{_portfolio_months}.on_case_change",
		"on_trash": f"{_portfolio_months}.on_case_change",
	},
	"PL Recovery": {
		"on_update": f"{_portfolio_months}.on_recovery_change",
		"on_trash": f"{_portfolio_months}.on_recovery_change",
	},
	"PL Review Cycle": {"on_trash": "postloan_performance.services.evaluation.on_cycle_trash"},
	# an appeal upheld after a confirmed payout re-creates the affected Additional Salary drafts
	"PL Appeal": {"on_update": "postloan_performance.services.payout.on_appeal_update"},
}

# Privacy, read side (privacy.py): every child table follows its parent's row rules (generated from the
# DocType metadata, so a new child table is covered); counting endpoints count only permitted rows.
from postloan_performance.privacy import child_doctypes as _child_doctypes

for _child in _child_doctypes():
	permission_query_conditions[_child] = "postloan_performance.privacy.child_query"
	has_permission[_child] = "postloan_performance.privacy.child_has_permission"

override_whitelisted_methods = {
	"frappe.client.get_count": "postloan_performance.privacy.get_count",
	"frappe.desk.listview.get_group_by_count": "postloan_performance.privacy.get_group_by_count",
	"frappe.desk.reportview.get": "postloan_performance.privacy.reportview_get",
}
