// Status page for resilient-openai: live over server-sent events, polling as a fallback.
// No framework and no build step. Text goes in with textContent only, never as HTML.
const $ = (id) => document.getElementById(id);
const MAX_CHECKS = 10;
const MAX_TIMELINE = 50;
const POLL_MS = 3000;
const RECONNECT_MS = 10_000;
const TOKEN_KEY = 'resilient-openai:check-token';

const model = { status: null, timeline: new Map(), checks: new Map() };

function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else el.setAttribute(key, String(value));
  }
  el.append(...children.filter((child) => child !== null && child !== undefined));
  return el;
}

const STATE_ICON = { closed: '●', 'half-open': '◐', open: '○' };
const duration = (ms) =>
  ms === null || ms === undefined ? '—'
  : ms < 1000 ? `${ms} ms`
  : ms < 60_000 ? `${+(ms / 1000).toFixed(1)} s`
  : `${+(ms / 60_000).toFixed(1)} min`;
const clock = (iso) => h('time', { datetime: iso, title: new Date(iso).toLocaleString(), text: new Date(iso).toLocaleTimeString() });
function ago(iso) {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return new Date(iso).toLocaleString();
}

const fact = (label, value, cls) => h('div', { class: cls }, h('dt', { text: label }), h('dd', { text: value }));

function card(e) {
  return h(
    'article',
    { class: 'card', 'data-endpoint': e.name, 'data-state': e.state, 'data-active': String(e.active) },
    h(
      'div',
      { class: 'card-head' },
      h('h3', { text: e.name }),
      e.active ? h('span', { class: 'badge active', text: 'ACTIVE' }) : null,
      h(
        'span',
        { class: `badge state-${e.state}`, 'data-role': 'state', title: 'Circuit breaker state' },
        h('span', { 'aria-hidden': 'true', text: STATE_ICON[e.state] ?? '?' }),
        `Breaker ${e.state}`,
      ),
    ),
    h('p', { class: 'url', text: e.baseURL }),
    h(
      'dl',
      { class: 'facts' },
      fact('Consecutive failures', String(e.consecutiveFailures)),
      fact('Latency', duration(e.latencyMs)),
      fact('Last success', ago(e.lastSuccessAt)),
      fact('Down since', e.downSince ? ago(e.downSince) : '—'),
      fact('Last error', e.lastError ? `${e.lastError} (${ago(e.lastFailureAt)})` : 'none', e.lastError ? 'wide error' : 'wide'),
    ),
  );
}

function renderStatus() {
  const s = model.status;
  if (!s) return;
  const primary = s.endpoints[0];
  const active = s.endpoints.find((e) => e.active) ?? primary;
  let level = 'ok';
  let title = 'All systems normal';
  let detail = `Every breaker is closed; traffic goes to ${active.name}.`;
  if (s.endpoints.every((e) => e.state !== 'closed')) {
    [level, title, detail] = ['down', 'Every endpoint is failing', `Calls still go to ${active.name}, the one that failed longest ago.`];
  } else if (active !== primary || primary.state !== 'closed') {
    level = 'degraded';
    title = `Serving from ${active.name}`;
    detail = `${primary.name}: breaker ${primary.state}. Traffic returns to it after enough healthy checks in a row.`;
  }
  $('summary').dataset.level = level;
  $('summary-title').textContent = title;
  $('summary-detail').textContent = detail;
  $('endpoints').replaceChildren(...s.endpoints.map(card));
  const timer =
    s.healthCheck.enabled ?
      `The health timer probes ${primary.name} every ${duration(s.healthCheck.intervalMs)}.`
    : 'The health timer is off.';
  $('checks-interval').textContent = `${timer} Last check: ${ago(s.lastCheckedAt)}.`;
}

function timelineItem(ev) {
  const meta = (...parts) => h('span', { class: 'meta' }, clock(ev.at), ...parts.map((p) => ` · ${p}`));
  if (ev.type === 'switched') {
    return h(
      'li',
      { 'data-id': ev.id, 'data-type': ev.type, 'data-from': ev.from, 'data-to': ev.to, 'data-reason': ev.reason },
      h('span', { class: 'what' }, ev.from, h('span', { class: 'arrow', 'aria-label': 'to', text: '→' }), ev.to),
      meta(`reason: ${ev.reason}${ev.error ? ` (${ev.error})` : ''}`),
    );
  }
  if (ev.type === 'recovered') {
    return h(
      'li',
      { 'data-id': ev.id, 'data-type': ev.type },
      h('span', { class: 'what', text: `${ev.endpoint} recovered` }),
      meta(`down for ${duration(ev.downtimeMs)}`),
    );
  }
  return h('li', { 'data-id': ev.id, 'data-type': ev.type }, `${ev.endpoint} breaker ${ev.previous} → ${ev.state}`, meta());
}

function checkItem(ev) {
  return h(
    'li',
    { 'data-id': ev.id, 'data-ok': String(ev.ok) },
    clock(ev.at),
    h('span', { class: `badge ${ev.ok ? 'ok' : 'failed'}`, text: ev.ok ? '✓ OK' : `✕ Failed${ev.error ? ` (${ev.error})` : ''}` }),
    h('span', { class: 'latency', text: duration(ev.latencyMs) }),
  );
}

// Newest first. Only new entries are inserted, so screen readers announce just those.
function renderList(list, entries, item, empty) {
  const ids = new Set(entries.keys());
  for (const li of [...list.children]) if (!ids.has(Number(li.dataset.id))) li.remove();
  const shown = new Set([...list.children].map((li) => Number(li.dataset.id)));
  for (const id of [...ids].sort((a, b) => b - a)) {
    if (shown.has(id)) continue;
    const before = [...list.children].find((li) => Number(li.dataset.id) < id) ?? null;
    list.insertBefore(item(entries.get(id)), before);
  }
  empty.hidden = entries.size > 0;
}

function addEvent(ev) {
  const [entries, max] = ev.type === 'healthcheck' ? [model.checks, MAX_CHECKS] : [model.timeline, MAX_TIMELINE];
  entries.set(ev.id, ev);
  for (const id of [...entries.keys()].sort((a, b) => a - b).slice(0, Math.max(0, entries.size - max))) entries.delete(id);
}

const renderEvents = () => {
  renderList($('timeline'), model.timeline, timelineItem, $('timeline-empty'));
  renderList($('checks'), model.checks, checkItem, $('checks-empty'));
};

async function getJSON(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

// The server's history is the truth; keep what arrived live after it was read.
async function loadHistory() {
  const { timeline, healthchecks } = await getJSON('/api/timeline');
  const newest = Math.max(0, ...timeline.map((e) => e.id), ...healthchecks.map((e) => e.id));
  const live = [...model.timeline.values(), ...model.checks.values()].filter((e) => e.id > newest);
  model.timeline.clear();
  model.checks.clear();
  for (const ev of [...timeline, ...healthchecks, ...live]) addEvent(ev);
  renderEvents();
}

const setConnection = (mode, text) => {
  $('connection').dataset.mode = mode;
  $('connection-text').textContent = text;
};

let pollTimer = null;
async function poll() {
  try {
    model.status = await getJSON('/api/status?detail=full');
    renderStatus();
    await loadHistory();
    setConnection('polling', `Polling every ${POLL_MS / 1000} s`);
  } catch {
    setConnection('offline', 'Server unreachable');
  }
}
const startPolling = () => {
  if (pollTimer !== null) return;
  pollTimer = setInterval(poll, POLL_MS);
  void poll();
};
const stopPolling = () => {
  clearInterval(pollTimer);
  pollTimer = null;
};

function connect() {
  if (typeof EventSource !== 'function') return startPolling();
  const source = new EventSource('/api/events');
  source.addEventListener('open', () => {
    stopPolling();
    setConnection('live', 'Live');
    loadHistory().catch(() => {});
  });
  source.addEventListener('status', (msg) => {
    model.status = JSON.parse(msg.data);
    renderStatus();
  });
  for (const type of ['switched', 'recovered', 'breaker', 'healthcheck']) {
    source.addEventListener(type, (msg) => {
      addEvent(JSON.parse(msg.data));
      renderEvents();
    });
  }
  source.addEventListener('error', () => {
    startPolling();
    // The browser retries by itself unless the server refused the stream; then try again later.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, RECONNECT_MS);
  });
}

const form = $('check-form');
const tokenInput = $('token');
tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? '';
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = $('check-result');
  const button = $('check-button');
  const token = tokenInput.value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  button.disabled = true;
  result.dataset.result = '';
  result.textContent = 'Checking the primary…';
  try {
    const res = await fetch('/api/check-main-api', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const body = await res.json().catch(() => ({}));
    const message = body.message ?? `HTTP ${res.status}`;
    const time = new Date().toLocaleTimeString();
    if (res.ok && body.success) {
      result.dataset.result = body.isMainApiAvailable ? 'ok' : 'warn';
      result.textContent = `${time} · ${message}`;
    } else {
      result.dataset.result = 'error';
      const hint =
        res.status === 401 ? 'Not authorized: '
        : res.status === 429 ? 'Rate limited: '
        : '';
      result.textContent = `${time} · ${hint}${message} (HTTP ${res.status})`;
    }
  } catch {
    result.dataset.result = 'error';
    result.textContent = 'Could not reach the server.';
  } finally {
    button.disabled = false;
  }
});

setInterval(renderStatus, 5000); // keeps "12 s ago" honest between updates
connect();
