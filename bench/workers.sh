#!/usr/bin/env bash
# By hand (npm run bench:workers): --workers 1 against --workers 2, nothing pinned, dnsperf with
# two threads, alternating three times (the machine drifts): queries/s at saturation and the
# servers' CPU time per answered query (primary and workers, from /proc), at saturation and at
# a fixed moderate rate. On a two-CPU machine dnsperf needs a CPU too, so two workers cannot
# show scaling here (nor double the rate): see the README. What it can show is what a worker
# costs per query, and, on Node 22.12+ where each worker reads its own socket, what that saves.
set -euo pipefail
cd "$(dirname "$0")/.."
FIXED_RATE=${FIXED_RATE:-10000}
ROUNDS=${ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node --input-type=module -e "
import { binaryQueries, subnets, writeZones } from './bench/.build/bench/workload.js';
import { writeFileSync } from 'node:fs';
writeZones('$work/zones', { extraLoadBalancers: 0, extraRecords: 0 });
writeFileSync('$work/static.bin', binaryQueries([{ name: 'www.bench.test', type: 'A' }]));
writeFileSync('$work/lb-geo-ecs.bin', binaryQueries(subnets(50000).map((ecs) => ({ name: 'geo.bench.test', type: 'A', ecs }))));
"
port=$((20000 + RANDOM % 20000))
hz=$(getconf CLK_TCK)

# utime + stime of a process and its children, in clock ticks.
ticks() {
  local total=0 p
  for p in "$1" $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
    total=$((total + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}

# Runs dnsperf with "$@" against the server $pid; prints "q/s us-of-CPU-per-answered-query".
measure() {
  local before out after done
  before=$(ticks "$pid")
  out=$(dnsperf -s 127.0.0.1 -p $port -B -c 20 -T 2 "$@" 2>/dev/null)
  after=$(ticks "$pid")
  done=$(awk '/Queries completed/ {print $3}' <<<"$out")
  awk -v q="$(awk '/Queries per second/ {print $4}' <<<"$out")" -v t=$((after - before)) -v hz="$hz" -v n="$done" \
    'BEGIN { printf "%d %.1f", q, (n > 0 ? t / hz * 1e6 / n : 0) }'
}

echo "Node $(node --version), $(nproc) CPUs; CPU us/q: the servers' CPU time over the queries answered"
printf '| round | workers | static q/s | CPU us/q | at %s q/s | lb-geo-ecs q/s | CPU us/q | at %s q/s |\n' "$FIXED_RATE" "$FIXED_RATE"
printf '| --- | --- | --- | --- | --- | --- | --- | --- |\n'
for round in $(seq 1 "$ROUNDS"); do
  for w in 1 2; do
    node dist/cli.js serve --zones "$work/zones" --listen 127.0.0.1:$port --api off --no-watch --workers $w --log-level warn &
    pid=$!
    sleep 2
    row="| $round | $w |"
    for f in static lb-geo-ecs; do
      dnsperf -s 127.0.0.1 -p $port -B -d "$work/$f.bin" -n 1 -c 10 -q 200 -l 30 >/dev/null 2>&1 # warm-up pass
      read -r q us <<<"$(measure -d "$work/$f.bin" -q 400 -l 5)"
      read -r _ fixed <<<"$(measure -d "$work/$f.bin" -q 50 -Q "$FIXED_RATE" -l 5)"
      row="$row $q | $us | $fixed |"
    done
    echo "$row"
    kill -TERM $pid
    wait $pid 2>/dev/null || true
  done
done
echo
echo "On $(nproc) CPUs: dnsperf takes one CPU of its own, so with 2 CPUs two workers cannot show"
echo "scaling: compare CPU per query, and measure the rate on a machine with CPUs to spare."
