/**
 * Small parts that keep an eye on things: a periodic log line with the caches' figures, a
 * watch on the zones directory that reloads after a quiet time, and the traffic history the
 * status page charts.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { GeoLocator } from '../geo/locator.js';
import type { PinTable } from '../lb/persistence.js';
import type { Logger } from '../log.js';
import type { QueryStats } from '../api/metrics.js';
import type { TrafficHistory } from '../api/history.js';
import type { Part } from './part.js';

/** Logs the geolocation cache's size and hit rate and the persistence table's every `ms` (0: never). */
export function cacheStatistics(ms: number, log: Logger, geo: () => GeoLocator, pins: PinTable): Part {
  let timer: NodeJS.Timeout | undefined;
  const rate = (hits: number, misses: number) => (hits + misses === 0 ? null : Math.round((1000 * hits) / (hits + misses)) / 10);
  return {
    start() {
      if (ms <= 0) return;
      timer = setInterval(() => {
        const g = geo().stats();
        log.info(
          {
            geoCache: { entries: g.entries, capacity: g.capacity, hits: g.hits, misses: g.misses, hitRatePercent: rate(g.hits, g.misses) },
            persistence: { pins: pins.size, hits: pins.hits, misses: pins.misses, repins: pins.repins },
          },
          'cache statistics',
        );
      }, ms);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** Calls `onChange` once things have been quiet for `debounceMs` after a change in `dir` (0: no watch). */
export function directoryWatch(dir: string, debounceMs: number, onChange: () => void, log: Logger): Part {
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    start() {
      if (debounceMs <= 0) return;
      try {
        watcher = watch(dir, { persistent: false }, () => {
          clearTimeout(timer);
          timer = setTimeout(onChange, debounceMs);
          timer.unref();
        });
        watcher.on('error', (err) => log.warn({ err, dir }, 'cannot watch the zones directory; reload with SIGHUP'));
      } catch (err) {
        log.warn({ err, dir }, 'cannot watch the zones directory; reload with SIGHUP');
      }
    },
    stop() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}

/** Samples the query path's figures into `history` every interval (0 or less: never), the first one interval after start. */
export function trafficSampler(history: TrafficHistory, stats: () => Promise<QueryStats>, log: Logger): Part {
  let timer: NodeJS.Timeout | undefined;
  let busy = false;
  const sample = () => {
    if (busy) return; // workers slow to answer: skip a tick rather than pile up
    busy = true;
    // A primary's figures come from its workers, who may not be there yet: a throw is a failed sample.
    Promise.resolve().then(stats).then(
      (s) => history.sample(Date.now(), s.tally),
      (err: unknown) => log.warn({ err }, 'traffic history: cannot read the query figures'),
    ).finally(() => (busy = false));
  };
  return {
    start() {
      if (history.intervalMs <= 0) return;
      timer = setInterval(sample, history.intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
