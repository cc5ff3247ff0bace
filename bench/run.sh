#!/usr/bin/env bash
# bench/run.sh — the end-to-end figures of bench/README.md, reproduced.
#
#   bench/run.sh                 # city-day: (a) full run from demo, (b) reconcile only vs DuckDB
#   bench/run.sh province        # province-day (11 cities): (a) and (b)
#   bench/run.sh all             # both
#   RUNS=10 OUT=/tmp/b bench/run.sh
#
# Needs hyperfine (apt-get install hyperfine) and GNU time (/usr/bin/time); the DuckDB peer is
# built from bench/duckdb (its own module: duckdb-go is cgo, settle is not). Each city case
# runs RUNS times after one warm-up under hyperfine (the median wall time), and RUNS times
# more under /usr/bin/time (peak RSS and CPU); the province cases run PRUNS times (3) under
# /usr/bin/time only. Every run starts from an empty store.
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
		rm -rf "$OUT/store" "$OUT/peer-out"
		/usr/bin/time -a -o "$f" -f '%e %U %S %M' "$@" >/dev/null
	done
	row "$name" "$f"
}

# pair RUNS ROWS -- settle command -- peer command: the two commands alternately, RUNS times
# each (so that both see the same neighbours), then their medians, rows/s and the ratio.
pair() {
	local runs=$1 rows=$2; shift 3
	local a=() b=() cur=a
	for x in "$@"; do
		if [ "$x" = -- ]; then cur=b; continue; fi
		if [ $cur = a ]; then a+=("$x"); else b+=("$x"); fi
	done
	: >"$OUT/pair-settle.time"
	: >"$OUT/pair-peer.time"
	for _ in $(seq "$runs"); do
		rm -rf "$OUT/store" "$OUT/peer-out"
		/usr/bin/time -a -o "$OUT/pair-settle.time" -f '%e %U %S %M' "${a[@]}" >/dev/null
		rm -rf "$OUT/store" "$OUT/peer-out"
		/usr/bin/time -a -o "$OUT/pair-peer.time" -f '%e %U %S %M' "${b[@]}" >/dev/null
	done
	row "settle (interleaved)" "$OUT/pair-settle.time" "$rows"
	row "duckdb peer (interleaved)" "$OUT/pair-peer.time" "$rows"
	python3 - "$OUT/pair-settle.time" "$OUT/pair-peer.time" <<'EOF'
import statistics, sys
med = lambda f: statistics.median(float(l.split()[0]) for l in open(f) if l[:1].isdigit())
print(f"\nratio settle/duckdb (median walls, interleaved): {med(sys.argv[1]) / med(sys.argv[2]):.2f}")
EOF
}

# row NAME FILE [ROWS]: a table row of the medians of a /usr/bin/time file.
row() {
	python3 - "$1" "$2" "${3:-0}" <<'EOF'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[2]) if l[:1].isdigit()]
med = lambda xs: statistics.median(xs)
wall = med([r[0] for r in rows])
rate = f" | {int(sys.argv[3]) / wall:,.0f}" if int(sys.argv[3]) else " | "
print(f"| {sys.argv[1]} | {wall:.2f} s ({min(r[0] for r in rows):.2f}–{max(r[0] for r in rows):.2f})"
      f" | {med([r[1] + r[2] for r in rows]):.2f} s | {med([r[3] for r in rows]) / 1024:.0f} MB{rate} | {len(rows)} |")
EOF
}

city() {
	data "$OUT/city" 1
	local rows
	rows=$(( $(cat "$OUT"/city/*/[a-s]*.csv | wc -l) - $(ls "$OUT"/city/*/[a-s]*.csv | wc -l) * 2 ))
	echo "== city-day: $rows data lines" >&2

	echo "== check: the peer's figures against settle's" >&2
	rm -rf "$OUT/store"
	"$S" run --date "$DATE" --source "$OUT/city" --store "$OUT/store" --quiet --formats '' --lang en >/dev/null # the peer writes English details
	"$P" -src "$OUT/city" -date "$DATE" -out "$OUT/peer-out" -check "$OUT/store/$DATE/current"

	echo "== (a) full run from demo, every XLSX and PDF" >&2
	hyperfine --warmup 1 --runs "$RUNS" --prepare "rm -rf $OUT/store" --export-json "$OUT/city-full.json" \
		-n 'settle full (demo)' "$S run --date $DATE --source demo --store $OUT/store --quiet"
	echo "== (b) reconcile only from the canonical files, settle and the DuckDB peer in one run" >&2
	hyperfine --warmup 1 --runs "$RUNS" --prepare "rm -rf $OUT/store $OUT/peer-out" --export-json "$OUT/city-reconcile.json" \
		-n 'settle --formats ""' "$S run --date $DATE --source $OUT/city --store $OUT/store --quiet --formats ''" \
		-n 'duckdb peer' "$P -src $OUT/city -date $DATE -out $OUT/peer-out"
	summary "$OUT/city-full.json" "$rows"
	summary "$OUT/city-reconcile.json" "$rows"
	echo
	echo "| city-day | median wall (min–max) | median CPU (user+sys) | median peak RSS | rows/s | runs |"
	echo "|---|---:|---:|---:|---:|---:|"
	rss "full run (demo)" "$RUNS" "$S" run --date "$DATE" --source demo --store "$OUT/store" --quiet
	pair $((RUNS * 2)) "$rows" -- "$S" run --date "$DATE" --source "$OUT/city" --store "$OUT/store" --quiet --formats '' \
		-- "$P" -src "$OUT/city" -date "$DATE" -out "$OUT/peer-out"
}

province() {
	data "$OUT/province" 11
	local rows
	rows=$(( $(cat "$OUT"/province/*/[a-s]*.csv | wc -l) - $(ls "$OUT"/province/*/[a-s]*.csv | wc -l) * 2 ))
	echo "== province-day: $rows data lines" >&2
	echo "== check: the peer's figures against settle's" >&2
	rm -rf "$OUT/store"
	"$S" run --date "$DATE" --source "$OUT/province" --store "$OUT/store" --quiet --formats '' --lang en >/dev/null # the peer writes English details
	"$P" -src "$OUT/province" -date "$DATE" -out "$OUT/peer-out" -check "$OUT/store/$DATE/current"
	echo "== (a) province full run, every XLSX and PDF; (b) reconcile only, settle and the peer interleaved" >&2
	echo "| province-day | median wall (min–max) | median CPU (user+sys) | median peak RSS | rows/s | runs |"
	echo "|---|---:|---:|---:|---:|---:|"
	rss "full run" "$PRUNS" "$S" run --date "$DATE" --source "$OUT/province" --store "$OUT/store" --quiet
	pair "$PRUNS" "$rows" -- "$S" run --date "$DATE" --source "$OUT/province" --store "$OUT/store" --quiet --formats '' \
		-- "$P" -src "$OUT/province" -date "$DATE" -out "$OUT/peer-out"
}

# summary JSON ROWS: medians, rows/s and the ratio settle/DuckDB of a hyperfine export.
summary() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
rows = int(sys.argv[2])
for r in res:
    print(f"hyperfine, {r['command']}: median {r['median']:.2f} s ({min(r['times']):.2f}–{max(r['times']):.2f}), {rows / r['median']:,.0f} rows/s")
if len(res) == 2:
    print(f"hyperfine, ratio settle/duckdb (medians): {res[0]['median'] / res[1]['median']:.2f}")
EOF
}

case $what in
city) city ;;
province) province ;;
all) city; province ;;
*) echo "usage: bench/run.sh [city|province|all]" >&2; exit 2 ;;
esac
