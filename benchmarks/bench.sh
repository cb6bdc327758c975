#!/usr/bin/env bash
# The performance benchmark in one command (not part of .ci/run):
#
#   benchmarks/bench.sh [generate.py options] [-- run.py options]
#
#   benchmarks/bench.sh                                   # full size: 200,000 loans, 2,000 employees
#   benchmarks/bench.sh --loans 5000 --employees 200 --teams 20 -- --sample 10   # a small run
#
# Creates the benchmark site if it is missing (ERPNext + this app), migrates it to this checkout's code,
# loads the data once (generate.py: fixed seed, sizes as options; skipped when already loaded) and runs
# the benchmark (run.py), which prints the table and writes JSON to benchmarks/out/.
#
#   FRAPPE_BENCH       bench directory (default ~/frappe-bench)
#   PLP_BENCH_SITE     the benchmark's own site (default plp-bench.localhost): it holds millions of rows
#   PLP_DB_ROOT_USER / PLP_DB_ROOT_PASSWORD   MariaDB account allowed to create sites (plp_root / plp_root)
#   PLP_BENCH_MIGRATE  0 to skip `migrate` on an existing site
#   PLP_BENCH_TUNE     1 to set benchmarks/mariadb-bench.cnf on the running server first (SET GLOBAL, as
#                      the DB root account; until the server restarts): only on the benchmark's own server
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="${FRAPPE_BENCH:-$HOME/frappe-bench}"
SITE="${PLP_BENCH_SITE:-plp-bench.localhost}"
DB_USER="${PLP_DB_ROOT_USER:-plp_root}"
DB_PASS="${PLP_DB_ROOT_PASSWORD:-plp_root}"
BPY="$BENCH/env/bin/python"

generate_args=()
run_args=()
target=generate
for arg in "$@"; do
	if [ "$arg" = "--" ] && [ "$target" = generate ]; then
		target=run
	elif [ "$target" = generate ]; then
		generate_args+=("$arg")
	else
		run_args+=("$arg")
	fi
done

say() { printf '\n=== %s\n' "$*"; }
[ -x "$BPY" ] || { echo "no Frappe bench at $BENCH (set FRAPPE_BENCH)"; exit 2; }
grep -qx postloan_performance "$BENCH/sites/apps.txt" || {
	echo "postloan_performance is not an app of the bench at $BENCH (bench get-app it first)"
	exit 2
}
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
frappe_cli() { (cd "$BENCH/sites" && "$BPY" -m frappe.utils.bench_helper frappe "$@"); }

if [ ! -f "$BENCH/sites/$SITE/site_config.json" ]; then
	say "creating the benchmark site $SITE"
	frappe_cli new-site "$SITE" --db-root-username "$DB_USER" --db-root-password "$DB_PASS" \
		--admin-password admin --no-mariadb-socket --install-app erpnext
	frappe_cli --site "$SITE" install-app postloan_performance
elif [ "${PLP_BENCH_MIGRATE:-1}" != 0 ]; then
	say "migrating $SITE to this checkout"
	frappe_cli --site "$SITE" migrate --skip-search-index
fi

db_root() { mysql -h "${PLP_DB_HOST:-127.0.0.1}" -u "$DB_USER" -p"$DB_PASS" -N "$@"; }
if [ "${PLP_BENCH_TUNE:-0}" = 1 ]; then
	say "applying benchmarks/mariadb-bench.cnf to this server (SET GLOBAL; PLP_BENCH_TUNE=1)"
	while read -r name value; do
		case "$value" in
			*G) value=$((${value%G} * 1024 * 1024 * 1024)) ;;
			*M) value=$((${value%M} * 1024 * 1024)) ;;
		esac
		db_root -e "SET GLOBAL $name = $value"
		echo "  $name = $(db_root -e "SELECT @@GLOBAL.$name")"
	done < <(sed -n 's/^\([a-z_]*\) *= *\([^ #]*\).*/\1 \2/p' "$REPO/benchmarks/mariadb-bench.cnf")
fi

say "loading the benchmark data (once)"
(cd "$BENCH/sites" && "$BPY" "$REPO/benchmarks/generate.py" --site "$SITE" "${generate_args[@]}")

say "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "running the benchmark"
(cd "$BENCH/sites" && "$BPY" "$REPO/benchmarks/run.py" --site "$SITE" "${run_args[@]}")
