// steerdns status page: reads /v1/status, /v1/history and /v1/changes every POLL_MS and updates
// the tables in place (rows keyed by name, so focus and buttons survive an update). Every name
// and message from the server is set with textContent, never parsed as HTML.
'use strict';
(() => {
  const POLL_MS = 2000;
  const $ = (id) => document.getElementById(id);
  /** The API token typed in: kept in this page's memory only. */
  let token = '';

  // ---- Formatting ----

  function ago(iso, now) {
    if (!iso) return '';
    const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
    return duration(s) + ' ago';
  }

  function duration(s) {
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  }

  const ms = (v) => (v === undefined || v === null ? '' : `${v} ms`);
  const rate = (v) => (v === undefined ? '' : v >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10));
  const localTime = (iso) => (iso ? new Date(iso).toLocaleString() : '');

  // ---- Tables updated in place ----

  /**
   * A cell: { text, badge?, cls?, title?, header?, actions? }. `badge` is a state name shown as
   * a coloured label (its text says the state too); `actions` builds the cell's buttons once.
   */
  function makeCell(c) {
    const cell = document.createElement(c.header ? 'th' : 'td');
    if (c.header) cell.scope = 'row';
    if (c.actions) {
      cell.className = 'actions';
      c.actions(cell);
      return cell;
    }
    cell.append(document.createElement('span'));
    updateCell(cell, c);
    return cell;
  }

  function updateCell(cell, c) {
    if (c.actions) return;
    const span = cell.firstChild;
    const text = c.text === undefined || c.text === null ? '' : String(c.text);
    if (span.textContent !== text) span.textContent = text;
    const spanClass = c.badge ? `badge s-${c.badge}` : c.inner || '';
    if (span.className !== spanClass) span.className = spanClass;
    const cls = c.cls || '';
    if (cell.className !== cls) cell.className = cls;
    if (c.title) span.title = c.title;
    else span.removeAttribute('title');
  }

  const rowMaps = new WeakMap();

  /** Makes `tbody` show one row per item, in order, reusing the row of the same key. */
  function syncRows(tbody, items, keyOf, render) {
    let rows = rowMaps.get(tbody);
    if (!rows) rowMaps.set(tbody, (rows = new Map()));
    const seen = new Set();
    let prev = null;
    for (const item of items) {
      const key = keyOf(item);
      seen.add(key);
      const spec = render(item);
      let tr = rows.get(key);
      if (!tr) {
        tr = document.createElement('tr');
        tr.dataset.key = key;
        for (const c of spec.cells) tr.append(makeCell(c));
        rows.set(key, tr);
      } else {
        spec.cells.forEach((c, i) => updateCell(tr.cells[i], c));
      }
      const cls = spec.cls || '';
      if (tr.className !== cls) tr.className = cls;
      const want = prev ? prev.nextSibling : tbody.firstChild;
      if (want !== tr) tbody.insertBefore(tr, want);
      prev = tr;
    }
    for (const [key, tr] of rows) {
      if (!seen.has(key)) {
        tr.remove();
        rows.delete(key);
      }
    }
  }

  // ---- Admin actions ----

  /** Disable / Enable / Clear buttons for a pool, or an origin of it. */
  function overrideButtons(pool, origin) {
    return (cell) => {
      const what = origin === undefined ? `pool ${pool}` : `origin ${origin} of pool ${pool}`;
      for (const [action, label] of [['disable', 'Disable'], ['enable', 'Enable'], ['clear', 'Clear']]) {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = label;
        b.dataset.action = action;
        b.setAttribute('aria-label', `${label} ${what}`);
        b.addEventListener('click', () => act(action, pool, origin, what));
        cell.append(b);
      }
    };
  }

  const ACTION_TEXT = {
    disable: (what) => `Disable ${what}? It stops answering until enabled or cleared, across reloads.`,
    enable: (what) => `Enable ${what}? It answers as soon as it passes its monitor, whatever the configuration says.`,
    clear: (what) => `Clear the override of ${what}? It goes back to what the configuration says.`,
  };

  async function act(action, pool, origin, what) {
    if (!window.confirm(ACTION_TEXT[action](what))) return;
    const out = $('action-result');
    const path = `/v1/pools/${encodeURIComponent(pool)}` + (origin === undefined ? '' : `/origins/${encodeURIComponent(origin)}`) + `/${action}`;
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    try {
      const res = await fetch(path, { method: 'POST', headers, cache: 'no-store' });
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        out.className = 'ok';
        out.textContent = `Done: ${what} ${action === 'clear' ? 'follows the configuration again' : action + 'd'}.`;
      } else {
        out.className = 'refused';
        out.textContent = `Refused (${res.status}): ${body.error || res.statusText}`;
      }
    } catch (err) {
      out.className = 'refused';
      out.textContent = `Failed: ${err && err.message ? err.message : String(err)}`;
    }
    void refresh();
  }

  function setupToken() {
    const state = $('token-state');
    const show = () => {
      state.textContent = token
        ? 'Token set for this page (kept in memory only): the Disable, Enable and Clear buttons act, after a confirmation.'
        : 'No token: this page is read-only, and the Disable, Enable and Clear buttons will be refused.';
    };
    $('token-form').addEventListener('submit', (e) => {
      e.preventDefault();
      token = $('token').value.trim();
      $('token').value = '';
      show();
    });
    $('forget').addEventListener('click', () => {
      token = '';
      $('token').value = '';
      show();
    });
  }

  // ---- Rendering ----

  /** The last interval's rate per name, from the history. */
  function lastRates(series, sampled) {
    const out = new Map();
    for (const s of series || []) out.set(s.name, s.perSecond.length ? s.perSecond[s.perSecond.length - 1] : undefined);
    // No decision counted yet: zero, once there is an interval to count over.
    return { get: (name) => (out.has(name) ? out.get(name) : sampled ? 0 : undefined) };
  }

  function render(status, history, changes) {
    const now = Date.parse(status.now);
    const server = status.server || {};
    $('server-id').textContent = server.id ? `· ${server.id}` : '';
    $('version').textContent = server.version || '';
    $('uptime').textContent = server.uptimeSeconds === undefined ? '' : duration(server.uptimeSeconds);
    $('digest').textContent = status.config ? status.config.digest.slice(0, 12) : '';
    $('digest').title = status.config ? `SHA-256 over the configuration files: ${status.config.digest}` : '';
    $('updated').textContent = new Date(now).toLocaleTimeString();
    document.title = `steerdns status${server.id ? ' · ' + server.id : ''}`;

    const degraded = (status.config && status.config.degraded) || [];
    $('degraded').hidden = degraded.length === 0;
    const list = $('degraded-list');
    list.replaceChildren(...degraded.map((d) => {
      const li = document.createElement('li');
      li.textContent = `${d.file}: ${d.error} — ${d.lastGood ? 'serving its last good copy of ' + localTime(d.lastGood) : 'not served'}`;
      return li;
    }));

    const sampled = Boolean(history && history.times.length);
    const lbRates = lastRates(history && history.loadBalancers, sampled);
    const poolRates = lastRates(history && history.pools, sampled);

    syncRows($('lbs').tBodies[0], status.loadBalancers, (lb) => lb.name, (lb) => ({
      cls: lb.fallback ? 'fallback' : '',
      cells: [
        { text: lb.name, header: true },
        { text: lb.fallback ? `${lb.state}: on fallback` : lb.state, badge: lb.state },
        { text: (lb.answering || []).join(', ') + (lb.fallback ? ' (fallback)' : ''), inner: 'answering' },
        { text: ago(lb.answeringSince, now), title: localTime(lb.answeringSince), cls: 'when' },
        { text: lb.policy },
        { text: lb.ttl === undefined ? '' : `${lb.ttl} s`, cls: 'num' },
        { text: rate(lbRates.get(lb.name)), cls: 'num' },
        { text: lb.fallbackPool },
        { text: lb.description, cls: 'detail' },
      ],
    }));

    syncRows($('pools').tBodies[0], status.pools, (p) => p.name, (p) => ({
      cls: p.override ? 'overridden' : '',
      cells: [
        { text: p.name, header: true },
        { text: p.description, cls: 'detail' },
        { text: p.state, badge: p.state },
        { text: `${p.healthy} / ${p.originCount}`, cls: 'num' },
        { text: p.minimumOrigins, cls: 'num' },
        { text: p.monitor || 'none' },
        { text: p.override ? `${p.override} by override` : p.enabled ? 'yes' : 'no (configuration)' },
        { text: rate(poolRates.get(p.name)), cls: 'num' },
        { text: ms(p.rttMs), cls: 'num' },
        { text: ago(p.since, now), title: localTime(p.since), cls: 'when' },
        { actions: overrideButtons(p.name) },
      ],
    }));

    const origins = [];
    for (const p of status.pools) for (const o of p.origins) origins.push({ pool: p, o });
    syncRows($('origins').tBodies[0], origins, ({ pool, o }) => `${pool.name}/${o.name}`, ({ pool, o }) => ({
      cls: o.override ? 'overridden' : '',
      cells: [
        { text: o.name, header: true },
        { text: pool.name },
        { text: o.address },
        { text: o.restored ? `${o.state} (restored)` : o.state, badge: o.state },
        { text: o.reason },
        { text: o.code !== undefined && o.reason ? `HTTP ${o.code}${o.detail ? ': ' + o.detail : ''}` : o.detail, cls: 'detail' },
        { text: ms(o.rttMs), cls: 'num' },
        { text: ago(o.since, now), title: localTime(o.since), cls: 'when' },
        { text: o.override ? `${o.override} by override` : o.enabled ? 'yes' : 'no (configuration)' },
        { actions: overrideButtons(pool.name, o.name) },
      ],
    }));

    const counts = new Map();
    syncRows($('changes').tBodies[0], changes, (c) => {
      // Two changes may share every field; number them so each has its own row.
      const base = `${c.at}|${c.kind}|${c.name}|${c.new}`;
      const n = (counts.get(base) || 0) + 1;
      counts.set(base, n);
      return `${base}|${n}`;
    }, (c) => ({
      cells: [
        { text: ago(c.at, now), title: localTime(c.at), cls: 'when' },
        { text: c.kind.replace('_', ' ') },
        { text: c.name, header: true },
        { text: `${c.old || 'start'} → ${c.new}`, badge: c.new },
        { text: c.message + (c.detail ? ` (${c.detail})` : ''), cls: 'detail' },
      ],
    }));
    $('changes-empty').hidden = changes.length > 0;

    syncRows($('zones').tBodies[0], status.zones, (z) => z.name, (z) => ({
      cells: [{ text: z.name, header: true }, { text: z.serial, cls: 'num' }, { text: z.records, cls: 'num' }],
    }));

    if (history) {
      chartLbs.update(history.times, history.loadBalancers);
      chartPools.update(history.times, history.pools);
    }
  }

  // ---- Charts (uPlot, served by this server) ----

  const PALETTE = ['#1a73e8', '#e8710a', '#188038', '#d93025', '#9334e6', '#12b5cb', '#e52592', '#7cb342', '#f9ab00', '#5f6368'];

  function chart(containerId, unit) {
    const box = $(containerId);
    let plot;
    let names = '';
    const colors = () => {
      const css = getComputedStyle(document.documentElement);
      return { fg: css.getPropertyValue('--muted').trim(), grid: css.getPropertyValue('--line').trim() };
    };
    const build = (series, data) => {
      if (plot) plot.destroy();
      const c = colors();
      const axis = { stroke: c.fg, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 } };
      plot = new window.uPlot({
        width: Math.max(200, box.clientWidth),
        height: 220,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [axis, { ...axis, label: unit, size: 50 }],
        series: [{ label: 'time' }, ...series.map((s, i) => ({ label: s.name, stroke: PALETTE[i % PALETTE.length], width: 2, points: { show: false } }))],
        legend: { live: true },
      }, data, box);
    };
    new ResizeObserver(() => plot && plot.setSize({ width: Math.max(200, box.clientWidth), height: 220 })).observe(box);
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => { names = ''; });
    return {
      update(times, series) {
        if (!window.uPlot) {
          box.textContent = 'The chart library did not load.';
          return;
        }
        if (times.length === 0) {
          if (plot) plot.destroy();
          plot = undefined;
          box.textContent = 'No interval sampled yet: the first point comes a few seconds after start.';
          return;
        }
        if (!plot) box.textContent = '';
        const data = [times.map((t) => t / 1000), ...series.map((s) => s.perSecond)];
        const key = JSON.stringify(series.map((s) => s.name));
        if (key !== names || !plot) {
          names = key;
          build(series, data);
        } else {
          plot.setData(data);
        }
        box.dataset.series = String(series.length);
        box.dataset.points = String(times.length);
      },
    };
  }

  let chartLbs;
  let chartPools;

  // ---- Polling ----

  let timer;
  let inFlight;

  async function getJson(path) {
    const res = await fetch(path, { cache: 'no-store' });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }

  function refresh() {
    if (inFlight) return inFlight;
    clearTimeout(timer);
    inFlight = (async () => {
      const conn = $('connection');
      try {
        const [status, history, changes] = await Promise.all([getJson('/v1/status'), getJson('/v1/history'), getJson('/v1/changes')]);
        render(status, history, changes.changes);
        conn.className = '';
        conn.textContent = `Live: updated every ${POLL_MS / 1000} s without reloading.`;
      } catch (err) {
        conn.className = 'down';
        conn.textContent = `Cannot reach the server (${err && err.message ? err.message : err}); retrying.`;
      } finally {
        inFlight = undefined;
        timer = setTimeout(refresh, POLL_MS);
      }
    })();
    return inFlight;
  }

  chartLbs = chart('chart-lbs', 'queries/s');
  chartPools = chart('chart-pools', 'answers/s');
  setupToken();
  void refresh();
})();
