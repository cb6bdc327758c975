"""Bench commands of the app: ``bench --site S postloan-import DOCTYPE FILE [--dry-run]``."""

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
@pass_context
def postloan_import(context, doctype, file_path, dry_run=False, errors_csv=None):
	"""Bulk-load a CSV/XLSX file into a post-loan data DocType (e.g. "PL Loan Snapshot").

	Every row is validated first; if any row is bad, the problems are printed and nothing is written.
	Rows already loaded are left as they are, so the same file can be loaded again safely.
	"""
	import frappe

	from postloan_performance.services.postloan_data import PostLoanImportError, format_errors, import_file

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
			result = import_file(doctype, path, dry_run=dry_run, publish_progress=False, on_progress=progress)
		except PostLoanImportError as e:
			frappe.db.rollback()
			click.secho(frappe.utils.strip_html(str(e).split("<br>")[0]), fg="red", err=True)
			for line in format_errors(doctype, e.errors, limit=ERROR_LINES_PRINTED):
				click.echo(line, err=True)
			if errors_csv:
				_write_errors(errors_csv, e.errors)
				click.echo(f"{len(e.errors)} problems written to {errors_csv}", err=True)
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
