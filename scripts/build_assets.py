"""Build a bench's desk JS/CSS, as `bench build --force` does, minus the apps' own build scripts.

Run from a bench's ``sites`` folder with the bench's Python:

    ../env/bin/python /path/to/scripts/build_assets.py

`bench build` also runs `yarn build` in every app whose package.json has a build script; HRMS's
builds its separate mobile front end (a git submodule that source archives do not carry), which the
desk does not use. This runs Frappe's esbuild for every app's desk bundles, links the apps' public
folders under sites/assets and compiles the translations, which is what the desk needs.
"""

import os
import subprocess


def main() -> None:
	import frappe
	from frappe.build import get_node_env, make_asset_dirs, setup
	from frappe.gettext.translate import compile_translations

	frappe.init("", sites_path=".")
	setup()
	make_asset_dirs()
	env = {**os.environ, **get_node_env(), "CI": "1"}
	subprocess.run(
		["yarn", "run", "production"], cwd=frappe.get_app_source_path("frappe"), env=env, check=True
	)
	for app in frappe.get_all_apps():
		compile_translations(app, force=True)
	frappe.destroy()


if __name__ == "__main__":
	main()
