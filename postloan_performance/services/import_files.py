"""Reading post-loan data files: paths and site file URLs, CSV (any of the usual encodings and separators)
and XLSX sheets, row counts, bilingual header aliases, date orders, Select defaults, and the lookups of
link values and stored names the bulk loader needs (one query per 5,000 values)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

import frappe
from frappe import _
from frappe.utils import escape_html

from postloan_performance.engine import row_rules
from postloan_performance.services import import_keys

LOOKUP_CHUNK_SIZE = 5_000  # values per IN (...) list
SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
# the site's setting (PL Post-Loan Settings) and a data import's option -> the engine's date order
DATE_ORDERS = {"Year-Month-Day": "ymd", "Day-Month-Year": "dmy", "Month-Day-Year": "mdy"}


# --- reading files -----------------------------------------------------------------------------------


def resolve_path(file_path_or_file_url: str) -> str:
	"""A local path for a file path or a site file URL (/files/…, /private/files/…)."""
	value = (file_path_or_file_url or "").strip()
	if value.startswith(("/files/", "/private/files/")):
		from frappe.utils.file_manager import get_file_path

		path = get_file_path(value)
	else:
		path = value
	path = os.path.abspath(path)
	if not os.path.isfile(path):
		frappe.throw(
			_("File {0} was not found.").format(escape_html(file_path_or_file_url)), frappe.DoesNotExistError
		)
	return path


def readable_file_path(file_url: str) -> str:
	"""The local path of a File the session user may read, found by its file_url."""
	names = frappe.get_all("File", filters={"file_url": file_url, "is_folder": 0}, pluck="name")
	if not names:
		frappe.throw(_("File {0} was not found.").format(escape_html(file_url)), frappe.DoesNotExistError)
	for name in names:
		file_doc = frappe.get_doc("File", name)
		if file_doc.has_permission("read"):
			return resolve_path(file_doc.get_full_path())
	frappe.throw(
		_("You are not allowed to read the file {0}.").format(escape_html(file_url)), frappe.PermissionError
	)


def read_table(path: str, sheet: str | None = None) -> pd.DataFrame:
	"""A CSV (UTF-8 with or without BOM, UTF-16, GB18030; comma, semicolon or tab separated) or one sheet of
	an XLSX (``sheet``, default the first) as strings, blank rows kept so that row numbers match the
	sheet. Headers are kept as written, repeated ones too (the engine reports them)."""
	name = os.path.basename(path)
	suffix = Path(path).suffix.lower()
	if suffix not in SUPPORTED_SUFFIXES:
		frappe.throw(_("Only CSV and XLSX files can be imported, not {0}.").format(escape_html(name)))
	options = {"dtype": str, "keep_default_na": False, "header": None}
	try:
		if suffix in EXCEL_SUFFIXES:
			sheets = sheet_names(path)
			if sheet and sheet not in sheets:
				frappe.throw(
					_("The workbook {0} has no sheet {1}; its sheets are: {2}").format(
						escape_html(name), escape_html(sheet), escape_html(", ".join(sheets))
					)
				)
			df = pd.read_excel(path, sheet_name=sheet or 0, engine="openpyxl", **options)
		else:
			encoding, separator = _csv_format(path)
			df = pd.read_csv(path, encoding=encoding, sep=separator, skip_blank_lines=False, **options)
	except pd.errors.EmptyDataError:
		frappe.throw(_("The file {0} is empty.").format(escape_html(name)))
	except UnicodeDecodeError:
		frappe.throw(
			_("The file {0} is neither UTF-8 nor GB18030 text; save it as CSV UTF-8 or XLSX.").format(
				escape_html(name)
			)
		)
	except (pd.errors.ParserError, ValueError, OSError, KeyError) as e:
		frappe.throw(_("The file {0} could not be read: {1}").format(escape_html(name), escape_html(str(e))))
	if df.empty:
		frappe.throw(_("The file {0} is empty.").format(escape_html(name)))
	headers = [str(h).strip() for h in df.iloc[0].tolist()]
	df = df.iloc[1:].reset_index(drop=True)
	df.columns = headers
	return df


def _csv_format(path: str) -> tuple[str, str]:
	"""The encoding (UTF-8 with BOM, UTF-16 with BOM, UTF-8, else GB18030) and the separator (the most
	frequent of , ; tab | in the header line) of a CSV file."""
	import codecs

	with open(path, "rb") as f:
		data = f.read()
	if data.startswith(codecs.BOM_UTF8):
		encoding = "utf-8-sig"
	elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
		encoding = "utf-16"
	else:
		try:
			data.decode("utf-8")
			encoding = "utf-8"
		except UnicodeDecodeError:
			data.decode("gb18030")  # raises UnicodeDecodeError for other encodings
			encoding = "gb18030"
	first_line = data.decode(encoding, errors="replace").lstrip("\ufeff").split("\n", 1)[0]
	counts = {sep: first_line.count(sep) for sep in (",", ";", "\t", "|")}
	separator = max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","
	return encoding, separator


def sheet_names(path: str) -> list[str]:
	"""The sheets of an XLSX workbook, in order."""
	from openpyxl import load_workbook

	workbook = load_workbook(path, read_only=True)
	try:
		return list(workbook.sheetnames)
	finally:
		workbook.close()


def count_data_rows(path: str, sheet: str | None = None, stop_after: int | None = None) -> int:
	"""Data rows of a file without parsing it (lines after the header; XLSX: the non-empty rows after the
	first, counted by streaming the sheet: its declared dimension is not trusted, a crafted file could
	declare one row and hold a million). With ``stop_after``, counting stops once it is exceeded."""
	if Path(path).suffix.lower() in EXCEL_SUFFIXES:
		from openpyxl import load_workbook

		workbook = load_workbook(path, read_only=True, data_only=True)
		try:
			worksheet = workbook[sheet] if sheet and sheet in workbook.sheetnames else workbook.worksheets[0]
			worksheet.reset_dimensions()  # stream every row, whatever the file declares
			rows = 0
			for values in worksheet.iter_rows(values_only=True):
				if any(v is not None and v != "" for v in values):
					rows += 1
					if stop_after is not None and rows - 1 > stop_after:
						break
			return max(rows - 1, 0)
		finally:
			workbook.close()
	lines, last = 0, b"\n"
	with open(path, "rb") as f:
		while block := f.read(1 << 20):
			lines += block.count(b"\n")
			last = block[-1:]
	if last != b"\n":
		lines += 1
	return max(lines - 1, 0)


def _zh_translations() -> dict[str, str]:
	"""The app's Chinese translations (its labels are all there): read from its CSV, a few ms, where the
	whole site's Chinese dictionary costs ~0.2 s to load in a new worker."""
	from frappe.translate import get_translations_from_csv

	return get_translations_from_csv("zh", "postloan_performance") or {}


def header_aliases(doctype: str) -> dict[str, str]:
	"""Headers accepted besides the fieldnames: field labels in English, in Chinese and in the user's
	language, and the labels of a linked record's number (a snapshot file's "Loan No" column)."""
	meta = frappe.get_meta(doctype)
	zh = _zh_translations()
	aliases = {}
	for column in row_rules.SPECS[doctype].columns:
		label = meta.get_label(column)
		for alias in (label, zh.get(label), _(label)):
			if alias:
				aliases.setdefault(alias, column)
	for key, column in row_rules.link_header_keys(doctype).items():
		label = frappe.get_meta(row_rules.SPECS[doctype].links[column]).get_label(key)
		for alias in (label, zh.get(label), _(label)):
			if alias:
				aliases.setdefault(alias, column)
	return aliases


def bilingual_headers(doctype: str) -> dict[str, str]:
	"""{fieldname: "English label / 中文标签"}: the template's headers, which the loader reads back."""
	meta = frappe.get_meta(doctype)
	zh = _zh_translations()
	headers = {}
	for column in row_rules.SPECS[doctype].columns:
		label = meta.get_label(column)
		chinese = zh.get(label)
		headers[column] = f"{label} / {chinese}" if chinese and chinese != label else label
	return headers


def site_date_order() -> str:
	"""The engine's date order from PL Post-Loan Settings (Year-Month-Day when unset)."""
	value = frappe.db.get_single_value("PL Post-Loan Settings", "import_date_order")
	return DATE_ORDERS.get(value or "", "ymd")


def date_order_of(value: str | None) -> str:
	"""A date order as given (the settings' spelling or the engine's code); blank: the site's setting."""
	if not value:
		return site_date_order()
	if value in DATE_ORDERS.values():
		return value
	if value in DATE_ORDERS:
		return DATE_ORDERS[value]
	frappe.throw(
		_("Unknown date order {0}; choose one of: {1}").format(
			escape_html(value), ", ".join(_(o) for o in DATE_ORDERS)
		)
	)


def select_defaults(doctype: str) -> dict[str, str]:
	"""Defaults of the Select fields, applied to blank cells as a new document would get them."""
	meta = frappe.get_meta(doctype)
	return {
		df.fieldname: df.default
		for df in meta.fields
		if df.fieldname in row_rules.SPECS[doctype].columns and df.fieldtype == "Select" and df.default
	}


def _chunks(values: Iterable, size: int):
	iterator = iter(values)
	while chunk := list(itertools.islice(iterator, size)):
		yield chunk


def _stored(doctype: str, column: str, values: Iterable[str], size: int = LOOKUP_CHUNK_SIZE) -> set[str]:
	"""The values of ``column`` that are stored in ``doctype`` (as stored), one query per ``size`` values."""
	found: set[str] = set()
	for chunk in _chunks(values, size):
		rows = frappe.db.sql(
			f"select `{column}` from `tab{doctype}` where `{column}` in %(values)s", {"values": tuple(chunk)}
		)
		found.update(r[0] for r in rows if r[0])
	return found


def existing_links(wanted: dict[str, set[str]]) -> dict[str, row_rules.LinkIndex]:
	"""The stored records among the wanted values of each link target DocType, by name or another key."""
	return import_keys.link_indexes(wanted)


def _present(doctype: str, chunk: pd.DataFrame) -> np.ndarray:
	"""Which rows of a chunk are already stored: by name, or (DocTypes with an external reference) by a
	record that carries the same reference under another name. Case-insensitive, like the database."""
	stored = {n.lower() for n in _stored(doctype, "name", chunk["name"].tolist(), size=len(chunk))}
	present = chunk["name"].str.lower().isin(stored).to_numpy(copy=True)  # written to below
	if row_rules.SPECS[doctype].naming == "reference":
		references = chunk["reference"].dropna()
		references = references[references != ""].unique().tolist()
		if references:
			known = {r.lower() for r in _stored(doctype, "reference", references, size=len(chunk))}
			present |= chunk["reference"].fillna("").str.lower().isin(known).to_numpy()
	return present
