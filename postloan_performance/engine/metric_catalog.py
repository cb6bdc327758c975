"""The built-in metric codes of the design, with their unit and natural direction.

Kept apart from the computations so that DocType validation can use it cheaply.
"""

HIGHER = "Higher is Better"
LOWER = "Lower is Better"

BUILTIN_METRICS: dict[str, dict] = {
	"npl_ratio": {"label": "NPL Ratio", "unit": "%", "direction": LOWER},
	"npl_ratio_reduction": {"label": "NPL Ratio Reduction", "unit": "%", "direction": HIGHER},
	"recovery_rate": {"label": "Recovery Rate", "unit": "%", "direction": HIGHER},
	"recovery_rate_improvement": {"label": "Recovery Rate Improvement", "unit": "%", "direction": HIGHER},
	"collection_success_rate": {"label": "Collection Success Rate", "unit": "%", "direction": HIGHER},
	"avg_collection_cycle_days": {"label": "Average Collection Cycle", "unit": "days", "direction": LOWER},
	"ptp_kept_rate": {"label": "Promise-to-Pay Kept Rate", "unit": "%", "direction": HIGHER},
	"right_party_contact_rate": {"label": "Right-Party Contact Rate", "unit": "%", "direction": HIGHER},
	"recovered_amount": {"label": "Recovered Amount", "unit": "amount", "direction": HIGHER},
	"warning_precision": {"label": "Early Warning Precision", "unit": "%", "direction": HIGHER},
	"warning_recall": {"label": "Early Warning Recall", "unit": "%", "direction": HIGHER},
	"risk_report_quality": {"label": "Risk Report Quality", "unit": "%", "direction": HIGHER},
	"risk_event_handling_hours": {"label": "Risk Event Handling Time", "unit": "hours", "direction": LOWER},
	"ticket_resolution_rate": {"label": "Ticket Resolution Rate", "unit": "%", "direction": HIGHER},
	"first_response_minutes": {"label": "First Response Time", "unit": "minutes", "direction": LOWER},
	"customer_satisfaction": {"label": "Customer Satisfaction", "unit": "%", "direction": HIGHER},
	"customer_loyalty_nps": {"label": "Customer Loyalty (NPS)", "unit": "points", "direction": HIGHER},
	"team_satisfaction": {"label": "Team Satisfaction", "unit": "points", "direction": HIGHER},
}

# Metrics over a team's loan portfolio (managing_team and its descendants) or a team's survey:
# they only make sense for a Team subject.
PORTFOLIO_METRICS = frozenset({"npl_ratio", "npl_ratio_reduction", "team_satisfaction"})
