#!/bin/sh
# bench/rerun_demo.sh: (issue 16.3) the bytes a rerun of an unchanged city-day adds, with the
# demo source's full city (457 outlets x 5 counters, both report formats): a full run into an
# empty store, then 2 reruns; du -s (a hard link counted once) against du -sl (every link
# counted, what the runs would take as copies), before and after each.
# Run from the repository root after: go build -o /tmp/settle-bench/settle ./cmd/settle
S=${S:-/tmp/settle-bench/settle}; ST=${ST:-/tmp/settle-bench/demo-store}; D=${D:-2026-12-03}
rm -rf $ST
/usr/bin/time -f "full wall %e s cpu %U+%S rss %M KB" $S run --date $D --source demo --store $ST --quiet --fail-on never
for i in 1 2; do
  echo "before rerun $i: du -sb $(du -sb $ST | cut -f1)  du -sbl $(du -sbl $ST | cut -f1)  du -sk $(du -sk $ST | cut -f1)  du -skl $(du -skl $ST | cut -f1)"
  /usr/bin/time -f "rerun wall %e s cpu %U+%S rss %M KB" $S run --date $D --source demo --store $ST --quiet --fail-on never
  echo "after rerun $i:  du -sb $(du -sb $ST | cut -f1)  du -sbl $(du -sbl $ST | cut -f1)  du -sk $(du -sk $ST | cut -f1)  du -skl $(du -skl $ST | cut -f1)"
done
R=$(readlink -f $ST/$D/current)
echo "files in the last rerun: $(find $R -type f | wc -l); with one link only: $(find $R -type f -links 1 | wc -l): $(find $R -type f -links 1 -printf '%P %s\n' | head -5)"
echo "directories in a run: $(find $R -type d | wc -l)"
echo "inputs: $(du -sb $ST/$D/inputs | cut -f1) bytes in $(ls $ST/$D/inputs | wc -l) files"
uptime
