#!/usr/bin/env bash
# By hand (npm run bench:workers): queries/s with --workers 1 and --workers 2, nothing pinned,
# dnsperf with two threads, alternating three times (the machine drifts). On a two-CPU machine
# dnsperf needs a CPU too, so two workers cannot double the rate here: see the README.
set -euo pipefail
cd "$(dirname "$0")/.."
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
printf '| round | workers | static q/s | lb-geo-ecs q/s |\n| --- | --- | --- | --- |\n'
for round in 1 2 3; do
  for w in 1 2; do
    node dist/cli.js serve --zones "$work/zones" --listen 127.0.0.1:$port --api off --no-watch --workers $w --log-level warn &
    pid=$!
    sleep 2
    row="| $round | $w |"
    for f in static lb-geo-ecs; do
      dnsperf -s 127.0.0.1 -p $port -B -d "$work/$f.bin" -n 1 -c 10 -q 200 -l 30 >/dev/null 2>&1 # warm-up pass
      q=$(dnsperf -s 127.0.0.1 -p $port -B -d "$work/$f.bin" -c 20 -q 400 -T 2 -l 5 2>/dev/null | awk '/Queries per second/ {print int($4)}')
      row="$row $q |"
    done
    echo "$row"
    kill -TERM $pid
    wait $pid 2>/dev/null || true
  done
done
