#!/bin/bash
# A/B: old and new strand binaries side by side, pgbench alternating.
set -e
D=/tmp/ab3/run; rm -rf $D; mkdir -p $D
/tmp/ab3/strand-old serve --data-dir $D/old --pg-addr 127.0.0.1:15501 --http-addr 127.0.0.1:15511 --log-level warn > $D/old.log 2>&1 &
OLD=$!
/tmp/ab3/strand-new serve --data-dir $D/new --pg-addr 127.0.0.1:15502 --http-addr 127.0.0.1:15512 --log-level warn > $D/new.log 2>&1 &
NEW=$!
trap "kill $OLD $NEW" EXIT
for p in 15501 15502; do for i in $(seq 50); do psql -X -h 127.0.0.1 -p $p -U postgres -d postgres -c 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done; done
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
for round in $(seq ${ROUNDS:-3}); do
 for cfg in "prepared 32" "simple 32" "prepared 1"; do
  set -- $cfg
  for side in ${ORDER:-old new}; do
   if [ $side = old ]; then port=15501; pid=$OLD; else port=15502; pid=$NEW; fi
   c0=$(cpu $pid)
   tps=$(pgbench -h 127.0.0.1 -p $port -U postgres -n -M $1 -c $2 -j $(( $2<2 ? $2 : 2 )) -T ${DUR:-5} -f /work/main/bench/scripts/select1.sql postgres 2>/dev/null | awk '/^tps/{print int($3)}')
   c1=$(cpu $pid)
   tx=$(( tps * ${DUR:-5} ))
   echo "$round $1 c=$2 $side tps=$tps server_cpu_us_per_tx=$(echo "($c1-$c0)*10000/$tx" | bc -l | cut -c1-6)"
  done
 done
done
