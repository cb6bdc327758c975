"""Data functions behind the Script Reports: one module per report, shared helpers in `common`.

Each report's `execute(filters)` in the module folder only calls the function here, so the same
data can be tested without the report framework and reused by dashboards.
"""
