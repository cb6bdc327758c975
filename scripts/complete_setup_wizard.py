"""Complete ERPNext's setup wizard on a site, as a person does at first login.

Run from a bench's ``sites`` folder with the bench's Python:

    ../env/bin/python /path/to/scripts/complete_setup_wizard.py SITE [COMPANY] [ABBR] [CURRENCY] [COUNTRY]

Does nothing when the wizard is already complete. Creates the company (default "Test Lender", TL,
CNY, China), the current fiscal year and the standard chart of accounts, through Frappe's own
``setup_complete`` so that the site is in the state every real ERPNext site is in.
"""

import sys


def main(site: str, company: str, abbr: str, currency: str, country: str) -> str:
	import frappe
	from frappe.utils import now_datetime

	frappe.init(site=site, sites_path=".")
	frappe.connect()

	def complete() -> bool:
		return bool(frappe.utils.cint(frappe.db.get_single_value("System Settings", "setup_complete")))

	try:
		if complete():
			existing = frappe.db.get_value("Company", {}, "name", order_by="creation asc")
			return f"already complete (company {existing})"
		from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

		year = now_datetime().year
		frappe.set_user("Administrator")
		frappe.local.lang = "en"
		result = setup_complete(
			{
				"language": "English",
				"country": country,
				"timezone": "Asia/Shanghai" if country == "China" else "UTC",
				"currency": currency,
				"full_name": "Administrator",
				"email": "admin@example.com",
				"company_name": company,
				"company_abbr": abbr,
				"chart_of_accounts": "Standard",
				"fy_start_date": f"{year}-01-01",
				"fy_end_date": f"{year}-12-31",
				"setup_demo": 0,
			}
		)
		frappe.db.commit()
		if not complete():
			raise SystemExit(f"setup wizard did not complete: {result}")
		return f"complete: company {company} ({currency}, {country}), fiscal year {year}"
	finally:
		frappe.destroy()


if __name__ == "__main__":
	args = sys.argv[1:]
	if not args:
		raise SystemExit(__doc__)
	defaults = ["Test Lender", "TL", "CNY", "China"]
	print(main(args[0], *(args[1:] + defaults[len(args) - 1 :])[:4]))
