// error-render preview: the catalogue and the playground.
//
// Every piece of text that comes from the server (templates, messages,
// rendered bodies, errors) reaches the DOM through textContent or
// createTextNode, never as markup, so a template or a message holding
// <script> is shown, not run. The page's CSP forbids inline script as well.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  /** An element with a class and text (text set as text, never as HTML). */
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  const state = {
    data: null,
    shown: { generation: null, failedAt: null },
    filter: 'all',
    rows: [],
    live: new Map(), // file name -> text in the live set
    files: new Map(), // file name -> text in the playground
    current: null,
    staleGeneration: null,
    seq: 0,
    timer: null,
    inflight: null,
    loading: null,
    loadAgain: false,
    formatView: 'gateway', // the catalogue's format view last chosen
  };

  // ---------------------------------------------------------------- highlight

  const JSON_TOKENS = /("(?:[^"\\\n]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b|([{}[\],:])/g;
  const XML_TOKENS = /(<!--[\s\S]*?-->)|(<!\[CDATA\[[\s\S]*?\]\]>)|(<\?[\s\S]*?\?>)|(<\/?[A-Za-z_:][^\s/>]*)([^>]*?)(\/?>)/g;
  const XML_ATTRS = /([^\s=]+)(\s*=\s*)?("[^"]*"|'[^']*')?/g;
  const HIGHLIGHT_MAX = 200000;

  function span(cls, text) {
    return el('span', cls, text);
  }

  function pushText(out, text) {
    if (text) out.push(document.createTextNode(text));
  }

  function jsonNodes(text) {
    const out = [];
    let last = 0;
    for (const m of text.matchAll(JSON_TOKENS)) {
      pushText(out, text.slice(last, m.index));
      if (m[1] !== undefined) {
        out.push(span(m[2] ? 't-key' : 't-str', m[1]));
        if (m[2]) out.push(span('t-punct', m[2]));
      } else if (m[3] !== undefined) {
        out.push(span('t-num', m[3]));
      } else if (m[4] !== undefined) {
        out.push(span('t-lit', m[4]));
      } else {
        out.push(span('t-punct', m[5]));
      }
      last = m.index + m[0].length;
    }
    pushText(out, text.slice(last));
    return out;
  }

  function xmlAttrNodes(text, out) {
    let last = 0;
    for (const m of text.matchAll(XML_ATTRS)) {
      if (!m[0]) continue;
      pushText(out, text.slice(last, m.index));
      out.push(span('t-attr', m[1]));
      if (m[2]) out.push(span('t-punct', m[2]));
      if (m[3]) out.push(span('t-str', m[3]));
      last = m.index + m[0].length;
    }
    pushText(out, text.slice(last));
  }

  function xmlNodes(text) {
    const out = [];
    let last = 0;
    for (const m of text.matchAll(XML_TOKENS)) {
      pushText(out, text.slice(last, m.index));
      if (m[1] !== undefined || m[3] !== undefined) {
        out.push(span('t-comment', m[0]));
      } else if (m[2] !== undefined) {
        out.push(span('t-str', m[2]));
      } else {
        out.push(span('t-tag', m[4]));
        xmlAttrNodes(m[5], out);
        out.push(span('t-tag', m[6]));
      }
      last = m.index + m[0].length;
    }
    pushText(out, text.slice(last));
    return out;
  }

  /** Shows `text` in `pre`, highlighted as JSON or XML by content type. */
  function showBody(pre, text, contentType) {
    if (text === null || text === undefined) {
      pre.replaceChildren();
      return;
    }
    if (text.length > HIGHLIGHT_MAX) {
      pre.replaceChildren(document.createTextNode(text));
      return;
    }
    const type = contentType || '';
    if (/xml/i.test(type)) pre.replaceChildren(...xmlNodes(text));
    else if (/json/i.test(type)) pre.replaceChildren(...jsonNodes(text));
    else pre.replaceChildren(document.createTextNode(text));
  }

  function showHeaders(dl, headers) {
    const items = [];
    for (const [name, value] of Object.entries(headers || {})) {
      items.push(el('dt', null, name), el('dd', null, value));
    }
    dl.replaceChildren(...items);
  }

  function outcomeClass(outcome) {
    if (outcome === 'ok') return 'pill pill-ok';
    if (outcome === 'load' || outcome === 'error') return 'pill pill-error';
    return 'pill pill-warn';
  }

  // ---------------------------------------------------------------- server

  async function api(url, options) {
    const response = await fetch(url, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      ...options,
    });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const message = body && body.error ? body.error.message : `HTTP ${response.status}`;
      const err = new Error(message);
      err.status = response.status;
      throw err;
    }
    return body;
  }

  /** Loads the catalogue; a call while loading runs once more afterwards. */
  async function loadCatalogue() {
    if (state.loading) {
      state.loadAgain = true;
      return state.loading;
    }
    state.loading = (async () => {
      do {
        state.loadAgain = false;
        const profile = $('catalogue-profile').value;
        const url = '/preview/api/catalogue' + (profile ? `?profile=${encodeURIComponent(profile)}` : '');
        try {
          const data = await api(url);
          state.data = data;
          showCatalogue(data);
        } catch (e) {
          showLoadProblem(e);
        }
      } while (state.loadAgain);
      state.loading = null;
    })();
    return state.loading;
  }

  function showLoadProblem(e) {
    $('load-error').hidden = false;
    $('load-error-text').textContent = e.message;
  }

  function showCatalogue(data) {
    $('load-error').hidden = true;
    state.shown.generation = data.generation;
    state.shown.failedAt = data.last_reload_error ? data.last_reload_error.at : null;
    $('generation').textContent = String(data.generation);
    document.documentElement.dataset.generation = String(data.generation);
    showHealth(data);
    showEntries(data.entries);
    fillEntryChoice(data.entries);
    takeLiveFiles(data);
    document.documentElement.dataset.ready = '1';
  }

  // ---------------------------------------------------------------- health

  function showHealth(data) {
    const failure = data.last_reload_error;
    $('reload-error').hidden = !failure;
    $('reload-error-text').textContent = failure ? `${failure.at}\n${failure.message}` : '';

    const findings = Array.isArray(data.findings) ? data.findings : [];
    const warnings = (data.warnings || []).map((w) => ({ severity: 'warning', rule: 'load', file: null, message: w }));
    const all = warnings.concat(findings);
    const errors = all.filter((f) => f.severity === 'error').length;
    const rest = all.length - errors;
    const summary = $('findings-summary');
    if (all.length === 0) {
      summary.textContent = 'no findings';
      summary.className = 'pill pill-ok';
    } else {
      const parts = [];
      if (errors) parts.push(`${errors} error${errors === 1 ? '' : 's'}`);
      if (rest) parts.push(`${rest} warning${rest === 1 ? '' : 's'}`);
      summary.textContent = parts.join(', ');
      summary.className = errors ? 'pill pill-error' : 'pill pill-warn';
    }
    if (errors) $('findings').open = true;
    const items = all.map((f) => {
      const li = el('li', 'finding');
      li.dataset.severity = f.severity;
      li.append(el('span', f.severity === 'error' ? 'pill pill-error' : 'pill pill-warn', f.severity));
      let where = f.file || '.';
      if (f.line) where += `:${f.line}${f.column ? `:${f.column}` : ''}`;
      li.append(el('span', 'where', `${where} [${f.rule}]`));
      li.append(el('span', 'message', f.message));
      return li;
    });
    $('findings-list').replaceChildren(...items);
  }

  // ---------------------------------------------------------------- catalogue

  function fillRender(box, env) {
    const meta = box.querySelector('.render-meta');
    const parts = [];
    if (env.status !== null && env.status !== undefined) parts.push(`status ${env.status}`);
    parts.push(env.template ? `from ${env.template}` : 'no template');
    meta.replaceChildren(
      document.createTextNode(`${parts.join(' · ')} `),
      el('span', outcomeClass(env.outcome), env.outcome),
    );
    if (env.error) meta.append(el('span', 'render-error', ` ${env.error}`));
    showHeaders(box.querySelector('.headers'), env.headers);
    const contentType = env.headers ? env.headers['content-type'] : '';
    showBody(box.querySelector('.body'), env.body, contentType);
  }

  function entryRow(entry, open) {
    const li = $('entry-template').content.firstElementChild.cloneNode(true);
    li.dataset.id = entry.id;
    li.dataset.kind = entry.kind;
    li.dataset.code = String(entry.code);
    const code = li.querySelector('.code');
    code.textContent = String(entry.code);
    code.classList.add(`c${Math.floor(entry.code / 100)}`);
    li.querySelector('.entry-message').textContent = entry.message;
    li.querySelector('.entry-id').textContent = entry.id;
    li.querySelector('.entry-action').textContent = entry.action || '';
    const badges = li.querySelector('.badges');
    if (entry.kind === 'override_id') badges.append(el('span', 'pill', 'gateway ID'));
    if (entry.default_for_code) badges.append(el('span', 'pill', `default for ${entry.code}`));
    if (entry.overridden) {
      li.dataset.overridden = '1';
      const o = entry.overridden;
      badges.append(el('span', 'pill pill-warn', `overridden by ${o.by}: ${o.code} ${o.message}`));
    }
    const own = OWN_FORMATS.filter((f) => entry[f]);
    for (const kind of ['json', 'xml', ...own]) {
      const env = entry[kind];
      if (env && env.outcome !== 'ok') {
        badges.append(el('span', outcomeClass(env.outcome), `${kind}: ${env.outcome}`));
      }
      fillRender(li.querySelector(`.render-${kind}`), env || {});
    }
    setupFormatTabs(li, entry, own);
    const details = li.querySelector('details');
    details.open = open;
    li.querySelector('.try').addEventListener('click', () => tryInPlayground(entry));
    const haystack = [entry.code, entry.message, entry.title, entry.action, entry.id]
      .filter(Boolean)
      .join('\n')
      .toLowerCase();
    return { li, entry, haystack };
  }

  /** error-render's own formats, shown when the service enables them. */
  const OWN_FORMATS = ['html', 'text', 'problem'];
  const FORMAT_LABELS = { gateway: 'JSON & XML', html: 'HTML', text: 'Text', problem: 'Problem' };

  /** The frame route's query for an entry, as the catalogue rendered it. */
  function frameQuery(entry) {
    const q = new URLSearchParams();
    if (entry.kind === 'override_id') q.set('id', entry.id);
    else {
      q.set('code', String(entry.code));
      q.set('message', entry.message);
    }
    const profile = $('catalogue-profile').value;
    if (profile) q.set('profile', profile);
    return q.toString();
  }

  /** One button per view (the gateway's two formats, then each other
   * enabled format); the HTML view loads its sandboxed frame when shown. */
  function setupFormatTabs(li, entry, own) {
    const tabs = li.querySelector('.format-tabs');
    const views = ['gateway', ...own];
    const show = (view) => {
      for (const b of tabs.children) b.setAttribute('aria-pressed', String(b.dataset.view === view));
      for (const box of li.querySelectorAll('.render')) box.hidden = box.dataset.view !== view;
      if (view === 'html') {
        const frame = li.querySelector('.html-frame');
        const src = `/preview/frame?${frameQuery(entry)}`;
        if (frame.getAttribute('src') !== src) frame.setAttribute('src', src);
      }
      state.formatView = view;
    };
    tabs.replaceChildren(
      ...views.map((view) => {
        const b = el('button', 'format-tab', FORMAT_LABELS[view]);
        b.type = 'button';
        b.dataset.view = view;
        b.addEventListener('click', () => show(view));
        return b;
      }),
    );
    tabs.hidden = views.length < 2;
    // Keep the view last chosen while the list is redrawn (a reload).
    show(views.includes(state.formatView) ? state.formatView : 'gateway');
  }

  function showEntries(entries) {
    const open = new Set(
      Array.from(document.querySelectorAll('#entries li.entry details[open]'), (d) => d.closest('li').dataset.id),
    );
    state.rows = entries.map((e) => entryRow(e, open.has(e.id)));
    $('entries').replaceChildren(...state.rows.map((r) => r.li));
    applyFilter();
  }

  function matchesFilter(entry) {
    switch (state.filter) {
      case 'all':
        return true;
      case 'override_id':
        return entry.kind === 'override_id';
      case 'overridden':
        return Boolean(entry.overridden);
      default:
        return String(entry.code).startsWith(state.filter);
    }
  }

  function applyFilter() {
    const words = $('search').value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of state.rows) {
      const visible = matchesFilter(row.entry) && words.every((w) => row.haystack.includes(w));
      row.li.hidden = !visible;
      if (visible) shown += 1;
    }
    $('entry-count').textContent = `${shown} of ${state.rows.length} entries`;
    $('no-match').hidden = shown !== 0 || state.rows.length === 0;
  }

  function setupCatalogue() {
    $('search').addEventListener('input', applyFilter);
    for (const chip of document.querySelectorAll('.chip')) {
      chip.addEventListener('click', () => {
        state.filter = chip.dataset.filter;
        for (const c of document.querySelectorAll('.chip')) {
          c.setAttribute('aria-pressed', String(c === chip));
        }
        applyFilter();
      });
    }
    $('catalogue-profile').addEventListener('change', loadCatalogue);
  }

  // ---------------------------------------------------------------- playground

  const STARTERS = {
    json: '{\n    "error": "{{.Message}}"\n}',
    xml: '<?xml version = "1.0" encoding = "UTF-8"?>\n<error>{{.Message}}</error>\n',
    html: '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{{ StatusCode }} {{ Title }}</title></head>\n<body>\n<h1>{{ Title }}</h1>\n<p>{{ Message }}</p>\n</body>\n</html>\n',
    tera: '{{ StatusCode }} {{ Title }}\n{{ Message }}\n',
  };

  /** A new file's first text, by its name. */
  function starter(name) {
    if (name.endsWith('.html.tera')) return STARTERS.html;
    if (name.endsWith('.tera')) return STARTERS.tera;
    return name.endsWith('.xml') ? STARTERS.xml : STARTERS.json;
  }

  function sameFiles(a, b) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (b.get(k) !== v) return false;
    return true;
  }

  function isDirty() {
    return !sameFiles(state.files, state.live);
  }

  function takeLiveFiles(data) {
    // `text` is null for a visitor who may not read the templates (no token
    // configured, and not on this host): the playground starts empty then.
    const live = new Map(data.templates.files.map((f) => [f.name, f.text ?? '']));
    const wasDirty = state.live.size > 0 && isDirty();
    const changed = !sameFiles(live, state.live);
    state.live = live;
    if (!wasDirty) {
      state.files = new Map(live);
      state.staleGeneration = null;
      showFiles();
      if (changed) scheduleRender(0);
    } else if (changed) {
      state.staleGeneration = data.generation;
    }
    showDirty();
  }

  function showDirty() {
    $('pg-dirty').hidden = !isDirty();
    const stale = $('pg-stale');
    stale.hidden = state.staleGeneration === null;
    stale.textContent =
      state.staleGeneration === null
        ? ''
        : `The live templates changed (generation ${state.staleGeneration}). "Reset to live" loads them; your edits are kept until then.`;
  }

  function showFiles() {
    const names = Array.from(state.files.keys()).sort();
    if (!state.current || !state.files.has(state.current)) {
      state.current = names.includes('error.json') ? 'error.json' : names[0] || null;
    }
    const select = $('pg-file');
    select.replaceChildren(
      ...names.map((n) => {
        const o = el('option', null, n);
        o.value = n;
        return o;
      }),
    );
    if (state.current) select.value = state.current;
    const editor = $('pg-editor');
    const text = state.current ? state.files.get(state.current) : '';
    if (editor.value !== text) editor.value = text;
    editor.disabled = !state.current;
    showPosition();
  }

  function fillEntryChoice(entries) {
    const select = $('pg-entry');
    if (select.dataset.filled) return;
    select.dataset.filled = '1';
    const published = el('optgroup');
    published.label = 'Published entries';
    const ids = el('optgroup');
    ids.label = 'Gateway error IDs';
    for (const e of entries) {
      const o = el('option', null, `${e.code} ${e.message}`);
      o.value = e.id;
      (e.kind === 'override_id' ? ids : published).append(o);
    }
    select.append(published, ids);
    // The rule tester takes published entries (each with the flag the
    // gateway sets for it).
    for (const e of entries) {
      if (e.kind === 'override_id') continue;
      const o = el('option', null, `${e.code} ${e.message}`);
      o.value = e.id;
      $('rt-entry').append(o);
    }
  }

  function entryById(id) {
    return state.data ? state.data.entries.find((e) => e.id === id) : undefined;
  }

  function chooseEntry(id) {
    const entry = entryById(id);
    if (!entry) return;
    $('pg-code').value = String(entry.code);
    $('pg-message').value = entry.message;
  }

  function tryInPlayground(entry) {
    $('pg-entry').value = entry.id;
    chooseEntry(entry.id);
    location.hash = '#playground';
    scheduleRender(0);
  }

  function scheduleRender(delay = 150) {
    clearTimeout(state.timer);
    state.timer = setTimeout(renderPlayground, delay);
  }

  async function renderPlayground() {
    const seq = ++state.seq;
    if (state.inflight) state.inflight.abort();
    const controller = new AbortController();
    state.inflight = controller;
    const request = {
      templates: Object.fromEntries(state.files),
      code: Number($('pg-code').value),
      content_type: $('pg-content-type').value,
    };
    const format = $('pg-format').value;
    if (format) request.format = format;
    const message = $('pg-message').value;
    if (message !== '') request.message = message;
    const profile = $('pg-profile').value;
    if (profile) request.profile = profile;
    try {
      const env = await api('/preview/render', {
        method: 'POST',
        body: JSON.stringify(request),
        signal: controller.signal,
      });
      if (seq === state.seq) showResult(env);
    } catch (e) {
      if (e.name === 'AbortError' || seq !== state.seq) return;
      showResult({ status: null, headers: {}, body: null, template: null, outcome: 'error', error: e.message });
    }
  }

  function problemsOf(env) {
    if (Array.isArray(env.problems)) return env.problems;
    // An execution error reads `template:line: message`.
    const m = env.error && env.outcome === 'exec' ? /^([^:\s]+):(\d+):/.exec(env.error) : null;
    return m ? [{ file: m[1], line: Number(m[2]), column: null, message: env.error }] : [];
  }

  function showResult(env) {
    $('pg-status').textContent = env.status === null || env.status === undefined ? '–' : String(env.status);
    const outcome = $('pg-outcome');
    outcome.textContent = env.outcome;
    outcome.className = outcomeClass(env.outcome);
    $('pg-template').textContent = env.template ? `from ${env.template}` : '';
    showHeaders($('pg-headers'), env.headers);
    showBody($('pg-body'), env.body, env.headers ? env.headers['content-type'] : '');
    // An HTML page from the playground's templates: rendered in the same
    // sandboxed frame as the catalogue's (no scripts, its own strict CSP),
    // the source below it.
    const frame = $('pg-frame');
    frame.hidden = !env.frame;
    if (env.frame && frame.getAttribute('src') !== env.frame) frame.setAttribute('src', env.frame);
    $('pg-error').hidden = !env.error;
    $('pg-error-text').textContent = env.error || '';
    const items = problemsOf(env)
      .filter((p) => p.line)
      .map((p) => {
        const li = el('li');
        const where = `${p.file}:${p.line}${p.column ? `:${p.column}` : ''}`;
        const b = el('button', null, `Go to ${where}`);
        b.type = 'button';
        b.addEventListener('click', () => goTo(p.file, p.line, p.column || 1));
        li.append(b);
        return li;
      });
    $('pg-problems').replaceChildren(...items);
    $('pg-result').dataset.seq = String(state.seq);
  }

  function goTo(file, line, column) {
    if (state.files.has(file)) {
      state.current = file;
      showFiles();
    }
    const editor = $('pg-editor');
    const lines = editor.value.split('\n');
    let offset = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i += 1) offset += lines[i].length + 1;
    offset = Math.min(offset + column - 1, editor.value.length);
    editor.focus();
    editor.setSelectionRange(offset, offset);
    const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 20;
    editor.scrollTop = Math.max(0, (line - 3) * lineHeight);
    showPosition();
  }

  function showPosition() {
    const editor = $('pg-editor');
    const before = editor.value.slice(0, editor.selectionStart);
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    $('pg-pos').textContent = `Ln ${line}, Col ${column}`;
  }

  function setupPlayground() {
    const editor = $('pg-editor');
    editor.addEventListener('input', () => {
      if (!state.current) return;
      state.files.set(state.current, editor.value);
      showDirty();
      showPosition();
      scheduleRender();
    });
    for (const ev of ['keyup', 'click', 'select']) editor.addEventListener(ev, showPosition);
    $('pg-file').addEventListener('change', (e) => {
      state.current = e.target.value;
      showFiles();
    });
    $('pg-add').addEventListener('click', () => {
      const input = $('pg-new-name');
      const name = input.value.trim();
      if (!/^(error[^/\\]*|[^/\\]+\.tera)$/.test(name)) {
        showResult({ status: null, headers: {}, body: null, template: null, outcome: 'error', error: 'A template name starts with "error" (error_429.json, error.xml: the gateway loads only those) or ends in ".tera" (404.html.tera, 4xx.txt.tera: error-render\'s own pages).' });
        return;
      }
      if (!state.files.has(name)) state.files.set(name, starter(name));
      state.current = name;
      input.value = '';
      showFiles();
      showDirty();
      scheduleRender(0);
    });
    $('pg-remove').addEventListener('click', () => {
      if (!state.current || state.files.size <= 1) return;
      state.files.delete(state.current);
      state.current = null;
      showFiles();
      showDirty();
      scheduleRender(0);
    });
    $('pg-reset').addEventListener('click', () => {
      state.files = new Map(state.live);
      state.staleGeneration = null;
      showFiles();
      showDirty();
      scheduleRender(0);
    });
    $('pg-entry').addEventListener('change', (e) => {
      chooseEntry(e.target.value);
      scheduleRender(0);
    });
    for (const id of ['pg-code', 'pg-message']) {
      $(id).addEventListener('input', () => {
        $('pg-entry').value = '';
        scheduleRender();
      });
    }
    for (const id of ['pg-content-type', 'pg-format', 'pg-profile']) {
      $(id).addEventListener('change', () => scheduleRender(0));
    }
    $('pg-message').placeholder = 'default message for the code';
  }

  // ---------------------------------------------------------------- views

  function showView() {
    const view = location.hash === '#playground' ? 'playground' : location.hash === '#rules' ? 'rules' : 'catalogue';
    for (const name of ['catalogue', 'playground', 'rules']) {
      $(`${name}-view`).hidden = name !== view;
      $(`tab-${name}`).removeAttribute('aria-current');
    }
    $(`tab-${view}`).setAttribute('aria-current', 'page');
    if (view === 'rules') loadRules();
  }

  // ---------------------------------------------------------------- rules

  /** The rule that answered, or why none did. */
  function matchText(matched, why) {
    if (matched) return `rule ${matched.scope} "${matched.key}"[${matched.index}]`;
    return why || 'no rule';
  }

  async function loadRules() {
    const apiId = $('rules-api').value;
    let data;
    try {
      data = await api(`/preview/api/rules${apiId ? `?api=${encodeURIComponent(apiId)}` : ''}`);
    } catch (e) {
      $('rules-state').textContent = e.message;
      return;
    }
    $('rules-state').textContent = `generation ${data.generation}`;
    $('rules-none').hidden = Boolean(data.active);
    const select = $('rules-api');
    if (select.options.length === 1) {
      for (const a of data.apis || []) select.append(new Option(a.id + (a.disabled ? ' (rules off)' : ''), a.id));
    }
    const chosen = (data.apis || []).find((a) => a.id === apiId);
    const rules = [...(chosen ? chosen.rules : []), ...(data.gateway || [])];
    $('rules-list').replaceChildren(...rules.map((r) => {
      const li = el('li', 'rule');
      li.append(el('code', 'rule-key', `${r.scope} "${r.key}"[${r.index}]`), ' ', el('span', 'pill', r.slot));
      if (r.match) li.append(' ', el('code', 'rule-match', JSON.stringify(r.match)));
      if (r.response) li.append(' → ', el('code', 'rule-response', JSON.stringify(r.response)));
      return li;
    }));
    $('rules-entries').replaceChildren(...(data.entries || []).map((e) => {
      const li = el('li', 'rule-entry');
      const r = e.response;
      li.dataset.id = e.id;
      li.append(
        el('span', 'code', String(e.code)),
        ' ', el('code', 'entry-id', e.id),
        ' ', el('span', 'pill', e.flag || 'no flag'),
        ' → ', el('span', 'status', r.outcome === 'no_response' ? 'no response' : String(r.status)),
        ' ', el('span', outcomeClass(r.outcome === 'ok' ? 'ok' : 'exec'), r.route),
        ' ', el('span', 'muted small rule-why', matchText(r.matched, e.why_no_match)),
      );
      return li;
    }));
  }

  async function runRuleTest() {
    let rules;
    let apiRules = {};
    try {
      rules = JSON.parse($('rt-rules').value || '{}');
      if ($('rt-api-rules').value.trim()) apiRules = JSON.parse($('rt-api-rules').value);
    } catch (e) {
      showRuleError(`The rules are not JSON: ${e.message}`);
      return;
    }
    const code = Number($('rt-code').value);
    const body = { rules, api_rules: apiRules };
    if ($('rt-kind').value === 'upstream') {
      body.upstream = { status: code, body: $('rt-body').value };
    } else {
      const entry = $('rt-entry').value;
      body.error = entry ? { id: entry } : { code, message: $('rt-message').value };
      if ($('rt-flag').value) body.error.flag = $('rt-flag').value;
    }
    let out;
    try {
      out = await api('/preview/api/rules', { method: 'POST', body: JSON.stringify(body) });
    } catch (e) {
      showRuleError(e.message);
      return;
    }
    const r = out.response;
    $('rt-error').hidden = !r.error;
    $('rt-error-text').textContent = r.error || '';
    $('rt-status').textContent = r.outcome === 'no_response' ? 'no response' : String(r.status);
    const outcome = $('rt-outcome');
    outcome.textContent = r.outcome;
    outcome.className = outcomeClass(r.outcome === 'ok' ? 'ok' : 'exec');
    $('rt-route').textContent = r.route;
    $('rt-match').textContent = matchText(r.matched, out.why_no_match);
    $('rt-warnings').replaceChildren(...(out.warnings || []).map((w) => el('li', '', w)));
    const dl = $('rt-headers');
    dl.replaceChildren();
    for (const [name, value] of r.header_lines) dl.append(el('dt', '', name), el('dd', '', value));
    $('rt-body-out').textContent = r.body;
  }

  function showRuleError(message) {
    $('rt-error').hidden = false;
    $('rt-error-text').textContent = message;
  }

  function setupRules() {
    $('rules-api').addEventListener('change', loadRules);
    $('rt-run').addEventListener('click', runRuleTest);
  }

  // ---------------------------------------------------------------- live

  function follow() {
    const live = $('live');
    const text = $('live-text');
    const source = new EventSource('/preview/events');
    source.addEventListener('open', () => {
      live.dataset.state = 'live';
      text.textContent = 'following reloads';
    });
    source.addEventListener('error', () => {
      live.dataset.state = 'reconnecting';
      text.textContent = 'reconnecting';
    });
    source.addEventListener('reload', (ev) => {
      let seen;
      try {
        seen = JSON.parse(ev.data);
      } catch (_) {
        return;
      }
      if (seen.generation !== state.shown.generation || (seen.failed_at || null) !== state.shown.failedAt) {
        loadCatalogue();
      }
    });
  }

  function start() {
    setupCatalogue();
    setupPlayground();
    setupRules();
    window.addEventListener('hashchange', showView);
    showView();
    loadCatalogue().then(() => scheduleRender(0));
    follow();
  }

  start();
})();
