"""Bench commands of the app: ``bench --site S postloan-import DOCTYPE FILE [--dry-run] [--rejected-csv OUT]``."""

import os
import sys
import time

import click

from frappe.commands import get_site, pass_context

ERROR_LINES_PRINTED = 1_000


def _locate(file_path: str) -> str:
	"""The file as given, or relative to the directory bench was started from (bench runs in sites/)."""
	if os.path.isabs(file_path) or os.path.exists(file_path):
		return os.path.abspath(file_path)
	origin = os.environ.get("PWD")
	if origin and os.path.exists(os.path.join(origin, file_path)):
		return os.path.join(origin, file_path)
	return os.path.abspath(file_path)


@click.command("postloan-import")
@click.argument("doctype")
@click.argument("file_path")
@click.option("--dry-run", is_flag=True, default=False, help="Validate and count, write nothing")
@click.option("--errors-csv", default=None, help="Also write every problem to this CSV file")
@click.option(
	"--rejected-csv",
	default=None,
	help="Also write the rejected rows as read, with their problems, to this CSV",
)
@click.option(
	"--date-order",
	default=None,
	type=click.Choice(["Year-Month-Day", "Day-Month-Year", "Month-Day-Year"]),
	help="How dates with the year last are read (default: PL Post-Loan Settings)",
)
@click.option("--sheet", default=None, help="The sheet of a workbook to load (default: the first)")
@pass_context
def postloan_import(
	context,
	doctype,
	file_path,
	dry_run=False,
	errors_csv=None,
	rejected_csv=None,
	date_order=None,
	sheet=None,
):
	"""Bulk-load a CSV/XLSX file into a post-loan data DocType (e.g. "PL Loan Snapshot").

	Every row is validated first; if any row is bad, the problems are printed and nothing is written.
	Rows already loaded are left as they are, so the same file can be loaded again safely.
	"""
	import frappe

	from postloan_performance.services.import_messages import (
		rejected_csv as rejected_rows_csv,
	)
	from postloan_performance.services.post_loan_data import (
		PostLoanImportError,
		format_errors,
		import_file,
	)

	site = get_site(context)
	path = _locate(file_path)
	frappe.init(site=site)
	frappe.connect()
	exit_code = 0
	try:
		started = time.monotonic()

		def progress(done, total):
			click.echo(f"\r{done:,} / {total:,} rows", nl=False)

		try:
			result = import_file(
				doctype,
				path,
				dry_run=dry_run,
				publish_progress=False,
				on_progress=progress,
				date_order=date_order,
				sheet=sheet,
			)
		except PostLoanImportError as e:
			frappe.db.rollback()
			click.secho(frappe.utils.strip_html(str(e).split("<br>")[0]), fg="red", err=True)
			for line in format_errors(doctype, e.errors, limit=ERROR_LINES_PRINTED):
				click.echo(line, err=True)
			if errors_csv:
				_write_errors(errors_csv, e.errors)
				click.echo(f"{len(e.errors)} problems written to {errors_csv}", err=True)
			if rejected_csv:
				with open(rejected_csv, "wb") as f:
					f.write(rejected_rows_csv(e.checked))
				click.echo(f"{e.checked.rejected_rows} rejected rows written to {rejected_csv}", err=True)
			exit_code = 1
		except Exception as e:
			frappe.db.rollback()
			message = frappe.utils.strip_html(str(e)) or type(e).__name__
			click.secho(message, fg="red", err=True)
			exit_code = 1
		else:
			if dry_run:
				frappe.db.rollback()
			else:
				frappe.db.commit()
			seconds = time.monotonic() - started
			click.echo("")
			rate = result["rows"] / seconds if seconds else 0
			summary = ", ".join(f"{key}: {value}" for key, value in result.items())
			click.secho(f"{summary} ({seconds:.1f} s, {rate:,.0f} rows/s)", fg="green")
	finally:
		frappe.destroy()
	if exit_code:
		sys.exit(exit_code)


def _write_errors(path: str, errors: list[dict]):
	import csv
	import json

	with open(path, "w", encoding="utf-8-sig", newline="") as f:
		writer = csv.writer(f)
		writer.writerow(["row", "column", "value", "code", "detail"])
		for e in errors:
			writer.writerow([e["row"], e["column"], e["value"], e["code"], json.dumps(e.get("detail") or {})])


commands = [postloan_import]


@click.command("postloan-demo")
@click.option("--seed", default=2026, type=int, show_default=True, help="Same seed, same demo")
@click.option("--loans", "n_loans", default=3000, type=int, show_default=True, help="Number of loans")
@click.option("--months", default=12, type=int, show_default=True, help="Months of snapshots (at least 12)")
@click.option("--password", default=None, help="Password of the demo users (default: a new random one)")
@click.option("--remove", is_flag=True, default=False, help="Remove the demo instead")
@click.option("--if-missing", is_flag=True, default=False, help="Do nothing when the demo is already loaded")
@pass_context
def postloan_demo(context, seed=2026, n_loans=3000, months=12, password=None, remove=False, if_missing=False):
	"""Create (or --remove) a realistic demo: company "PL Demo Lender", teams in four layers, a year of
	post-loan data, a trial cycle, two formal cycles and one in progress, demo users of each role."""
	import frappe

	from postloan_performance.services import demo

	site = get_site(context)
	frappe.init(site=site)
	frappe.connect()
	exit_code = 0
	try:
		frappe.set_user("Administrator")
		started = time.monotonic()
		if if_missing and not remove and demo.demo_exists():
			click.echo(f"The demo is already loaded on {site} (company {demo.DEMO_COMPANY}): nothing to do.")
			return
		try:
			if remove:
				result = demo.remove_demo()
			else:

				def progress(done, total, description):
					click.echo(f"[{done:>2}/{total}] {description}")

				result = demo.make_demo(
					seed=seed, n_loans=n_loans, months=months, password=password, on_progress=progress
				)
		except Exception as e:
			frappe.db.rollback()
			click.secho(frappe.utils.strip_html(str(e)) or type(e).__name__, fg="red", err=True)
			exit_code = 1
		else:
			frappe.db.commit()
			seconds = time.monotonic() - started
			if remove:
				removed = ", ".join(f"{k}: {v}" for k, v in result["removed"].items() if v)
				click.secho(f"Demo removed ({seconds:.1f} s). {removed or 'Nothing to remove.'}", fg="green")
				if not result["company_removed"] and frappe.db.exists("Company", demo.DEMO_COMPANY):
					click.echo(f"Company {demo.DEMO_COMPANY} was kept: other records still use it.")
			else:
				_print_demo(result, seconds, site, password_given=bool(password))
	finally:
		frappe.destroy()
	if exit_code:
		sys.exit(exit_code)


def _print_demo(result: dict, seconds: float, site: str, password_given: bool = False):
	click.secho(
		f"Demo ready in {seconds:.1f} s (seed {result['seed']}, checksum {result['checksum'][:12]})",
		fg="green",
	)
	click.echo("Review cycles: " + ", ".join(f"{c['cycle']} ({c['status']})" for c in result["cycles"]))
	click.echo("Records: " + ", ".join(f"{k}: {v:,}" for k, v in result["counts"].items()))
	click.echo("")
	# a password given with --password is never echoed; a generated one is shown once, here only
	shown = "as given with --password" if password_given else result["password"]
	click.echo(f"Users (password: {shown}):")
	for row in result["users"]:
		click.echo(f"  {row['user']:<34} {row['role']}")
	click.echo("")
	click.echo(f"Open /app/post-loan-performance on {site} and log in as {result['users'][0]['user']}.")


commands.append(postloan_demo)


@click.command("postloan-unique-keys")
@click.option("--dry-run", is_flag=True, default=False, help="Report the duplicates, change nothing")
@pass_context
def postloan_unique_keys(context, dry_run=False):
	"""Add the unique keys of the app's records (one appraisal per person and cycle, one open case per
	loan, …): existing duplicates are merged when the extra ones are empty, otherwise refused and listed."""
	import frappe

	from postloan_performance.services.constraints import apply_unique_keys, summary_lines

	site = get_site(context)
	frappe.init(site=site)
	frappe.connect()
	try:
		result = apply_unique_keys(dry_run=dry_run)
		click.echo("\n".join(summary_lines(result)))
	finally:
		frappe.destroy()
	if result["refused"]:
		sys.exit(1)


commands.append(postloan_unique_keys)
