// The Watch Roster: the sign-in form (/ui/) and the roster (/ui/roster).
// No framework and no inline code: the page's Content-Security-Policy is
// default-src 'self'.
'use strict';

(function () {
  const STATUSES = ['online', 'busy', 'blocked', 'offline'];
  const POLL_MS = 1000;
  const STREAM_RETRY_MS = 30000;  // while polling, how often the stream is tried again

  async function getJson(url, options) {
    const r = await fetch(url, Object.assign({ credentials: 'same-origin', cache: 'no-store' }, options || {}));
    if (r.status === 401) {
      location.assign('/ui/');
      throw new Error('signed out');
    }
    if (!r.ok) throw new Error(url + ': ' + r.status);
    return r.json();
  }

  // --- sign-in ---------------------------------------------------------------

  function signinPage() {
    const form = document.getElementById('signin');
    const error = document.getElementById('signin-error');
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      try {
        // NextAuth's double submit: the token of the CSRF cookie goes in the form.
        const csrf = await getJson('/api/auth/csrf');
        form.elements.csrfToken.value = csrf.csrfToken;
        const r = await fetch(form.action, {
          method: 'POST',
          body: new URLSearchParams(new FormData(form)),
          credentials: 'same-origin',
        });
        if (!r.ok) {
          let detail = 'sign-in failed (' + r.status + ')';
          try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
          throw new Error(detail);
        }
        let ws = new URLSearchParams(location.search).get('workspace_id');
        if (!ws) {
          const list = await getJson('/api/v1/workspaces');
          if (!list.length) throw new Error('you are not a member of any workspace');
          ws = list[0].id;
        }
        location.assign('/ui/roster?workspace_id=' + encodeURIComponent(ws));
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
      }
    });
  }

  // --- roster ----------------------------------------------------------------

  const view = {
    ws: '',
    rows: new Map(),     // agent id -> {tr, name, crew, status, since, details, statusText, time, detailsCell}
    crews: new Map(),    // crew id ('' for none) -> {section, count, name}
    etag: null,
    filterCrew: '',
    filterStatus: '',
    reloading: false,
    source: '',          // 'stream' or 'poll': what feeds the page now
    stream: null,        // the EventSource while the stream is up
    polling: false,
    polls: 0,            // roster reads made (the one after each stream open included)
  };

  async function getAll(path) {
    const all = [];
    for (let offset = 0; ; offset += 100) {
      const page = await getJson(path + '&limit=100&offset=' + offset);
      all.push(...page);
      if (page.length < 100) return all;
    }
  }

  function relative(since) {
    if (!since) return '–';
    const s = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return Math.floor(s / 86400) + ' d ago';
  }

  // The details worth a glance: current task, blocked reason, approval id,
  // then whatever else the writer stamped.
  function describe(details) {
    if (!details || typeof details !== 'object') return [];
    const order = ['current_task_id', 'blocked_reason', 'approval_id', 'current_mission_id', 'reason'];
    const keys = order.filter((k) => k in details).concat(Object.keys(details).filter((k) => !order.includes(k)));
    return keys.slice(0, 5).map((k) => [k.replace(/_id$/, '').replace(/_/g, ' '), typeof details[k] === 'object' ? JSON.stringify(details[k]) : String(details[k])]);
  }

  function crewSection(id, name) {
    let c = view.crews.get(id);
    if (c) return c;
    const section = document.createElement('section');
    section.className = 'crew';
    section.dataset.crewId = id;
    const h = document.createElement('h2');
    h.id = 'crew-' + (id || 'none');
    h.textContent = name + ' ';
    const count = document.createElement('span');
    count.className = 'crew-count';
    h.appendChild(count);
    section.setAttribute('aria-labelledby', h.id);
    const table = document.createElement('table');
    table.innerHTML = '<thead><tr><th scope="col">Agent</th><th scope="col">Status</th>' +
      '<th scope="col">Since</th><th scope="col">Details</th></tr></thead><tbody></tbody>';
    section.append(h, table);
    c = { section, count, name, tbody: table.tBodies[0] };
    view.crews.set(id, c);
    return c;
  }

  function addAgent(agent) {
    const crewId = agent.crew_id || '';
    const tr = document.createElement('tr');
    tr.dataset.agentId = agent.id;
    tr.dataset.status = 'offline';
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = agent.name;
    const status = document.createElement('td');
    status.className = 'status';
    const dot = document.createElement('span');
    dot.className = 'dot';
    dot.setAttribute('aria-hidden', 'true');
    const statusText = document.createElement('span');
    statusText.className = 'status-text';
    statusText.textContent = 'offline';
    status.append(dot, statusText);
    const sinceCell = document.createElement('td');
    sinceCell.className = 'since';
    const time = document.createElement('time');
    time.textContent = '–';
    sinceCell.appendChild(time);
    const detailsCell = document.createElement('td');
    detailsCell.className = 'details';
    tr.append(name, status, sinceCell, detailsCell);
    const rec = { tr, name: agent.name, crew: crewId, status: 'offline', since: '', details: '', statusText, time, detailsCell };
    view.rows.set(agent.id, rec);
    return rec;
  }

  function visible(rec) {
    return (!view.filterCrew || rec.crew === view.filterCrew) && (!view.filterStatus || rec.status === view.filterStatus);
  }

  function refreshCounts() {
    const n = { all: 0, online: 0, busy: 0, blocked: 0, offline: 0 };
    const perCrew = new Map();
    let shown = 0;
    for (const rec of view.rows.values()) {
      n.all++;
      n[rec.status]++;
      const show = visible(rec);
      if (show) shown++;
      const pc = perCrew.get(rec.crew) || { total: 0, shown: 0 };
      pc.total++;
      if (show) pc.shown++;
      perCrew.set(rec.crew, pc);
    }
    for (const li of document.querySelectorAll('#counts li')) {
      const el = li.querySelector('.n');
      const v = String(n[li.dataset.status]);
      if (el.textContent !== v) el.textContent = v;
    }
    for (const [id, c] of view.crews) {
      const pc = perCrew.get(id) || { total: 0, shown: 0 };
      c.count.textContent = '(' + pc.total + ')';
      c.section.hidden = pc.shown === 0;
    }
    document.getElementById('shown').textContent = shown === n.all ? '' : shown + ' of ' + n.all + ' shown';
  }

  function applyFilters() {
    for (const rec of view.rows.values()) rec.tr.hidden = !visible(rec);
    refreshCounts();
  }

  // Applies one roster row ({agent_id, crew_id?, status, since, details?});
  // returns whether the agent's status changed. Any source may call it: the
  // presence stream's events, the roster reads, or the fallback poll.
  function applyRow(row) {
    const rec = view.rows.get(row.agent_id);
    if (!rec) {
      reloadAgents();
      return false;
    }
    const details = row.details ? JSON.stringify(row.details) : '';
    if (rec.status === row.status && rec.since === row.since && rec.details === details) return false;
    const changed = rec.status !== row.status;
    rec.status = STATUSES.includes(row.status) ? row.status : 'offline';
    rec.since = row.since || '';
    rec.details = details;
    rec.tr.dataset.status = rec.status;
    rec.statusText.textContent = rec.status;
    rec.time.dateTime = rec.since;
    rec.time.textContent = relative(rec.since);
    rec.detailsCell.replaceChildren();
    for (const [k, v] of describe(row.details)) {
      const span = document.createElement('span');
      const key = document.createElement('span');
      key.className = 'k';
      key.textContent = k + ': ';
      span.append(key, v + ' ');
      rec.detailsCell.appendChild(span);
    }
    rec.tr.hidden = !visible(rec);
    if (changed) {
      rec.tr.classList.remove('changed');
      void rec.tr.offsetWidth;  // restarts the highlight
      rec.tr.classList.add('changed');
    }
    return changed;
  }

  // Applies a whole roster snapshot ({rows, count}) or one row.
  function applyRoster(snapshot) {
    const rows = Array.isArray(snapshot.rows) ? snapshot.rows : [snapshot];
    const changed = [];
    for (const row of rows) if (applyRow(row)) changed.push(row);
    refreshCounts();
    const say = document.getElementById('announce');
    if (changed.length === 1) {
      const rec = view.rows.get(changed[0].agent_id);
      say.textContent = rec.name + ' is now ' + rec.status;
    } else if (changed.length > 1 && changed.length < rows.length) {
      say.textContent = changed.length + ' agents changed status';
    }
  }

  async function loadAgents() {
    const q = '?workspace_id=' + encodeURIComponent(view.ws);
    const [crews, agents] = await Promise.all([getAll('/api/v1/crews' + q), getAll('/api/v1/agents' + q)]);
    crews.sort((a, b) => a.name.localeCompare(b.name));
    const select = document.getElementById('filter-crew');
    for (const c of crews) {
      if (view.crews.has(c.id)) continue;
      crewSection(c.id, c.name);
      const o = document.createElement('option');
      o.value = c.id;
      o.textContent = c.name;
      select.appendChild(o);
    }
    agents.sort((a, b) => a.name.localeCompare(b.name));
    const container = document.getElementById('crews');
    const fresh = new Map();
    for (const a of agents) {
      if (view.rows.has(a.id)) continue;
      const crewId = a.crew_id && view.crews.has(a.crew_id) ? a.crew_id : '';
      if (!crewId) crewSection('', 'No crew');
      a.crew_id = crewId;
      const rec = addAgent(a);
      if (!fresh.has(crewId)) fresh.set(crewId, document.createDocumentFragment());
      fresh.get(crewId).appendChild(rec.tr);
    }
    for (const [id, frag] of fresh) view.crews.get(id).tbody.appendChild(frag);
    for (const c of crews) container.appendChild(view.crews.get(c.id).section);
    if (view.crews.has('')) container.appendChild(view.crews.get('').section);
    applyFilters();
  }

  // An agent the roster names but the page has not seen: made since load.
  async function reloadAgents() {
    if (view.reloading) return;
    view.reloading = true;
    try {
      await loadAgents();
      view.etag = null;  // the rows of the new agents come with the next poll
    } finally {
      view.reloading = false;
    }
  }

  // Reads the roster (an ETag read: 304 when nothing changed) and applies it.
  async function readRoster() {
    view.polls++;
    const headers = view.etag ? { 'If-None-Match': view.etag } : {};
    const r = await fetch('/api/v1/presence/roster?workspace_id=' + encodeURIComponent(view.ws),
      { headers, credentials: 'same-origin', cache: 'no-store' });
    if (r.status === 401) return location.assign('/ui/');
    if (r.status === 200) {
      view.etag = r.headers.get('ETag');
      applyRoster(await r.json());
    } else if (r.status !== 304) {
      throw new Error('roster: ' + r.status);
    }
  }

  function report(source, text) {
    const feed = document.getElementById('feed');
    feed.dataset.source = source;
    feed.textContent = text;
  }

  // The fallback: an ETag poll each second while the stream is down.
  async function poll() {
    if (view.source !== 'poll') {
      view.polling = false;
      return;
    }
    try {
      await readRoster();
      report('poll', 'polling · updated ' + new Date().toLocaleTimeString());
    } catch (e) {
      report('poll', 'not updating: ' + e.message);
    }
    setTimeout(poll, POLL_MS);
  }

  function startPolling() {
    view.source = 'poll';
    if (view.polling) return;
    view.polling = true;
    poll();
  }

  // Live updates: the SSE presence stream (same-origin, the session cookie)
  // feeds applyRoster one row per event. Once it is open the roster is read
  // once, so nothing changed before the stream began is missed. When it
  // fails the page polls, and tries the stream again later.
  function stream() {
    if (typeof EventSource === 'undefined') return startPolling();
    const es = new EventSource('/api/v1/presence/stream?workspace_id=' + encodeURIComponent(view.ws));
    view.stream = es;
    es.addEventListener('open', async () => {
      view.source = 'stream';
      report('stream', 'live · streaming since ' + new Date().toLocaleTimeString());
      try {
        await readRoster();
      } catch (e) {
        report('stream', 'live · roster read failed: ' + e.message);
      }
    });
    es.addEventListener('presence', (ev) => {
      try {
        applyRoster(JSON.parse(ev.data));
      } catch (e) { /* a bad event: the next roster read corrects it */ }
    });
    es.addEventListener('error', () => {
      // The browser would reconnect by itself (with Last-Event-ID) after a
      // drop, but a refusal closes it for good: poll meanwhile either way.
      es.close();
      if (view.stream === es) view.stream = null;
      startPolling();
      setTimeout(stream, STREAM_RETRY_MS);
    });
  }

  function tick() {
    for (const rec of view.rows.values()) {
      if (!rec.since || rec.tr.hidden) continue;
      const t = relative(rec.since);
      if (rec.time.textContent !== t) rec.time.textContent = t;
    }
  }

  async function rosterPage() {
    view.ws = new URLSearchParams(location.search).get('workspace_id') || '';
    if (!view.ws) return location.assign('/ui/');
    const filterCrew = document.getElementById('filter-crew');
    const filterStatus = document.getElementById('filter-status');
    filterCrew.addEventListener('change', () => { view.filterCrew = filterCrew.value; applyFilters(); });
    filterStatus.addEventListener('change', () => { view.filterStatus = filterStatus.value; applyFilters(); });
    document.getElementById('filters').addEventListener('submit', (ev) => ev.preventDefault());
    try {
      await loadAgents();
    } catch (e) {
      document.getElementById('feed').textContent = 'cannot load the agents: ' + e.message;
      return;
    }
    stream();
    setInterval(tick, 1000);
  }

  // applyRoster and applyRow take rows from any source; stats() says which
  // feeds the page and how many roster reads it made.
  window.crewshipRoster = { applyRoster, applyRow, stats: () => ({ source: view.source, polls: view.polls }) };
  document.addEventListener('DOMContentLoaded', () => {
    if (document.body.dataset.page === 'signin') signinPage();
    if (document.body.dataset.page === 'roster') rosterPage();
  });
})();
