#!/usr/bin/env bash
# bench/rerun.sh: (issue 17) full run of the city-day into an empty store, then 5 reruns; wall, added bytes.
# Run from the repository root after: go build -o /tmp/settle-bench/settle ./cmd/settle
set -u
S=${S:-/tmp/settle-bench/settle}; D=${D:-/tmp/settle-bench/city}; ST=${ST:-/tmp/settle-bench/rerun-store}
[ -f $D/TY/order.csv ] || go run ./bench/gen -out $D -date 2026-11-21 >&2
rm -rf $ST
/usr/bin/time -f "full wall %e s cpu %U+%S rss %M KB" $S run --date 2026-11-21 --source $D --store $ST --quiet --fail-on never
full=$(du -sb $ST | cut -f1); echo "full bytes $full"
for i in 1 2 3 4 5; do
  before=$(du -sb $ST | cut -f1)
  /usr/bin/time -f "rerun wall %e s cpu %U+%S rss %M KB" $S run --date 2026-11-21 --source $D --store $ST --quiet --fail-on never
  after=$(du -sb $ST | cut -f1); echo "rerun added $((after-before)) bytes ($(( (after-before)*10000/full )) / 10000 of full)"
done
uptime
