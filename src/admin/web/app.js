// agora's operator page: reads the node's admin HTTP API (/api/...) and shows the
// members, the event rates, a live event tail and the coordinator's configuration.
// Everything from the network is put in the page as text (textContent), never as HTML:
// event payloads come from any node of the cluster.
'use strict';

(() => {
  const POLL_MS = 1000;
  const TAIL_MAX = 500;            // newest events kept in the tail
  const TOKEN_KEY = 'agora.httpToken';
  const $ = (id) => document.getElementById(id);

  // ---- HTTP ----------------------------------------------------------------------
  let authWanted = false;          // a 401 was seen: wait for the operator's token

  function storedToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }

  function authHeaders(extra) {
    const h = Object.assign({}, extra || {});
    const t = storedToken();
    if (t) h.Authorization = 'Bearer ' + t;
    return h;
  }

  // fetch + JSON; resolves to {status, ok, body} (body null when not JSON), rejects
  // only when the node cannot be reached. A 401 opens the token form.
  async function api(path, opts) {
    const o = Object.assign({ cache: 'no-store' }, opts || {});
    o.headers = authHeaders(o.headers);
    const r = await fetch(path, o);
    const text = await r.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    if (r.status === 401) askToken(body && body.error);
    return { status: r.status, ok: r.ok, body };
  }

  function errorText(res) {
    return (res.body && res.body.error) || ('HTTP ' + res.status);
  }

  function askToken(why) {
    if (!authWanted) stopTail();
    authWanted = true;
    $('auth').hidden = false;
    $('auth-error').textContent = storedToken() ? (why || 'the token was refused') : '';
    $('auth-token').focus();
  }

  $('auth').addEventListener('submit', (e) => {
    e.preventDefault();
    try { sessionStorage.setItem(TOKEN_KEY, $('auth-token').value); } catch (err) { /* private mode */ }
    $('auth-token').value = '';
    $('auth').hidden = true;
    authWanted = false;
    loadConfig();
    startTail();
  });

  // ---- formatting ------------------------------------------------------------------
  function fmtSeconds(s) {
    if (typeof s !== 'number' || !isFinite(s)) return '–';
    if (s < 10) return s.toFixed(1) + ' s';
    if (s < 120) return Math.round(s) + ' s';
    if (s < 7200) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
    if (s < 172800) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }
  function fmtRate(r) {
    if (typeof r !== 'number' || !isFinite(r)) return '–';
    return r >= 100 ? Math.round(r).toString() : r.toFixed(1);
  }
  function fmtJson(v) {
    return v === undefined ? '' : JSON.stringify(v);
  }

  // A row keyed by `key` in `tbody`, made once with one <td class=...> per class.
  function keyedRow(tbody, attr, key, classes) {
    let tr = tbody.querySelector('tr[' + attr + '="' + CSS.escape(String(key)) + '"]');
    if (!tr) {
      tr = document.createElement('tr');
      tr.setAttribute(attr, key);
      for (const c of classes) {
        const td = document.createElement('td');
        td.className = c;
        tr.appendChild(td);
      }
    }
    return tr;
  }
  function setCell(tr, cls, text) {
    const td = tr.querySelector('td.' + cls.split(' ')[0]);
    if (td.textContent !== text) td.textContent = text;
    return td;
  }
  // Put rows in `order` (already sorted), dropping any other row.
  function placeRows(tbody, rows) {
    const keep = new Set(rows);
    for (const tr of Array.from(tbody.rows)) if (!keep.has(tr)) tr.remove();
    rows.forEach((tr, i) => { if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] || null); });
  }

  // ---- members and status, polled -------------------------------------------------
  const MEMBER_CELLS = ['node', 'state', 'address', 'last-heard num', 'since num',
    'incarnation num', 'events-in num', 'rate num'];

  function renderMembers(list) {
    const tbody = $('members').tBodies[0];
    const rows = list.slice().sort((a, b) => a.node - b.node).map((m) => {
      const tr = keyedRow(tbody, 'data-node', m.node, MEMBER_CELLS);
      tr.dataset.state = m.state;
      tr.classList.toggle('self', !!m.self);
      setCell(tr, 'node', String(m.node));
      setCell(tr, 'state', m.state).dataset.state = m.state;
      setCell(tr, 'address', m.address || '–');
      setCell(tr, 'last-heard', m.self ? '–' : fmtSeconds(m.lastHeardSeconds) + ' ago');
      setCell(tr, 'since', fmtSeconds(m.sinceSeconds));
      setCell(tr, 'incarnation', m.incarnation === undefined ? '–' : String(m.incarnation));
      setCell(tr, 'events-in', m.self ? '–' : String(m.eventsIn ?? '–'));
      setCell(tr, 'rate', m.self ? '–' : fmtRate(m.eventsPerSecond));
      return tr;
    });
    placeRows(tbody, rows);
    const alive = list.filter((m) => m.state === 'alive').length;
    $('summary-members').textContent = alive + ' alive of ' + list.length;
  }

  let prevCounts = null;           // {at (ms), types} of the previous status poll

  function renderStatus(s) {
    $('summary-node').textContent = String(s.node);
    $('summary-version').textContent = s.version || '–';
    $('summary-uptime').textContent = fmtSeconds(s.uptimeSeconds);
    const st = s.status || {};
    $('summary-backend').textContent = (st.backend || '–') + (st.server ? ' · ' + st.server : '');
    const c = $('summary-connected');
    c.dataset.connected = String(!!st.connected);
    c.textContent = st.connected ? 'yes' : 'no';

    const now = performance.now();
    const types = s.eventTypes || {};
    const dt = prevCounts ? (now - prevCounts.at) / 1000 : 0;
    const rateOf = (t, k) => {
      if (!prevCounts || dt <= 0) return NaN;
      const before = (prevCounts.types[t] || {})[k] || 0;
      return Math.max(0, ((types[t] || {})[k] || 0) - before) / dt;
    };
    const tbody = $('rates').tBodies[0];
    const names = Object.keys(types).sort();
    placeRows(tbody, names.map((t) => {
      const tr = keyedRow(tbody, 'data-type', t, ['type', 'published num', 'received num',
        'published-rate num', 'received-rate num']);
      setCell(tr, 'type', t);
      setCell(tr, 'published', String(types[t].published || 0));
      setCell(tr, 'received', String(types[t].received || 0));
      setCell(tr, 'published-rate', fmtRate(rateOf(t, 'published')));
      setCell(tr, 'received-rate', fmtRate(rateOf(t, 'received')));
      return tr;
    }));
    $('rates-empty').hidden = names.length > 0;
    prevCounts = { at: now, types };
  }

  function showConnError(text) {
    const p = $('conn-error');
    p.hidden = !text;
    p.textContent = text || '';
  }

  async function poll() {
    if (authWanted) return;
    try {
      const [m, s] = await Promise.all([api('api/members'), api('api/status')]);
      if (m.ok && m.body) renderMembers(m.body.members || []);
      if (s.ok && s.body) renderStatus(s.body);
      const bad = [m, s].find((r) => !r.ok && r.status !== 401);
      showConnError(bad ? 'the node answered: ' + errorText(bad) : '');
    } catch (e) {
      showConnError('cannot reach the node (' + e.message + '); retrying');
    }
  }

  async function pollLoop() {
    for (;;) {
      await poll();
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  // ---- live event tail (Server-Sent Events) ----------------------------------------
  // Read with fetch rather than EventSource: EventSource cannot send the Authorization
  // header a node with an httpToken asks for.
  let tailGen = 0;                 // bumped to end the running reader
  let tailAbort = null;
  let tailPaused = false;
  let tailHeld = 0;                // events not shown while paused

  function setTailStatus(state, text) {
    const el = $('tail-status');
    el.dataset.state = state;
    el.textContent = text;
  }

  function tailQuery() {
    const q = new URLSearchParams();
    const types = $('tail-types').value.split(',').map((t) => t.trim()).filter(Boolean);
    if (types.length) q.set('type', types.join(','));
    const node = $('tail-node').value.trim();
    if (node) {
      if (!/^\d+$/.test(node) || Number(node) > 65535) throw new Error('node must be a number from 0 to 65535');
      q.set('node', node);
    }
    const s = q.toString();
    return 'api/events' + (s ? '?' + s : '');
  }

  function addTailItem(li) {
    const ol = $('tail');
    ol.insertBefore(li, ol.firstChild);
    while (ol.children.length > TAIL_MAX) ol.lastChild.remove();
  }

  function span(cls, text) {
    const s = document.createElement('span');
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function showEvent(ev) {
    if (tailPaused) {
      tailHeld++;
      setTailStatus('paused', 'paused (' + tailHeld + ' not shown)');
      return;
    }
    const li = document.createElement('li');
    li.dataset.type = ev.type;
    li.dataset.node = String(ev.node);
    const at = typeof ev.receivedAt === 'string' ? ev.receivedAt.replace(/^.*T/, '').replace(/Z$/, '') : '';
    const rest = Object.assign({}, ev);
    delete rest.node; delete rest.type; delete rest.receivedAt;
    li.append(span('at', at), span('from', 'node ' + ev.node), span('type', ev.type),
      span('body', fmtJson(rest)));
    addTailItem(li);
  }

  // The node dropped events for this page (its queue was full): data {"missed":N}.
  function showGap(data) {
    let missed = null;
    try { missed = JSON.parse(data).missed; } catch (e) { /* no count */ }
    const li = document.createElement('li');
    li.className = 'gap';
    li.dataset.type = 'gap';
    li.textContent = (typeof missed === 'number' ? missed + (missed === 1 ? ' event' : ' events') : 'events') +
      ' not shown: this page did not keep up with the stream';
    addTailItem(li);
  }

  // One SSE block (the lines before a blank line).
  function tailBlock(block) {
    let name = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
    if (name === 'gap') { showGap(data.join('\n')); return; }
    if (!data.length) return;
    let ev;
    try { ev = JSON.parse(data.join('\n')); } catch (e) { return; }
    if (ev && typeof ev === 'object') showEvent(ev);
  }

  async function readTail(gen, url) {
    let retryMs = 500;
    while (gen === tailGen) {
      const ctl = new AbortController();
      tailAbort = ctl;
      try {
        const r = await fetch(url, { headers: authHeaders({ Accept: 'text/event-stream' }),
          cache: 'no-store', signal: ctl.signal });
        if (r.status === 401) { askToken(); return; }
        if (!r.ok) {
          let msg = 'HTTP ' + r.status;
          try { msg = (await r.json()).error || msg; } catch (e) { /* not JSON */ }
          if (r.status >= 400 && r.status < 500) { setTailStatus('error', msg); return; }
          throw new Error(msg);
        }
        setTailStatus(tailPaused ? 'paused' : 'live', tailPaused ? 'paused' : 'live');
        retryMs = 500;
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf = (buf + value).replace(/\r\n?/g, '\n');
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            tailBlock(buf.slice(0, end));
            buf = buf.slice(end + 2);
          }
        }
        throw new Error('the stream ended');
      } catch (e) {
        if (gen !== tailGen) return;
        setTailStatus('error', 'disconnected (' + e.message + '); retrying');
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      retryMs = Math.min(retryMs * 2, 10000);
    }
  }

  function stopTail() {
    tailGen++;
    if (tailAbort) tailAbort.abort();
    tailAbort = null;
  }

  function startTail() {
    stopTail();
    let url;
    try { url = tailQuery(); } catch (e) { setTailStatus('error', e.message); return; }
    setTailStatus('connecting', 'connecting…');
    readTail(tailGen, url);
  }

  $('tail-filter').addEventListener('submit', (e) => { e.preventDefault(); startTail(); });
  $('tail-pause').addEventListener('click', () => {
    tailPaused = !tailPaused;
    tailHeld = 0;
    $('tail-pause').textContent = tailPaused ? 'Resume' : 'Pause';
    setTailStatus(tailPaused ? 'paused' : 'live', tailPaused ? 'paused' : 'live');
  });
  $('tail-clear').addEventListener('click', () => { $('tail').replaceChildren(); });

  // ---- the coordinator panel ---------------------------------------------------------
  let runningConfig = null;

  function fieldRow(tbody, path, name, value, def, opts) {
    const tr = keyedRow(tbody, 'data-field', path, ['name', 'value', 'default', 'error']);
    const nameTd = setCell(tr, 'name', name);
    if (opts.help) nameTd.title = opts.help;
    const shown = opts.secret && value !== undefined && value !== null ? '********' : value;
    setCell(tr, 'value', value === undefined ? '(not set)' : fmtJson(shown));
    let d = '';
    if (opts.required) d = 'required';
    else if (def !== undefined && def !== null) d = fmtJson(opts.secret ? '********' : def);
    setCell(tr, 'default', d);
    tr.classList.toggle('changed', def !== undefined && value !== undefined && fmtJson(value) !== fmtJson(def));
    return tr;
  }

  function sectionRow(label) {
    const tr = document.createElement('tr');
    tr.className = 'section';
    const td = document.createElement('td');
    td.colSpan = 4;
    td.textContent = label;
    tr.appendChild(td);
    return tr;
  }

  function renderConfig(cfg, schema, nodeSchema) {
    const tbody = $('config-fields').tBodies[0];
    tbody.replaceChildren();
    const coord = (cfg && typeof cfg.coordinator === 'object' && cfg.coordinator) || {};
    $('config-type').textContent = coord['@type'] || '';
    const rows = [sectionRow('node (agora)')];
    const nodeFields = new Map();
    for (const f of Array.isArray(nodeSchema) ? nodeSchema : [])
      if (f && typeof f.name === 'string') nodeFields.set(f.name, f);
    for (const k of Object.keys(cfg || {})) {
      if (k === 'coordinator') continue;
      const f = nodeFields.get(k);
      rows.push(fieldRow(tbody, k, k, cfg[k], f ? f.default : undefined,
        f ? { secret: !!f.secret, required: !!f.required, help: f.help } : {}));
    }
    rows.push(sectionRow('coordinator (Stalwart: Settings › Cluster › Coordinator)'));
    rows.push(fieldRow(tbody, 'coordinator.@type', '@type', coord['@type'], undefined, {}));
    const described = new Set(['@type']);
    for (const f of Array.isArray(schema) ? schema : []) {
      if (!f || typeof f.name !== 'string' || f.name === '@type') continue;
      described.add(f.name);
      rows.push(fieldRow(tbody, 'coordinator.' + f.name, f.name, coord[f.name], f.default,
        { secret: !!f.secret, required: !!f.required, help: f.help }));
    }
    for (const k of Object.keys(coord)) {
      if (!described.has(k)) rows.push(fieldRow(tbody, 'coordinator.' + k, k, coord[k], undefined, {}));
    }
    tbody.append(...rows);
  }

  async function loadConfig() {
    try {
      const c = await api('api/config');
      if (!c.ok || !c.body) { $('config-type').textContent = '(' + errorText(c) + ')'; return; }
      const type = c.body.coordinator && c.body.coordinator['@type'];
      const s = await api('api/config/schema' + (type ? '?type=' + encodeURIComponent(type) : ''));
      const n = await api('api/config/schema?type=node');
      runningConfig = c.body;
      renderConfig(c.body, s.ok ? s.body : null, n.ok ? n.body : null);
      if (!$('config-edit').value) resetEditor();
    } catch (e) {
      showConnError('cannot reach the node (' + e.message + ')');
    }
  }

  function resetEditor() {
    if (runningConfig) $('config-edit').value = JSON.stringify(runningConfig, null, 2);
  }

  function clearCheck() {
    $('config-result').dataset.state = '';
    $('config-result').textContent = '';
    $('config-errors').replaceChildren();
    for (const td of $('config-fields').querySelectorAll('td.error')) td.textContent = '';
    for (const tr of $('config-fields').querySelectorAll('tr.has-error')) tr.classList.remove('has-error');
  }

  function showCheckErrors(errors) {
    const ul = $('config-errors');
    for (const e of errors) {
      const field = typeof e.field === 'string' ? e.field : '';
      const li = document.createElement('li');
      li.dataset.field = field;
      li.append(span('field', field || '(configuration)'), span('message', String(e.message || '')));
      ul.appendChild(li);
      const tr = field && $('config-fields').querySelector('tr[data-field="' + CSS.escape(field) + '"]');
      if (tr) {
        tr.classList.add('has-error');
        const td = tr.querySelector('td.error');
        td.textContent = (td.textContent ? td.textContent + '; ' : '') + String(e.message || '');
      }
    }
  }

  async function checkConfig() {
    clearCheck();
    const result = $('config-result');
    result.dataset.state = 'checking';
    result.textContent = 'checking…';
    try {
      const r = await api('api/config/check', { method: 'POST',
        headers: { 'Content-Type': 'application/json' }, body: $('config-edit').value });
      if (r.ok && r.body && r.body.ok) {
        result.dataset.state = 'valid';
        result.textContent = 'valid';
      } else if (r.body && Array.isArray(r.body.errors)) {
        result.dataset.state = 'invalid';
        result.textContent = r.body.errors.length === 1 ? '1 error' : r.body.errors.length + ' errors';
        showCheckErrors(r.body.errors);
      } else {
        result.dataset.state = 'invalid';
        result.textContent = errorText(r);
      }
    } catch (e) {
      result.dataset.state = 'error';
      result.textContent = 'cannot reach the node (' + e.message + ')';
    }
  }

  $('config-check').addEventListener('click', checkConfig);
  $('config-reset').addEventListener('click', () => { resetEditor(); clearCheck(); });

  // ---- start ---------------------------------------------------------------------------
  loadConfig();
  startTail();
  pollLoop();
})();
