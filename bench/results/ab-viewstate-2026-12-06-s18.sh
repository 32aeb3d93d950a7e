#!/bin/bash
# Session 18 (2026-12-06 20:06 UTC): what the three views of the views
# suite cost when their state costs nothing to store. An upper bound for
# an in-memory view-state design, not a product mode: the build under
# test (BIN) carries this patch to log/hookcommit.go, which drops every
# hook mutation (view state) from the commit batch while /tmp/dropview
# exists; the state cache still serves the views' hot state, so the
# maintenance runs as usual but nothing of it is written:
#
#   muts, err = ih.PrepareIntent(hi)
#   if dropViewState.Load() {           // polled every 500 ms from /tmp/dropview
#       kept := muts[:0]
#       for _, m := range muts {
#           if len(m.Key) > 0 && m.Key[0] >= NSHookFirst && m.Key[0] <= NSHookLast && m.End == nil {
#               continue
#           }
#           kept = append(kept, m)
#       }
#       muts = kept
#   }
#
# Output (3 rounds, 10 s of 32 clients each, one fresh server, CPU from /proc):
#   plain tps=37615 cpu_us=31.3   views tps=26576 cpu_us=49.9   viewsNoState tps=31326 cpu_us=41.0
#   plain tps=38095 cpu_us=32.5   views tps=26390 cpu_us=51.6   viewsNoState tps=30643 cpu_us=42.9
#   plain tps=37923 cpu_us=32.7   views tps=26302 cpu_us=51.4   viewsNoState tps=30212 cpu_us=43.4
# usage: ab-viewstate-2026-12-06-s18.sh BIN [rounds]   (run from the repo root)
BIN=$1; R=${2:-3}
rm -rf /tmp/dbgdata /tmp/dropview && mkdir -p /tmp/dbgdata
$BIN serve --data-dir /tmp/dbgdata/d --warehouse /tmp/dbgdata/w --pg-addr 127.0.0.1:5499 --http-addr 127.0.0.1:8199 --compact-every 0 > /tmp/dbgdata/log 2>&1 &
PID=$!
sleep 2
D="postgres://strand@127.0.0.1:5499/strand?sslmode=disable"
psql "$D" -q -f bench/scripts/views_common.sql && psql "$D" -q -f bench/scripts/views_strand.sql
cpu() { awk '{print $14+$15}' /proc/$PID/stat; }
run() { # name script drop
  [ "$3" = 1 ] && touch /tmp/dropview || rm -f /tmp/dropview; sleep 1.2
  c0=$(cpu); tps=$(pgbench -n -M prepared -c 32 -j 2 -T 10 -f bench/scripts/$2.sql "$D" 2>/dev/null | grep -oP 'tps = \K[0-9.]+'); c1=$(cpu)
  echo "$1 tps=$tps cpu_us=$(python3 -c "print(round(($c1-$c0)*10000/($tps*10),1))")"
}
for i in $(seq $R); do run plain ev0_insert 0; run views ev_insert 0; run viewsNoState ev_insert 1; done
rm -f /tmp/dropview
kill $PID; wait $PID 2>/dev/null
