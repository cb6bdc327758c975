// Copyright (c) 2026, Post-Loan Performance contributors
// For license information, please see license.txt

// The data loading wizard: 1 choose the data type (and download a template), 2 attach the file,
// 3 Check File (a dry run: counts and the first rows as they will be stored, or every problem),
// 4 Import. Stable hooks for browser tests: buttons .pl-import-template-xlsx, .pl-import-template-csv,
// .pl-import-check, .pl-import-start; panels .pl-import-counts, .pl-import-problems, .pl-import-preview,
// .pl-import-progress.

const PL_IMPORT_API = "postloan_performance.api.";
const PL_IMPORT_RUNNING = ["Queued", "Importing"];

frappe.ui.form.on("PL Data Import", {
	setup(frm) {
		frappe.realtime.on("pl_data_import_progress", (data) => {
			if (cur_frm && cur_frm.doc.doctype === "PL Data Import" && cur_frm.doc.name === data.data_import) {
				pl_import_show_progress(cur_frm, data);
			}
		});
	},

	refresh(frm) {
		if (PL_IMPORT_RUNNING.includes(frm.doc.status) || frm.doc.status === "Imported") {
			frm.disable_form(); // a history entry: what was loaded stays as it was
		}
		pl_import_buttons(frm);
		pl_import_intro(frm);
		if (frm.doc.import_type) {
			// the data type's labels head the preview's columns
			frappe.model.with_doctype(frm.doc.import_type, () => pl_import_render(frm));
		} else {
			pl_import_render(frm);
		}
		pl_import_sheets(frm);
		if (PL_IMPORT_RUNNING.includes(frm.doc.status)) {
			pl_import_poll(frm);
		}
	},

	import_type(frm) {
		pl_import_buttons(frm);
	},

	import_file(frm) {
		if (frm.doc.import_file && frm.doc.import_type) {
			frm.save();
		}
	},
});

function pl_import_buttons(frm) {
	frm.clear_custom_buttons();
	if (frm.doc.import_type) {
		const download = (file_format) => {
			const args = new URLSearchParams({
				doctype: frm.doc.import_type,
				file_format: file_format,
				date_order: frm.doc.date_order || "",
			});
			window.open(`/api/method/${PL_IMPORT_API}download_import_template?${args.toString()}`);
		};
		frm.add_custom_button(__("Excel (XLSX)"), () => download("xlsx"), __("Download Template")).addClass(
			"pl-import-template-xlsx",
		);
		frm.add_custom_button(__("CSV File"), () => download("csv"), __("Download Template")).addClass(
			"pl-import-template-csv",
		);
	}
	if (frm.is_new() || frm.is_dirty() || !frm.doc.import_file) {
		return;
	}
	if (["Draft", "Checked", "Refused", "Failed"].includes(frm.doc.status)) {
		const label = frm.doc.status === "Draft" ? __("Check File") : __("Check Again");
		const button = frm.add_custom_button(label, () => pl_import_call(frm, "check_data_import"));
		button.addClass("pl-import-check");
		if (frm.doc.status !== "Checked") {
			button.removeClass("btn-default").addClass("btn-primary");
		}
	}
	if (frm.doc.status === "Checked") {
		const label = __("Import {0} New Rows", [format_number(frm.doc.new_rows || 0, null, 0)]);
		frm.add_custom_button(label, () =>
			frappe.confirm(
				__("Load {0} new rows into {1}? Rows already present are left as they are.", [
					format_number(frm.doc.new_rows || 0, null, 0),
					__(frm.doc.import_type),
				]),
				() => pl_import_call(frm, "start_data_import"),
			),
		)
			.removeClass("btn-default")
			.addClass("btn-primary pl-import-start");
	}
}

function pl_import_call(frm, method) {
	return frappe
		.call({
			method: PL_IMPORT_API + method,
			args: { data_import: frm.doc.name },
			freeze: true,
			freeze_message: method === "check_data_import" ? __("Checking the file…") : __("Importing…"),
		})
		.then(() => frm.reload_doc());
}

function pl_import_intro(frm) {
	const steps = {
		Draft: frm.doc.import_file
			? __("Step 3: check the file. Nothing is written until you confirm the import.")
			: __("Step 1: choose the data type and download a template if you need one. Step 2: attach the file."),
		Checked: __("Step 4: the file has no problems. Look at the preview, then import."),
		Refused: __("The file has problems and nothing was written. Fix the rows listed (download the rejected rows), attach the corrected file and check again."),
		Queued: __("Waiting for a background worker…"),
		Importing: __("Importing in the background…"),
		Imported: __("Imported. The list of PL Data Import is the history of imports."),
		Failed: __("The import failed and nothing was written: {0}", [frm.doc.error_message || ""]),
	};
	const color = { Checked: "green", Imported: "green", Refused: "red", Failed: "red" }[frm.doc.status] || "blue";
	frm.set_intro(steps[frm.doc.status] || "", color);
}

function pl_import_render(frm) {
	const counts = [
		[__("Rows in the File"), frm.doc.total_rows],
		[__("New"), frm.doc.new_rows],
		[__("Already Present"), frm.doc.already_present],
		[__("Rejected Rows"), frm.doc.rejected_rows],
	];
	let problems_html = "";
	if (["Checked", "Refused", "Imported"].includes(frm.doc.status)) {
		problems_html += `<div class="pl-import-counts row" style="margin-bottom: var(--margin-md)">${counts
			.map(
				([label, value]) =>
					`<div class="col-sm-3"><div class="text-muted small">${frappe.utils.escape_html(label)}</div>` +
					`<div class="h4" data-count="${frappe.utils.escape_html(label)}">${format_number(value || 0, null, 0)}</div></div>`,
			)
			.join("")}</div>`;
	}
	if (frm.doc.status === "Imported") {
		problems_html += `<p class="text-muted pl-import-done">${__("{0} rows inserted by {1} on {2} in {3} s.", [
			format_number(frm.doc.inserted_rows || 0, null, 0),
			frappe.utils.escape_html(frm.doc.imported_by || ""),
			frappe.datetime.str_to_user(frm.doc.finished_on),
			frm.doc.seconds || 0,
		])}</p>`;
	}
	const problems = pl_import_json(frm.doc.problems);
	if (problems && frm.doc.status === "Refused") {
		const list = (lines) => lines.map((line) => `<li>${frappe.utils.escape_html(line)}</li>`).join("");
		problems_html += `<div class="pl-import-problems">
			<p class="text-danger"><b>${frappe.utils.escape_html(problems.headline || "")}</b></p>
			<p class="text-muted">${__("By column")}</p><ul class="pl-import-summary">${list(problems.summary || [])}</ul>
			<p class="text-muted">${__("By row (the first {0}; the rejected rows file has them all)", [(problems.lines || []).length])}</p>
			<ul class="pl-import-lines">${list(problems.lines || [])}</ul>
			${frm.doc.rejected_file ? `<a class="btn btn-default btn-sm pl-import-rejected" href="${encodeURI(frm.doc.rejected_file)}" target="_blank">${__("Download the Rejected Rows (CSV)")}</a>` : ""}
		</div>`;
	}
	if (!problems && frm.doc.error_message && ["Refused", "Failed"].includes(frm.doc.status)) {
		problems_html += `<p class="text-danger pl-import-error">${frappe.utils.escape_html(frm.doc.error_message)}</p>`;
	}
	frm.get_field("problems_html").$wrapper.html(problems_html);

	const rows = pl_import_json(frm.doc.preview) || [];
	let preview_html = "";
	if (rows.length && frm.doc.status === "Checked") {
		const columns = Object.keys(rows[0]).filter((c) => !c.startsWith("_"));
		const label = (c) => (c === "name" ? __("ID") : __(frappe.meta.get_label(frm.doc.import_type, c) || c));
		const cell = (v) => frappe.utils.escape_html(v === null || v === undefined ? "" : String(v));
		preview_html = `<div class="pl-import-preview" style="overflow-x: auto">
			<p class="text-muted">${__("The first {0} rows as they will be stored: links as the linked records' IDs, dates as YYYY-MM-DD.", [rows.length])}</p>
			<table class="table table-bordered table-sm small" style="white-space: nowrap"><thead><tr><th>${__("Row")}</th><th></th>${columns
				.map((c) => `<th>${frappe.utils.escape_html(label(c))}</th>`)
				.join("")}</tr></thead><tbody>${rows
				.map(
					(r) =>
						`<tr><td>${r._row}</td><td>${r._new ? `<span class="indicator-pill green">${__("New")}</span>` : `<span class="indicator-pill gray">${__("Already Present")}</span>`}</td>${columns
							.map((c) => `<td>${cell(r[c])}</td>`)
							.join("")}</tr>`,
				)
				.join("")}</tbody></table></div>`;
	}
	frm.get_field("preview_html").$wrapper.html(preview_html);
}

function pl_import_json(value) {
	if (!value) return null;
	try {
		return JSON.parse(value);
	} catch (e) {
		return null;
	}
}

function pl_import_sheets(frm) {
	if (frm.is_new() || !/\.xls[xm]$/i.test(frm.doc.import_file || "")) return;
	frappe
		.call({ method: PL_IMPORT_API + "data_import_sheets", args: { data_import: frm.doc.name } })
		.then((r) => frm.set_df_property("sheet", "options", r.message || []));
}

function pl_import_show_progress(frm, data) {
	if (!data || !data.total) return;
	const title = data.step === "check" ? __("Checking") : __("Importing");
	frm.dashboard.show_progress(title, data.percent, __("{0} of {1} rows", [data.done, data.total]));
	frm.dashboard.progress_area.addClass("pl-import-progress");
}

function pl_import_poll(frm) {
	if (frm._pl_import_polling) return;
	frm._pl_import_polling = true;
	const tick = () =>
		frappe
			.call({ method: PL_IMPORT_API + "data_import_status", args: { data_import: frm.doc.name } })
			.then((r) => {
				const status = r.message || {};
				pl_import_show_progress(frm, status.progress);
				if (PL_IMPORT_RUNNING.includes(status.status) && frm.doc.name === status.name) {
					setTimeout(tick, 2000);
				} else {
					frm._pl_import_polling = false;
					frm.reload_doc();
				}
			});
	tick();
}
