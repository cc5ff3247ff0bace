#!/usr/bin/env bash
# bench/run.sh — the end-to-end figures of bench/README.md, reproduced.
#
#   bench/run.sh                 # city-day: (a) full run from demo, (b) reconcile only vs DuckDB
#   bench/run.sh province        # province-day (11 cities): (a) and (b)
#   bench/run.sh all             # both
#   RUNS=10 OUT=/tmp/b bench/run.sh
#
# Needs hyperfine (apt-get install hyperfine) and GNU time (/usr/bin/time); the DuckDB peer is
# built from bench/duckdb (its own module: go-duckdb is cgo, settle is not). Each case runs
# RUNS times (3 for the province) after one warm-up, each time into an empty store; hyperfine
# reports the median wall time, /usr/bin/time the peak RSS and CPU of separate runs.
# The HTTP pull (c) is bench/pull: go run ./bench/pull -runs 5 (see README.md, "Pull").
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-city}
RUNS=${RUNS:-5}
PRUNS=${PRUNS:-3}
OUT=${OUT:-/tmp/settle-bench}
DATE=${DATE:-2026-11-21}
mkdir -p "$OUT"
command -v hyperfine >/dev/null || { echo "run.sh: hyperfine not found (apt-get install hyperfine)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time not found (apt-get install time)" >&2; exit 2; }

echo "== build" >&2
go build -o "$OUT/settle" ./cmd/settle
(cd bench/duckdb && go build -o "$OUT/peer" .)
S=$OUT/settle
P=$OUT/peer

# data DIR CITIES: the canonical files of a day (once; bench/gen is deterministic).
data() {
	if [ ! -f "$1/TY/order.csv" ]; then
		echo "== generate $1 ($2 cities)" >&2
		go run ./bench/gen -out "$1" -cities "$2" -date "$DATE" >&2
	fi
}

# rss NAME RUNS CMD: peak RSS, wall and CPU of RUNS runs of CMD (store emptied before each);
# prints the medians as a table row.
rss() {
	local name=$1 runs=$2; shift 2
	local f=$OUT/$name.time
	: >"$f"
	for _ in $(seq "$runs"); do
		rm -rf "$OUT/store"
		/usr/bin/time -a -o "$f" -f '%e %U %S %M' "$@" >/dev/null
	done
	python3 - "$name" "$f" <<'EOF'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[2]) if l[:1].isdigit()]
med = lambda xs: statistics.median(xs)
print(f"| {sys.argv[1]} | {med([r[0] for r in rows]):.2f} s | {med([r[1] + r[2] for r in rows]):.2f} s"
      f" | {med([r[3] for r in rows]) / 1024:.0f} MB (max {max(r[3] for r in rows) / 1024:.0f}) | {len(rows)} |")
EOF
}

city() {
	data "$OUT/city" 1
	local rows
	rows=$(( $(cat "$OUT"/city/*/[a-s]*.csv | wc -l) - $(ls "$OUT"/city/*/[a-s]*.csv | wc -l) * 2 ))
	echo "== city-day: $rows data lines" >&2

	echo "== check: the peer's figures against settle's" >&2
	rm -rf "$OUT/store"
	"$S" run --date "$DATE" --source "$OUT/city" --store "$OUT/store" --quiet --formats '' >/dev/null
	"$P" -src "$OUT/city" -date "$DATE" -out "$OUT/peer-out" -check "$OUT/store/$DATE/current"

	echo "== (a) full run from demo, every XLSX and PDF" >&2
	hyperfine --warmup 1 --runs "$RUNS" --prepare "rm -rf $OUT/store" --export-json "$OUT/city-full.json" \
		-n 'settle full (demo)' "$S run --date $DATE --source demo --store $OUT/store --quiet"
	echo "== (b) reconcile only from the canonical files, settle and the DuckDB peer in one run" >&2
	hyperfine --warmup 1 --runs "$RUNS" --prepare "rm -rf $OUT/store $OUT/peer-out" --export-json "$OUT/city-reconcile.json" \
		-n 'settle --formats ""' "$S run --date $DATE --source $OUT/city --store $OUT/store --quiet --formats ''" \
		-n 'duckdb peer' "$P -src $OUT/city -date $DATE -out $OUT/peer-out"
	echo "| case | median wall | median CPU (user+sys) | median peak RSS | runs |"
	echo "|---|---:|---:|---:|---:|"
	rss city-full 3 "$S" run --date "$DATE" --source demo --store "$OUT/store" --quiet
	rss city-reconcile 3 "$S" run --date "$DATE" --source "$OUT/city" --store "$OUT/store" --quiet --formats ''
	rss city-peer 3 "$P" -src "$OUT/city" -date "$DATE" -out "$OUT/peer-out"
	summary "$OUT/city-reconcile.json" "$rows"
}

province() {
	data "$OUT/province" 11
	local rows
	rows=$(( $(cat "$OUT"/province/*/[a-s]*.csv | wc -l) - $(ls "$OUT"/province/*/[a-s]*.csv | wc -l) * 2 ))
	echo "== province-day: $rows data lines" >&2
	echo "== check: the peer's figures against settle's" >&2
	rm -rf "$OUT/store"
	"$S" run --date "$DATE" --source "$OUT/province" --store "$OUT/store" --quiet --formats '' >/dev/null
	"$P" -src "$OUT/province" -date "$DATE" -out "$OUT/peer-out" -check "$OUT/store/$DATE/current"
	echo "== (a) province full run, every XLSX and PDF" >&2
	echo "| case | median wall | median CPU (user+sys) | median peak RSS | runs |"
	echo "|---|---:|---:|---:|---:|"
	rss province-full "$PRUNS" "$S" run --date "$DATE" --source "$OUT/province" --store "$OUT/store" --quiet
	echo "== (b) province reconcile only, settle and the DuckDB peer in one run" >&2
	hyperfine --runs "$PRUNS" --prepare "rm -rf $OUT/store $OUT/peer-out" --export-json "$OUT/province-reconcile.json" \
		-n 'settle --formats ""' "$S run --date $DATE --source $OUT/province --store $OUT/store --quiet --formats ''" \
		-n 'duckdb peer' "$P -src $OUT/province -date $DATE -out $OUT/peer-out"
	rss province-reconcile "$PRUNS" "$S" run --date "$DATE" --source "$OUT/province" --store "$OUT/store" --quiet --formats ''
	rss province-peer "$PRUNS" "$P" -src "$OUT/province" -date "$DATE" -out "$OUT/peer-out"
	summary "$OUT/province-reconcile.json" "$rows"
}

# summary JSON ROWS: medians, rows/s and the ratio settle/DuckDB of a hyperfine export.
summary() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
rows = int(sys.argv[2])
for r in res:
    print(f"{r['command']}: median {r['median']:.2f} s ({min(r['times']):.2f}–{max(r['times']):.2f}), {rows / r['median']:,.0f} rows/s")
if len(res) == 2:
    print(f"ratio settle/duckdb (medians): {res[0]['median'] / res[1]['median']:.2f}")
EOF
}

case $what in
city) city ;;
province) province ;;
all) city; province ;;
*) echo "usage: bench/run.sh [city|province|all]" >&2; exit 2 ;;
esac
