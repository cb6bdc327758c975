app_name = "postloan_performance"
app_title = "Post-Loan Performance"
app_publisher = "Post-Loan Performance contributors"
app_description = "Post-loan performance scheme: KPIs, review cycles, 360 feedback, calibration, appeals"
app_email = "postloan-performance@example.com"
app_license = "GPL-3.0-or-later"
# "frappe/erpnext" rather than "erpnext": Frappe resolves a bare name through the GitHub API
# (installer.find_org) on every install-app, which fails on an offline server.
required_apps = ["frappe/erpnext"]

add_to_apps_screen = [
	{
		"name": "postloan_performance",
		"logo": "/assets/postloan_performance/images/logo.svg",
		"title": "Post-Loan Performance",
		"route": "/app/post-loan-performance",
		"has_permission": "postloan_performance.permissions.has_app_permission",
	}
]

# Installation
# ------------
after_install = "postloan_performance.install.after_install"
before_uninstall = "postloan_performance.install.before_uninstall"

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
}

has_permission = {
	"PL Appraisal": "postloan_performance.permissions.appraisal_has_permission",
	"PL Feedback": "postloan_performance.permissions.feedback_has_permission",
	"PL Appeal": "postloan_performance.permissions.appeal_has_permission",
	"PL Satisfaction Survey": "postloan_performance.permissions.survey_has_permission",
}

# Scheduled jobs
# --------------
scheduler_events = {
	"daily": [
		"postloan_performance.services.feedback.send_feedback_reminders",
		# classification, collection cases and early-warning alerts: enqueued on the long queue
		"postloan_performance.services.post_loan_ops.enqueue_daily_jobs",
	],
}
