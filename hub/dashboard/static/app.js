// Lightbox dashboard: loads the ops API with the operator's token and renders the fleet.
// Token: #token=... (taken out of the URL at once) or the one entered, kept in sessionStorage.
// Drill-down: click an agent, or open with ?agent=ID (also #agent=ID).
'use strict';
(function () {
  const I18n = window.LightboxI18n;
  const Charts = window.LightboxCharts;
  const t = (k) => I18n.t(k);
  const TOKEN_KEY = 'lightbox.ops_token';
  const REFRESH_MS = 30000;
  const $ = (id) => document.getElementById(id);

  let token = null;
  let last = null;          // the latest loaded data, re-rendered on a language switch
  let detail = null;        // {agent, hours, info, history}
  let timer = null;

  // ---- helpers -------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined) continue;
      if (k === 'class') e.className = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k === 'onclick') e.addEventListener('click', v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  function fill(tbody, rows) { tbody.replaceChildren(...rows); }
  function bytes(n) {
    if (n === null || n === undefined) return '–';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0, v = Number(n);
    while (Math.abs(v) >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return (i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + u[i];
  }
  function num(n) { return n === null || n === undefined ? '–' : Number(n).toLocaleString(I18n.lang()); }
  function ago(iso) {
    if (!iso) return t('never');
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 90) return Math.round(s) + t('ago_s');
    if (s < 5400) return Math.round(s / 60) + t('ago_m');
    if (s < 172800) return Math.round(s / 3600) + t('ago_h');
    return Math.round(s / 86400) + t('ago_d');
  }
  function when(iso) { return el('span', { title: iso || '' }, ago(iso)); }
  function statusBadge(status) {
    return el('span', { class: 'badge status-' + status, dataset: { status } }, t('status_' + status));
  }
  function duration(s) {
    if (s === null || s === undefined) return '–';
    if (s < 120) return Math.round(s) + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    if (s < 172800) return (s / 3600).toFixed(1) + ' h';
    return (s / 86400).toFixed(1) + ' d';
  }

  // ---- API -----------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, body) { super((body && body.message) || ('HTTP ' + status)); this.status = status; }
  }
  async function api(path, opts) {
    const res = await fetch(path, {
      method: (opts && opts.method) || 'GET',
      headers: Object.assign({ Authorization: 'Bearer ' + token, Accept: 'application/json' },
                             opts && opts.body ? { 'Content-Type': 'application/json' } : {}),
      body: opts && opts.body ? JSON.stringify(opts.body) : undefined,
      cache: 'no-store',
    });
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (!res.ok) throw new ApiError(res.status, body);
    return body;
  }
  // Alerts belong to the alerts engine, which may be off (404): that is not an error here.
  async function loadAlerts() {
    try { return { state: 'ok', data: await api('/api/v1/alerts?state=active') }; }
    catch (e) {
      if (e.status === 404) return { state: 'not_configured' };
      if (e.status === 403) return { state: 'forbidden' };
      return { state: 'error', message: e.message };
    }
  }

  // ---- token and page state ------------------------------------------------------------------
  function readHash() {
    const h = new URLSearchParams(location.hash.replace(/^#/, ''));
    const out = { token: h.get('token'), agent: h.get('agent') };
    if (out.token) {
      // Never leave the token in the address bar or the history.
      h.delete('token');
      const rest = h.toString();
      history.replaceState(null, '', location.pathname + location.search + (rest ? '#' + rest : ''));
    }
    return out;
  }
  function showLogin(message) {
    $('main').hidden = true;
    $('logout').hidden = true;
    $('login').hidden = false;
    $('login-error').hidden = !message;
    $('login-error').textContent = message || '';
    document.body.dataset.state = 'login';
  }
  function setToken(tok) {
    token = tok;
    try { if (tok) sessionStorage.setItem(TOKEN_KEY, tok); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* ignore */ }
  }

  // ---- loading -------------------------------------------------------------------------------
  async function load() {
    if (!token) return showLogin();
    try {
      const [inst, agents, uploads, alerts] = await Promise.all([
        api('/api/v1/institutions'), api('/api/v1/agents'), api('/api/v1/stats/uploads?days=7'), loadAlerts()]);
      last = { inst: inst.institutions, agents: agents.agents, uploads, alerts, at: new Date().toISOString() };
      $('login').hidden = true;
      $('main').hidden = false;
      $('logout').hidden = false;
      $('load-error').hidden = true;
      render();
      document.body.dataset.state = 'ready';
    } catch (e) {
      if (e.status === 401) { setToken(null); return showLogin(t('token_rejected')); }
      if (e.status === 403) { setToken(null); return showLogin(t('token_not_ops')); }
      $('load-error').hidden = false;
      $('load-error').textContent = t('load_failed') + e.message;
      document.body.dataset.state = 'error';
    }
  }

  async function openDetail(agent, hours) {
    hours = hours || (detail && detail.agent === agent ? detail.hours : 24);
    try {
      const [info, history] = await Promise.all([
        api('/api/v1/agents/' + encodeURIComponent(agent)),
        api('/api/v1/agents/' + encodeURIComponent(agent) + '/history?hours=' + hours)]);
      detail = { agent, hours, info, history };
      renderDetail();
      document.body.dataset.detail = agent;
    } catch (e) {
      $('load-error').hidden = false;
      $('load-error').textContent = t('load_failed') + e.message;
    }
  }

  // ---- rendering -----------------------------------------------------------------------------
  function render() {
    if (!last) return;
    const { inst, agents, uploads, alerts } = last;
    const counts = { healthy: 0, degraded: 0, offline: 0 };
    for (const a of agents) counts[a.status] = (counts[a.status] || 0) + 1;
    $('count-institutions').textContent = inst.length;
    $('count-agents').textContent = agents.length;
    $('count-healthy').textContent = counts.healthy;
    $('count-degraded').textContent = counts.degraded;
    $('count-offline').textContent = counts.offline;
    $('updated').textContent = t('updated') + new Date(last.at).toLocaleTimeString(I18n.lang());

    const lastUpload = {};
    for (const u of uploads.agents) lastUpload[u.agent] = u.last_upload;
    const week = {};
    for (const d of uploads.daily) {
      const w = week[d.institution] || (week[d.institution] = { items: 0, bytes: 0 });
      w.items += d.items; w.bytes += d.bytes;
    }
    renderAlerts(alerts);
    fill($('institutions-table').tBodies[0], inst.map((i) => el('tr', { dataset: { institution: i.id } },
      el('td', { class: 'mono' }, i.id), el('td', null, i.name), el('td', { class: 'num' }, i.agents),
      el('td', null,
        i.healthy ? el('span', { class: 'badge status-healthy' }, t('status_healthy') + ' ' + i.healthy) : null, ' ',
        i.degraded ? el('span', { class: 'badge status-degraded' }, t('status_degraded') + ' ' + i.degraded) : null, ' ',
        i.offline ? el('span', { class: 'badge status-offline' }, t('status_offline') + ' ' + i.offline) : null),
      el('td', { class: 'num' }, num((week[i.id] || {}).items || 0)),
      el('td', { class: 'num' }, bytes((week[i.id] || {}).bytes || 0)),
      el('td', null, when(i.last_upload)))));

    fill($('agents-table').tBodies[0], agents.map((a) => {
      const free = a.spool_free_bytes, total = a.spool_total_bytes;
      const pct = total ? Math.round((100 * free) / total) : null;
      const row = el('tr', { class: 'clickable', dataset: { agent: a.agent, status: a.status },
                             onclick: () => openDetail(a.agent) },
        el('td', { class: 'mono' }, a.agent), el('td', { class: 'mono' }, a.institution),
        el('td', null, statusBadge(a.status)), el('td', { class: 'num' }, bytes(a.backlog_bytes)),
        el('td', null, when(a.last_seen)), el('td', null, when(lastUpload[a.agent])),
        el('td', { class: 'num' + (pct !== null && pct < 10 ? ' low' : '') },
          free === null ? '–' : bytes(free) + (pct !== null ? ' (' + pct + '%)' : '')),
        el('td', { class: 'num' }, a.errors === null ? '–' : num(a.errors)),
        el('td', { class: 'reasons' }, (a.reasons || []).map((r) => I18n.reason(r)).join('; ')));
      if (detail && detail.agent === a.agent) row.classList.add('selected');
      return row;
    }));
    renderUploads(uploads, inst);
    if (detail) renderDetail();
  }

  function renderAlerts(alerts) {
    const note = $('alerts-note'), table = $('alerts-table');
    const active = alerts.state === 'ok' ? (alerts.data.active || []) : [];
    $('count-alerts').textContent = alerts.state === 'ok' ? active.length : '–';
    table.hidden = !active.length;
    note.hidden = active.length > 0;
    note.dataset.state = alerts.state;
    if (alerts.state === 'not_configured') note.textContent = t('alerts_not_configured');
    else if (alerts.state === 'forbidden') note.textContent = t('alerts_forbidden');
    else if (alerts.state === 'error') note.textContent = t('load_failed') + alerts.message;
    else note.textContent = t('alerts_none');
    fill(table.tBodies[0], active.map((a) => el('tr', { dataset: { alert: a.id, severity: a.severity } },
      el('td', null, el('span', { class: 'badge sev-' + a.severity }, t('sev_' + a.severity))),
      el('td', { class: 'mono' }, a.rule), el('td', { class: 'mono' }, a.institution || ''),
      el('td', { class: 'mono' }, a.agent || ''), el('td', null, a.message),
      el('td', null, when(a.first_fired_at)),
      el('td', null, a.acked_at
        ? el('span', { class: 'muted', title: a.acked_at }, t('acked_by') + (a.acked_by || ''))
        : el('button', { type: 'button', class: 'ack', onclick: (ev) => ack(a.id, ev.target) }, t('ack'))))));
  }

  async function ack(id, button) {
    button.disabled = true;
    try { await api('/api/v1/alerts/' + encodeURIComponent(id) + '/ack', { method: 'POST', body: {} }); }
    catch (e) { button.disabled = false; button.title = e.message; return; }
    await load();
  }

  function renderUploads(uploads, inst) {
    const days = uploads.day_list;
    const ids = inst.map((i) => i.id);
    for (const d of uploads.daily) if (!ids.includes(d.institution)) ids.push(d.institution);
    const cell = {};
    for (const d of uploads.daily) cell[d.institution + '|' + d.day] = d;
    const series = ids.map((id, k) => ({ label: id, color: Charts.palette(k),
      values: days.map((day) => (cell[id + '|' + day] || {}).items || 0) }));
    Charts.bars($('chart-uploads'), { categories: days.map((d) => d.slice(5)), series, emptyText: t('no_data') });
    const table = $('uploads-table');
    fill(table.tHead, [el('tr', null, el('th', null, t('col_institution')),
      ...days.map((d) => el('th', { class: 'num' }, d.slice(5))), el('th', { class: 'num' }, t('total')))]);
    fill(table.tBodies[0], ids.map((id) => {
      let total = 0, totalBytes = 0;
      const cells = days.map((day) => {
        const c = cell[id + '|' + day];
        total += c ? c.items : 0; totalBytes += c ? c.bytes : 0;
        return el('td', { class: 'num', title: c ? bytes(c.bytes) : '' }, c ? num(c.items) : '0');
      });
      return el('tr', { dataset: { institution: id } }, el('td', { class: 'mono' }, id), ...cells,
        el('td', { class: 'num', title: bytes(totalBytes) }, num(total)));
    }));
  }

  function renderDetail() {
    const { agent, hours, info, history } = detail;
    $('detail').hidden = false;
    Object.assign($('detail').dataset, { agent, hours, points: history.points.length });
    $('detail-agent').textContent = agent + ' (' + info.institution + ')';
    document.querySelectorAll('.range-btn').forEach((b) => b.classList.toggle('active', Number(b.dataset.hours) === hours));
    const latest = info.latest || {};
    const queue = latest.queue || {};
    const facts = [
      [t('col_status'), statusBadge(info.status)],
      [t('fact_version'), info.version || '–'],
      [t('fact_uptime'), duration(latest.uptime_s)],
      [t('fact_queue'), Object.entries(queue).map(([k, v]) => k + ' ' + v).join(', ') || '–'],
      [t('col_backlog'), bytes(info.backlog_bytes)],
      [t('fact_oldest'), duration(latest.oldest_pending_age_seconds)],
      [t('fact_spool'), bytes(info.spool_free_bytes) + ' / ' + bytes(info.spool_total_bytes)],
      [t('fact_rss'), bytes(latest.process && latest.process.rss_bytes)],
      [t('fact_clock'), info.clock_offset_s === null ? '–' : info.clock_offset_s.toFixed(1) + ' s'],
      [t('col_last_seen'), when(info.last_seen)],
    ];
    $('detail-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', null, k), el('dd', null, v)]));
    fill($('sources-table').tBodies[0], (latest.sources || []).map((s) => el('tr', { dataset: { source: s.name } },
      el('td', { class: 'mono' }, s.name), el('td', null, s.kind || ''), el('td', null, when(s.last_scan_at)),
      el('td', { class: s.last_error ? 'error' : 'muted' }, s.last_error || '–'))));
    const errs = Object.entries(latest.errors || {});
    fill($('errors-table').tBodies[0], errs.length
      ? errs.map(([k, v]) => el('tr', null, el('td', { class: 'mono' }, k), el('td', { class: 'num' }, num(v))))
      : [el('tr', null, el('td', { colspan: 2, class: 'muted' }, t('no_errors')))]);
    const pts = history.points.map((p) => Object.assign({ ms: Date.parse(p.t) }, p));
    const t0 = Date.parse(history.since), t1 = Date.parse(history.until);
    const gapMs = 3 * history.bucket_seconds * 1000;
    Charts.line($('chart-throughput'), { t0, t1, gapMs, emptyText: t('no_data'), series: [
      { label: t('series_bytes'), color: '#38a169', axis: 'right', dash: true, points: pts.map((p) => [p.ms, p.uploaded_bytes]), format: bytes },
      { label: t('series_items'), color: '#2b6cb0', points: pts.map((p) => [p.ms, p.uploaded_items]), format: num },
      { label: t('series_errors'), color: '#e53e3e', points: pts.map((p) => [p.ms, p.errors]), format: num }] });
    Charts.line($('chart-backlog'), { t0, t1, gapMs, emptyText: t('no_data'), series: [
      { label: t('series_backlog'), color: '#dd6b20', points: pts.map((p) => [p.ms, p.backlog_bytes]), format: bytes },
      { label: t('series_disk'), color: '#805ad5', axis: 'right', points: pts.map((p) => [p.ms, p.spool_free_bytes]), format: bytes }] });
  }

  // ---- wiring --------------------------------------------------------------------------------
  function start() {
    I18n.apply();
    const fromHash = readHash();
    const wanted = new URLSearchParams(location.search).get('agent') || fromHash.agent;
    let saved = null;
    try { saved = sessionStorage.getItem(TOKEN_KEY); } catch (e) { saved = null; }
    setToken(fromHash.token || saved);
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = $('token-input').value.trim();
      $('token-input').value = '';
      if (!v) return;
      setToken(v);
      load();
    });
    $('logout').addEventListener('click', () => { setToken(null); last = null; detail = null; showLogin(); });
    $('refresh').addEventListener('click', () => { load(); if (detail) openDetail(detail.agent); });
    $('lang-switch').addEventListener('click', () => {
      I18n.setLang(I18n.lang() === 'en' ? 'zh-CN' : 'en');
      render();
      if (!last && $('login-error').textContent) showLogin();
    });
    $('detail-close').addEventListener('click', () => { detail = null; $('detail').hidden = true; delete document.body.dataset.detail; render(); });
    document.querySelectorAll('.range-btn').forEach((b) =>
      b.addEventListener('click', () => detail && openDetail(detail.agent, Number(b.dataset.hours))));
    window.addEventListener('resize', () => { if (last) render(); });
    load().then(() => { if (wanted && token && last) return openDetail(wanted, 24); });
    timer = setInterval(() => { load(); if (detail) openDetail(detail.agent); }, REFRESH_MS);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
