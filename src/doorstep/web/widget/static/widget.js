/*
 * Doorstep chat widget.
 *
 * Install (see docs/widget.md):
 *   <script>window.Doorstep=window.Doorstep||function(){(Doorstep.q=Doorstep.q||[]).push(arguments)};</script>
 *   <script src="https://HOST/widget.js" data-site="SITE_KEY" async></script>
 *
 * No dependencies, no build step. Speaks the visitor side of docs/websocket.md (an HTTP
 * session, then one WebSocket) and records page views (docs/tracking.md). The UI is an open
 * Shadow DOM: page CSS cannot reach in, assistive technology and test tools can.
 *
 * Every write carries a client_msg_id, is kept (messages in localStorage, page views and
 * commands per tab) until the server acknowledges it, and is re-sent after reconnects and
 * reloads; the server stores each id once, so every write is stored exactly once.
 */
(() => {
  'use strict';

  const VERSION = '1.0.0';
  const w = window;
  const d = document;

  // Loaded twice (two script tags, or a SPA re-inserting it): the first copy keeps working.
  if (w.Doorstep && w.Doorstep.version) return;

  // Our own tag tells us the site key and where the server is. currentScript is null when the
  // script runs from a callback or a module-like loader, hence the query fallback.
  const script = d.currentScript || d.querySelector('script[data-site][src*="widget.js"]');
  const SITE = script && script.getAttribute('data-site');
  if (!SITE) {
    console.error('Doorstep: the widget script tag needs a data-site="SITE_KEY" attribute.');
    return;
  }
  const ORIGIN = new URL(script.src, location.href).origin;
  const LOCALE_ATTR = script.getAttribute('data-locale');
  // Page tracking: off with data-track="off"; never on file:, about: and the like.
  const TRACK = script.getAttribute('data-track') !== 'off' && /^https?:$/.test(location.protocol);

  const MAX_TEXT = 10000; // the server's limit, docs/websocket.md
  const COUNT_FROM = 9000; // show the character counter from here on
  const PING_MS = 25000;
  const DEAD_MS = 60000; // no frame for this long after a ping: the socket is dead
  const CONNECT_MS = 15000; // a socket that has not said "ready" by then is given up
  const BACKOFF_MIN = 500;
  const BACKOFF_MAX = 15000;
  const TYPING_EVERY_MS = 3000;
  const TYPING_IDLE_MS = 4000;
  const TYPING_SHOW_MS = 6000;
  const QUEUE_MAX = 100; // identify/set/track kept while disconnected; oldest dropped first
  const HISTORY_MAX = 200; // messages kept locally for an instant render after reload
  const RETRYABLE = new Set(['rate_limited', 'internal']);
  const PACE_BURST = 30; // the server allows 10 frames/s with bursts of 40
  const PACE_RATE = 8;

  // No exception of ours may reach the host page: our listeners and timers go through safe().
  const oops = (e) => console.error('Doorstep:', e);
  const safe = (fn) => function () {
    try { return fn.apply(this, arguments); } catch (e) { return oops(e); }
  };
  const on = (o, type, fn, opts) => o.addEventListener(type, safe(fn), opts);
  const later = (fn, ms) => setTimeout(safe(fn), ms);
  // The pause before the n-th retry of a refused write: growing, and never shorter than the
  // server's retry_after (rate_limited).
  const pause = (f, n) => Math.max((f.retry_after || 0) * 1000, Math.min(30000, 1000 * 2 ** n));

  // ---------------------------------------------------------------------------------------------
  // Strings. Site owners override any key through site.strings in the session response.
  // "open", "message", "send", "email" and "email_save" are also the accessible names tests
  // look for (in English). No button but the composer's may contain the word "Send".

  const STRINGS = {
    en: {
      open: 'Open chat', close: 'Close chat', message: 'Message', send: 'Send',
      placeholder: 'Write a message…', sending: 'sending…', sent: 'sent', read: 'read',
      failed: 'not sent', typing: '{name} is typing…', someone: 'Someone', you: 'You',
      title: 'Chat', subtitle: "Ask us anything — we'll reply here",
      welcome: 'Hi there 👋 How can we help?', unread: '{n} unread',
      count: '{n} / {max}', limit: 'Character limit reached', dismiss: 'Dismiss',
      email: 'Email', email_placeholder: 'you@example.com', email_save: 'Save email',
      email_to: "We'll send the answer to {email}", email_change: 'Change',
      email_invalid: 'Please enter a valid email address.',
    },
    ja: {
      open: 'チャットを開く', close: 'チャットを閉じる', message: 'メッセージ', send: '送信',
      placeholder: 'メッセージを入力…', sending: '送信中…', sent: '送信済み', read: '既読',
      failed: '未送信', typing: '{name}が入力中…', someone: '担当者', you: 'あなた',
      title: 'チャット', subtitle: 'お気軽にご質問ください',
      welcome: 'こんにちは 👋 ご用件をどうぞ。', unread: '未読 {n} 件',
      count: '{n} / {max}', limit: '文字数の上限に達しました', dismiss: '閉じる',
      email: 'メールアドレス', email_placeholder: 'name@example.com',
      email_save: 'メールアドレスを保存', email_to: '回答は {email} にお送りします',
      email_change: '変更', email_invalid: '有効なメールアドレスを入力してください。',
    },
    ru: {
      open: 'Открыть чат', close: 'Закрыть чат', message: 'Сообщение', send: 'Отправить',
      placeholder: 'Напишите сообщение…', sending: 'отправка…', sent: 'отправлено',
      read: 'прочитано', failed: 'не отправлено', typing: '{name} печатает…',
      someone: 'Оператор', you: 'Вы', title: 'Чат',
      subtitle: 'Спросите нас о чём угодно — ответим здесь',
      welcome: 'Здравствуйте 👋 Чем можем помочь?', unread: 'Непрочитанных: {n}',
      count: '{n} / {max}', limit: 'Достигнут предел длины сообщения', dismiss: 'Скрыть',
      email: 'Эл. почта', email_placeholder: 'name@example.com', email_save: 'Сохранить адрес',
      email_to: 'Ответ придёт на {email}', email_change: 'Изменить',
      email_invalid: 'Введите правильный адрес электронной почты.',
    },
    de: {
      open: 'Chat öffnen', close: 'Chat schließen', message: 'Nachricht', send: 'Senden',
      placeholder: 'Nachricht schreiben…', sending: 'wird gesendet…', sent: 'gesendet',
      read: 'gelesen', failed: 'nicht gesendet', typing: '{name} schreibt…',
      someone: 'Jemand', you: 'Sie', title: 'Chat',
      subtitle: 'Fragen Sie uns alles – wir antworten hier',
      welcome: 'Hallo 👋 Wie können wir helfen?', unread: '{n} ungelesen',
      count: '{n} / {max}', limit: 'Maximale Länge erreicht', dismiss: 'Ausblenden',
      email: 'E-Mail', email_placeholder: 'name@example.com', email_save: 'E-Mail speichern',
      email_to: 'Wir schicken die Antwort an {email}', email_change: 'Ändern',
      email_invalid: 'Bitte geben Sie eine gültige E-Mail-Adresse ein.',
    },
    fr: {
      open: 'Ouvrir le chat', close: 'Fermer le chat', message: 'Message', send: 'Envoyer',
      placeholder: 'Écrivez un message…', sending: 'envoi…', sent: 'envoyé', read: 'lu',
      failed: 'non envoyé', typing: '{name} écrit…', someone: 'Quelqu’un', you: 'Vous',
      title: 'Chat', subtitle: 'Posez-nous vos questions, nous répondons ici',
      welcome: 'Bonjour 👋 Comment pouvons-nous vous aider ?', unread: '{n} non lu(s)',
      count: '{n} / {max}', limit: 'Longueur maximale atteinte', dismiss: 'Ignorer',
      email: 'E-mail', email_placeholder: 'vous@example.com', email_save: 'Enregistrer l’e-mail',
      email_to: 'Nous enverrons la réponse à {email}', email_change: 'Modifier',
      email_invalid: 'Veuillez saisir une adresse e-mail valide.',
    },
    es: {
      open: 'Abrir chat', close: 'Cerrar chat', message: 'Mensaje', send: 'Enviar',
      placeholder: 'Escribe un mensaje…', sending: 'enviando…', sent: 'enviado', read: 'leído',
      failed: 'no enviado', typing: '{name} está escribiendo…', someone: 'Alguien', you: 'Tú',
      title: 'Chat', subtitle: 'Pregúntanos lo que quieras: te responderemos aquí',
      welcome: '¡Hola! 👋 ¿En qué podemos ayudarte?', unread: '{n} sin leer',
      count: '{n} / {max}', limit: 'Has alcanzado el límite de caracteres', dismiss: 'Descartar',
      email: 'Correo electrónico', email_placeholder: 'tu@example.com', email_save: 'Guardar correo',
      email_to: 'Te enviaremos la respuesta a {email}', email_change: 'Cambiar',
      email_invalid: 'Introduce una dirección de correo electrónico válida.',
    },
  };

  // First supported language of a list of BCP 47 tags ("pt-BR" falls back to "pt").
  function pickLang(tags) {
    for (const tag of tags) {
      if (!tag) continue;
      const t = String(tag).toLowerCase();
      if (STRINGS[t]) return t;
      const base = t.split(/[-_]/)[0];
      if (STRINGS[base]) return base;
    }
    return null;
  }

  let lang = 'en';
  let t = STRINGS.en;
  // data-locale (the page) beats site.locale (the site's settings) beats the browser.
  function chooseStrings() {
    const nav = navigator.languages && navigator.languages.length
      ? navigator.languages : [navigator.language];
    lang = pickLang([LOCALE_ATTR]) || pickLang([site.locale]) || pickLang(nav) || 'en';
    t = Object.assign({}, STRINGS.en, STRINGS[lang]);
    if (site.strings && typeof site.strings === 'object') {
      for (const k in site.strings) {
        if (typeof site.strings[k] === 'string') t[k] = site.strings[k];
      }
    }
  }
  const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));

  // ---------------------------------------------------------------------------------------------
  // Storage. Keys are prefixed with the site key so two Doorstep sites on one origin never mix.
  // Private modes and sandboxed iframes may forbid localStorage: then we keep state in memory
  // for the life of the page, which still gives reconnects exactly-once delivery.

  const store = (() => {
    const mem = new Map();
    let ls = null;
    try {
      ls = w.localStorage;
      ls.setItem('doorstep:probe', '1');
      ls.removeItem('doorstep:probe');
    } catch (e) {
      ls = null;
    }
    const key = (k) => `doorstep:${SITE}:${k}`;
    return {
      get(k) {
        let raw = mem.get(key(k));
        if (raw === undefined && ls) {
          try { raw = ls.getItem(key(k)); } catch (e) { raw = null; }
        }
        try { return raw == null ? null : JSON.parse(raw); } catch (e) { return null; }
      },
      set(k, v) {
        const raw = JSON.stringify(v);
        if (ls) {
          try { ls.setItem(key(k), raw); mem.delete(key(k)); return; } catch (e) { /* quota */ }
        }
        mem.set(key(k), raw);
      },
      del(k) {
        mem.delete(key(k));
        try { if (ls) ls.removeItem(key(k)); } catch (e) { /* ignore */ }
      },
    };
  })();

  // Per tab (sessionStorage): the panel's open state, unconfirmed page views and commands.
  const tabKey = (k) => `doorstep:${SITE}:${k}`;
  const tabGet = (k) => {
    try { return JSON.parse(w.sessionStorage.getItem(tabKey(k))); } catch (e) { return null; }
  };
  const tabSet = (k, v) => {
    try { w.sessionStorage.setItem(tabKey(k), JSON.stringify(v)); } catch (e) { /* memory only */ }
  };

  function uuid() {
    try { if (w.crypto && crypto.randomUUID) return crypto.randomUUID(); } catch (e) { /* */ }
    // randomUUID needs a secure context; getRandomValues does not. Math.random is a last resort
    // that is still unique enough for de-duplication.
    let b;
    try { b = crypto.getRandomValues(new Uint8Array(16)); } catch (e) {
      b = Uint8Array.from({ length: 16 }, () => Math.floor(Math.random() * 256));
    }
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // ---------------------------------------------------------------------------------------------
  // State

  let site = store.get('site') || {}; // last known {name, color, locale, strings}
  let token = store.get('token');
  let dead = false; // unknown site key: stay silent for the rest of the page's life
  let ws = null; // current socket; events of older sockets are ignored
  let ready = false; // got "ready" on the current socket
  let connecting = false; // session request in flight
  let sessionCtl = null;
  let attempt = 0; // reconnect attempts since the last "ready", for the backoff
  let retryTimer = 0;
  let wsStartedAt = 0;
  let lastFrameAt = 0;
  let lastPingAt = 0;
  let probeAt = 0;

  let visitorId = null;
  let conv = null; // current conversation {id, status, last_seq, ...} or null
  let operators = [];
  const opRead = {}; // conversation_id -> highest seq the operators have read
  let readSeq = 0; // highest seq of the current conversation the visitor has seen
  let sentReadSeq = 0; // highest seq the server knows the visitor has seen
  let resumedFrom = 0; // after_seq of the last resume: 0 means "download the history"

  const msgs = new Map(); // message id -> message (confirmed by the server)
  const cmds = []; // identify/set/track frames until acknowledged
  const inflight = new Set(); // client_msg_ids sent on the current socket
  const paced = []; // frames waiting for the pacer
  let tokens = 0;
  let tokensAt = 0;
  let paceTimer = 0;
  let gen = 0; // a new value on every "ready": which socket a page view went on
  const retries = {}; // client_msg_id -> retry count after retryable errors
  const listeners = [];

  // Email capture: an auto-reply may ask for the visitor's email (docs/widget.md#email-capture).
  let emailKnown = store.get('email') === 1; // the server has an email for this visitor
  let emailQ = store.get('emailq'); // {client_msg_id, email} submitted, not yet answered
  if (!emailQ || !emailQ.client_msg_id || typeof emailQ.email !== 'string') emailQ = null;
  let editing = false; // "Change" was clicked: the field shows although the email is known
  let accHint = ''; // email_hint of the last email.accepted
  let focusAsk = false; // a live auto-reply asks: its field may take the focus

  // History: instant render on reload; "resume" then fills whatever happened since.
  const hist = store.get('history');
  if (hist && Array.isArray(hist.messages)) {
    visitorId = hist.visitor_id;
    for (const m of hist.messages) if (m && m.id != null) msgs.set(m.id, m);
  }

  const loadOutbox = () => {
    const o = store.get('outbox');
    return Array.isArray(o) ? o.filter((e) => e && e.client_msg_id && e.text) : [];
  };
  let outbox = loadOutbox();

  function saveHistory() {
    const list = sorted().slice(-HISTORY_MAX);
    store.set('history', { visitor_id: visitorId, messages: list });
  }

  // Someone else from now on (reset, a sign-out, a proof of another person, a voided token):
  // nothing of the previous visitor may show, stay stored, or be sent as the new one.
  function wipe() {
    for (const k of ['history', 'outbox', 'card', 'email', 'emailq']) store.del(k);
    msgs.clear();
    hideCard();
    outbox = [];
    visitorId = conv = emailQ = null;
    emailKnown = editing = false;
    accHint = '';
    readSeq = sentReadSeq = resumedFrom = 0;
    if (cur) { cur.a = 0; cur.sd = -1; pages = [cur]; } // the page on screen is the new one's too
    if (ui) {
      ui.log.textContent = ui.ta.value = ui.ei.value = '';
      ui.rows.clear();
      onInput();
      refresh();
    }
  }

  function sorted() {
    return Array.from(msgs.values()).sort(
      (a, b) => a.conversation_id - b.conversation_id || a.seq - b.seq,
    );
  }

  function maxSeq(convId) {
    let s = 0;
    for (const m of msgs.values()) if (m.conversation_id === convId && m.seq > s) s = m.seq;
    return s;
  }

  // ---------------------------------------------------------------------------------------------
  // Connection

  function raw(frame) {
    try { ws.send(JSON.stringify(frame)); return true; } catch (e) { return false; }
  }

  // A token bucket stricter than the server's, so a backlog replayed after a reconnect is never
  // refused. True if the frame will go on this socket.
  function send(frame) {
    if (!ws || !ready) return false;
    // A newer page.update replaces a waiting one.
    const i = frame.type === 'page.update'
      ? paced.findIndex((f) => f.type === frame.type && f.client_id === frame.client_id) : -1;
    if (i < 0) paced.push(frame); else paced[i] = frame;
    pace();
    return true;
  }

  function pace() {
    clearTimeout(paceTimer);
    const now = Date.now();
    tokens = Math.min(PACE_BURST, tokens + ((now - tokensAt) * PACE_RATE) / 1000);
    tokensAt = now;
    // Leaving the page: no timer runs again.
    while (paced.length && (tokens >= 1 || gone) && ws && ready) {
      tokens--;
      raw(paced.shift());
    }
    if (paced.length && ws) paceTimer = later(pace, 1000 / PACE_RATE);
  }

  function connect() {
    connect1().catch(oops);
  }

  async function connect1() {
    if (dead || ws || connecting) return;
    clearTimeout(retryTimer);
    connecting = true;
    const asked = token;
    let res;
    const ctl = (sessionCtl = new AbortController());
    const timer = later(() => ctl.abort(), CONNECT_MS);
    let hold = 0;
    try {
      const r = await fetch(`${ORIGIN}/widget/v1/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ site: SITE, token: token || null, locale: LOCALE_ATTR || navigator.language || 'en' }),
        credentials: 'omit',
        signal: ctl.signal,
      });
      if (r.status === 404) return unknownSite();
      if (r.status === 403) return unknownSite(notHere);
      // Too many new visitors from this address: try again when the server says.
      if (r.status === 429) hold = (+r.headers.get('Retry-After') || 0) * 1000;
      if (!r.ok) throw new Error(`session ${r.status}`);
      res = await r.json();
    } catch (e) {
      // Server down, network gone, or a 5xx: the visitor can keep typing, we keep trying.
      connecting = false;
      mount();
      return retry(false, hold);
    } finally {
      clearTimeout(timer);
      sessionCtl = null;
    }
    connecting = false;
    if (dead || ws) return;
    // reset() or another identity while this was under way: the answer is someone else's.
    if (token !== asked) return connect();
    // Another visitor than the stored history's (a voided token): none of it may show.
    if (visitorId != null && res.visitor_id !== visitorId) wipe();

    // The server may hand out a new token (expired, foreign, voided): keep its latest.
    if (res.token && res.token !== token) { token = res.token; store.set('token', token); }
    if (res.site) { site = res.site; store.set('site', site); }
    mount();
    applySite();

    const url = new URL(res.ws_url || '/widget/v1/ws', ORIGIN);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('site', SITE);
    url.searchParams.set('token', token || '');
    let sock;
    try { sock = new WebSocket(url.href); } catch (e) { return retry(); }
    ws = sock;
    ready = false;
    wsStartedAt = lastFrameAt = Date.now();
    sock.onmessage = safe((e) => { if (sock === ws) onFrame(e.data); });
    sock.onerror = () => { try { sock.close(); } catch (e) { /* close event follows */ } };
    sock.onclose = safe((e) => {
      if (sock !== ws) return;
      drop();
      if (e.code === 4404) return unknownSite();
      if (e.code === 4403) return unknownSite(notHere);
      // 4401: the token is no good (signed out): a new visitor, who sees nothing of this one.
      if (e.code === 4401) { token = null; store.del('token'); wipe(); }
      retry();
    });
  }

  function drop() {
    const s = ws;
    ws = null;
    ready = false;
    inflight.clear();
    paced.length = 0; // what matters is re-sent after the next "ready"
    clearTimeout(paceTimer);
    hideTyping();
    if (s) {
      s.onmessage = s.onclose = s.onerror = null;
      try { s.close(); } catch (e) { /* already closed */ }
    }
  }

  // Exponential backoff with "equal jitter": half the delay is fixed, half random, so thousands
  // of widgets do not come back to a restarted server in the same millisecond.
  function retry(fast, hold) {
    if (dead) return;
    clearTimeout(retryTimer);
    const base = fast ? 300 : Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** attempt++);
    retryTimer = later(connect, (hold || 0) + base / 2 + (Math.random() * base) / 2);
  }

  function reconnectNow() {
    drop();
    retry();
  }

  // Connect at once as the visitor of `tok` (null: a new anonymous one).
  function restart(tok) {
    token = tok;
    if (tok) store.set('token', tok); else store.del('token');
    drop();
    attempt = 0;
    connect();
  }

  // Another tab of this site became someone else (reset, sign-out, another identity): so does
  // this one. Adopting a token never stores it, so two tabs cannot keep swapping theirs.
  on(w, 'storage', (e) => {
    if (e.key !== `doorstep:${SITE}:token`) return;
    const v = e.newValue && JSON.parse(e.newValue);
    if (v !== token) { wipe(); token = v; drop(); retry(); }
  });

  // The network came back or the tab became visible again: don't wait for the backoff timer,
  // and check that a socket which looks open after a laptop slept is really alive.
  function wake() {
    if (dead) return;
    if (connecting) {
      attempt = 0;
      if (sessionCtl) sessionCtl.abort();
    } else if (!ws) {
      attempt = 0;
      retry(true);
    } else if (ready && Date.now() - lastFrameAt > 5000 && !probeAt) {
      lastPingAt = Date.now();
      probeAt = lastPingAt + 5000;
      send({ type: 'ping' });
    }
  }

  // One timer for ping, dead-socket and stuck-connect checks. Throttled background tabs run it
  // rarely; the checks compare timestamps so a late tick never misfires.
  setInterval(safe(() => {
    if (!ws) return;
    const now = Date.now();
    if (!ready) {
      if (now - wsStartedAt > CONNECT_MS) reconnectNow();
      return;
    }
    if (probeAt && now >= probeAt) {
      probeAt = 0;
      if (lastFrameAt < lastPingAt) return reconnectNow();
    }
    if (lastPingAt > lastFrameAt && now - lastFrameAt > DEAD_MS) return reconnectNow();
    if (now - lastPingAt >= PING_MS) {
      lastPingAt = now;
      send({ type: 'ping' });
    }
  }), 5000);

  on(w, 'online', wake);
  on(w, 'pageshow', (e) => { if (e.persisted) { wake(); if (TRACK) startPage(''); } });
  on(d, 'visibilitychange', () => {
    if (d.visibilityState === 'visible') { clock(); wake(); refresh(); } else if (!gone) flushPages();
  });

  const notHere = `Doorstep: this site's widget does not load on ${location.origin}: it is not among the site's allowed origins.`;

  function unknownSite(why) {
    if (dead) return;
    dead = true;
    connecting = false;
    clearTimeout(retryTimer);
    drop();
    store.del('site');
    console.error(why || `Doorstep: unknown site key "${SITE}". Check the data-site attribute of the widget script tag.`);
    if (ui) { ui.host.remove(); ui = null; }
  }

  // ---------------------------------------------------------------------------------------------
  // Frames from the server

  function onFrame(raw) {
    lastFrameAt = Date.now();
    let f;
    try { f = JSON.parse(raw); } catch (e) { return; }
    if (!f || typeof f !== 'object') return;
    switch (f.type) {
      case 'ready': onReady(f); break;
      // Messages that fill a gap after a reconnect are news; a first download is history.
      case 'messages': accept(f.messages, resumedFrom > 0); break;
      case 'message.created': accept([f.message], true); break;
      case 'message.ack': onAck(f); break;
      case 'typing': onTyping(f); break;
      case 'conversation.read':
        if (f.reader !== 'visitor' && setOpRead(f.conversation_id, f.seq)) refresh();
        break;
      case 'conversation.updated': onConversation(f.conversation); refresh(); break;
      case 'error': onError(f); break;
      case 'visitor.updated':
        if (f.token) { become(f); break; }
        if (f.verification && f.verification !== 'missing') unverified(f.verification);
        // Proven: the browser may have joined a contact with a conversation; fetch it.
        if (f.identity === 'verified' && !conv) send({ type: 'resume', after_seq: 0 });
        if (setKnown(f.email_known)) refresh(); // falls through
      case 'event.ack': cmdDone(f.client_msg_id); break;
      case 'email.accepted': onEmailOk(f); break;
      case 'page.ack':
        for (const r of pages) if (r.v.client_id === f.client_id) r.a = 1;
        tabSet('pages', pages);
        break;
      default: break; // pong: hearing it is all we need
    }
  }

  function onReady(f) {
    ready = true;
    attempt = 0;
    gen = Math.random();
    tokens = PACE_BURST;
    tokensAt = Date.now();
    // Another visitor (new token, cleared server): the history we hold is not theirs.
    if (visitorId != null && f.visitor_id !== visitorId) wipe();
    visitorId = f.visitor_id;
    setKnown(f.email_known);
    operators = Array.isArray(f.operators) ? f.operators : [];
    onConversation(f.conversation);
    if (conv) {
      readSeq = Math.max(readSeq, conv.visitor_read_seq || 0);
      sentReadSeq = conv.visitor_read_seq || 0; // refresh() re-sends ours if it is higher
      let held = maxSeq(conv.id);
      if (conv.last_seq != null && held > conv.last_seq) {
        // The server knows fewer messages than we do (restored database): start over.
        for (const m of Array.from(msgs.values())) {
          if (m.conversation_id === conv.id) forget(m);
        }
        held = 0;
      }
      resumedFrom = held;
      send({ type: 'resume', after_seq: held });
    }
    // Then page views (events are filed under their visit), commands, unsent messages.
    flushPages(true);
    flushCmds();
    flushOutbox();
    flushEmail();
    saveHistory();
    refresh();
  }
  function onConversation(c) {
    if (!c || c.id == null) { if (c === null) conv = null; return; }
    if (conv && c.id < conv.id) return; // an older conversation's update
    if (!conv || conv.id !== c.id) {
      conv = {};
      readSeq = sentReadSeq = 0; // read marks are per conversation
    }
    Object.assign(conv, c);
    if (c.operator_read_seq != null) setOpRead(c.id, c.operator_read_seq);
  }

  // Returns whether anything changed; callers refresh the UI once they are done.
  function setOpRead(convId, seq) {
    if (convId == null || typeof seq !== 'number' || seq <= (opRead[convId] || 0)) return false;
    opRead[convId] = seq;
    return true;
  }

  function onAck(f) {
    if (f.client_msg_id) settle(f.client_msg_id);
    accept([f.message], false);
  }

  function onError(f) {
    const cid = f.client_msg_id;
    const again = RETRYABLE.has(f.code);
    if (!cid) {
      // A refused page.view/page.update cannot be named: re-send all unconfirmed ones.
      if (again) {
        for (const r of pages) { r.x = 0; r.sd = -1; }
        later(flushPages, Math.max(2000, (f.retry_after || 0) * 1000));
      }
      return;
    }
    if (emailQ && emailQ.client_msg_id === cid) return emailRefused(f, again);
    const cmd = cmds.some((c) => c.client_msg_id === cid);
    if (!cmd && !loadOutbox().some((e) => e.client_msg_id === cid)) return;
    if (again) {
      // Try again on this socket after a growing pause; a reconnect re-sends it anyway.
      const n = (retries[cid] = (retries[cid] || 0) + 1);
      inflight.delete(cid);
      later(cmd ? flushCmds : flushOutbox, pause(f, n));
      return;
    }
    // Not retryable (text_too_long, invalid_frame, ...): it would fail the same way forever, so
    // give it up; a message says so next to itself.
    if (cmd) {
      cmdDone(cid); // a user_hash refusal (require_verification) too: it fails again and again
      return /^user_hash_/.test(f.code) ? unverified(f.code.slice(10))
        : console.warn(`Doorstep: ${f.code}: ${f.message}`);
    }
    settle(cid);
    const row = ui && ui.rows.get('c' + cid);
    if (row) {
      row._fail = true;
      row._pend = false;
      row.classList.replace('pend', 'fail');
      // Anchor it where it failed, so later messages go below it instead of above.
      if (conv) { row._c = conv.id; row._s = maxSeq(conv.id) + 0.5; place(row); }
    }
    refresh();
  }

  // Accept server messages: de-duplicated by id, so a message that arrives by ack and by
  // message.created, or twice after a resume, is shown once.
  // `fresh`: operator messages in `list` are new to the visitor (onMessage callbacks fire).
  function accept(list, fresh) {
    if (!Array.isArray(list)) return;
    let changed = false;
    let pop = null;
    for (const m of list) {
      if (!m || m.id == null || m.internal) continue;
      const a = m.author || {};
      if (a.type === 'visitor' && m.client_msg_id) settle(m.client_msg_id);
      if (msgs.has(m.id)) {
        // Known already; a pending bubble typed in this tab may still be waiting for it.
        const pend = ui && ui.rows.get('c' + m.client_msg_id);
        if (pend && m.client_msg_id) { pend.remove(); ui.rows.delete('c' + m.client_msg_id); }
        continue;
      }
      msgs.set(m.id, m);
      changed = true;
      const started = !conv || m.conversation_id > conv.id;
      if (started) onConversation({ id: m.conversation_id });
      render(m);
      const op = a.type === 'operator';
      if (op) hideTyping();
      if (fresh && (op || isAuto(m))) {
        if (op) notify(m);
        // An operator (or the site) writing first: preview it above the launcher.
        if (started || !opened) pop = m;
        if (m.meta && m.meta.ask_email) focusAsk = true;
      }
    }
    if (changed) { trimMemory(); saveHistory(); refresh(true); }
    if (pop && !isOpen) showCard(pop);
  }

  function forget(m) {
    msgs.delete(m.id);
    const row = ui && ui.rows.get(m.id);
    if (row) { row.remove(); ui.rows.delete(m.id); }
  }

  function trimMemory() {
    if (msgs.size <= HISTORY_MAX * 2) return;
    for (const m of sorted().slice(0, msgs.size - HISTORY_MAX)) forget(m);
  }

  function notify(m) {
    for (const fn of listeners) {
      try { fn(JSON.parse(JSON.stringify(m))); } catch (e) { console.error(e); }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Outbox: written before sending, removed only when the server has the message.

  function settle(cid) {
    inflight.delete(cid);
    delete retries[cid];
    const o = loadOutbox(); // re-read: other tabs write it too
    outbox = o.filter((e) => e.client_msg_id !== cid);
    if (outbox.length !== o.length) store.set('outbox', outbox);
  }

  function flushOutbox() {
    outbox = loadOutbox();
    for (const e of outbox) {
      // Another tab may have queued it, or it was confirmed but the tab died before clearing it.
      const done = Array.from(msgs.values()).some((m) => m.client_msg_id === e.client_msg_id);
      if (done) { settle(e.client_msg_id); continue; }
      renderPending(e);
      if (ready && !inflight.has(e.client_msg_id)) {
        if (send({ type: 'message.send', client_msg_id: e.client_msg_id, text: e.text })) {
          inflight.add(e.client_msg_id);
        }
      }
    }
    refresh();
  }

  function submit() {
    const text = ui.ta.value.trim();
    if (!text || text.length > MAX_TEXT) return;
    const entry = { client_msg_id: uuid(), text, at: new Date().toISOString() };
    outbox = loadOutbox();
    outbox.push(entry);
    store.set('outbox', outbox); // persisted before it goes anywhere
    ui.ta.value = '';
    onInput();
    stopTyping();
    renderPending(entry);
    flushOutbox();
    scrollEnd(true);
  }

  // ---------------------------------------------------------------------------------------------
  // Email capture: an auto-reply with meta.ask_email gets an inline field; email.submit is kept
  // (localStorage) until email.accepted or a refusal, and re-sent after reconnects and reloads.

  // Returns whether it changed; callers refresh the UI.
  function setKnown(v) {
    if (typeof v !== 'boolean' || v === emailKnown) return false;
    emailKnown = v;
    store.set('email', v ? 1 : 0);
    return true;
  }

  function setEmailQ(q) {
    emailQ = q;
    if (q) store.set('emailq', q); else store.del('emailq');
  }

  function flushEmail() {
    const q = emailQ;
    if (q && !inflight.has(q.client_msg_id)
      && send({ type: 'email.submit', client_msg_id: q.client_msg_id, email: q.email })) {
      inflight.add(q.client_msg_id);
    }
  }

  function submitEmail() {
    const v = ui.ei.value.trim();
    // something@something.tld; the server checks properly.
    if (v.length > 254 || !/^[^\s@]+@([^\s@.]+\.)+[^\s@.]{2,}$/.test(v)) {
      return emailError(t.email_invalid, true);
    }
    emailError('');
    setEmailQ({ client_msg_id: uuid(), email: v });
    flushEmail();
    refresh();
  }

  function onEmailOk(f) {
    const cid = f.client_msg_id;
    inflight.delete(cid);
    delete retries[cid];
    if (f.email_hint) accHint = String(f.email_hint);
    // An answer to an older submission does not end the newer one.
    if (emailQ && emailQ.client_msg_id === cid) {
      setEmailQ(null);
      editing = false;
      emailError('');
      if (ui) ui.ei.value = '';
    }
    setKnown(true);
    refresh();
  }

  function emailRefused(f, again) {
    const cid = f.client_msg_id;
    inflight.delete(cid);
    if (again) {
      const n = (retries[cid] = (retries[cid] || 0) + 1);
      later(flushEmail, pause(f, n));
      return;
    }
    delete retries[cid];
    setEmailQ(null);
    editing = true; // the field stays, with the visitor's text
    emailError(f.code === 'invalid_email' ? t.email_invalid : t.failed,
      ui && ui.em.contains(ui.root.activeElement));
  }

  // An inline error under the field (role="alert"); '' clears it.
  function emailError(msg, focus) {
    if (!ui) return;
    ui.ee.textContent = msg;
    ui.ei.setAttribute('aria-invalid', String(!!msg));
    refresh();
    if (focus) ui.ei.focus();
  }

  // ---------------------------------------------------------------------------------------------
  // Page tracking. Per page view: v page.view frame, a acked, n sends, t start, d/s visible
  // ms/depth, sd/ss as last sent, x socket (gen) of the view, k pageKey. Re-sending is harmless:
  // a client_id is stored once per visit, progress only rises.

  let pages = [];
  let cur = null; // the page on screen
  let shownAt = 0; // since when the page is visible; 0 while hidden
  let gone = false; // after pagehide
  let frozen = false; // between a history change and its page view: depth is not measured
  let navTimer = 0;
  let navStart = 0;
  let scrollTimer = 0;

  // A hash is part of the page only when it is a route: "#/path", "#!/path".
  const route = (h) => (/^#!?\//.test(h) ? h.split('?')[0] : '');
  const pathKey = () => location.pathname + route(location.hash);
  const pageKey = () => pathKey() + location.search;

  function depth() {
    const e = d.documentElement;
    const h = Math.max(e.scrollHeight, d.body ? d.body.scrollHeight : 0);
    const seen = (w.scrollY || e.scrollTop || 0) + w.innerHeight;
    return h ? Math.max(0, Math.min(100, Math.round((seen * 100) / h))) : 0;
  }

  // Bring the current page's visible time and depth (percent seen) up to date.
  function clock() {
    if (!cur) return;
    const now = Date.now();
    if (shownAt) cur.d = Math.min(864e5, cur.d + Math.max(0, now - shownAt)); // server: 24 h
    shownAt = !gone && d.visibilityState === 'visible' ? now : 0;
    if (!frozen) cur.s = Math.max(cur.s, depth());
  }

  function startPage(referrer) {
    clock();
    gone = frozen = false;
    let tz = '';
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { /* */ }
    cur = {
      v: {
        type: 'page.view',
        client_id: uuid(),
        url: location.href.slice(0, 2000),
        title: d.title.trim().slice(0, 300),
        referrer: referrer.slice(0, 2000),
        timezone: tz,
        language: navigator.language || '',
        screen: { w: screen.width | 0, h: screen.height | 0 },
      },
      a: 0, n: 0, t: Date.now(), d: 0, s: 0, sd: 0, ss: 0, x: 0, k: pageKey(),
    };
    pages.push(cur);
    flushPages(true); // measures the new page's depth, sends its view
  }

  const changed = (r) => r.d !== r.sd || r.s !== r.ss;
  const update = (r) => {
    r.sd = r.d;
    r.ss = r.s;
    return { type: 'page.update', client_id: r.v.client_id, duration_ms: r.d, scroll_depth: r.s };
  };

  // Send unconfirmed page views and progress; `quiet` keeps the current page's for later.
  function flushPages(quiet) {
    if (!TRACK) return;
    clock();
    const now = Date.now();
    // Keep 20 at most; drop what is confirmed and reported, older than a visit, or refused.
    pages = pages.filter((r) => r === cur
      || (now - r.t < 1800000 && r.n < 6 && (!r.a || changed(r)))).slice(-20);
    if (ready) {
      for (const r of pages) {
        if (!r.a && r.x !== gen && send(r.v)) { r.n++; r.x = gen; }
        if ((r.a || r.x === gen) && changed(r) && !(quiet && r === cur)) send(update(r));
      }
    }
    // Leaving: the closing socket may lose it; the tab's next page says it again.
    if (gone) for (const r of pages) r.sd = -1;
    tabSet('pages', pages);
  }

  // Apps change history several times per navigation, then the title: wait for 250 ms of
  // calm (1 s at most), then count a page view if the page changed.
  function nav() {
    if (!cur || (!navTimer && pageKey() === cur.k)) return; // "#top" and the like
    if (!navTimer) { clock(); frozen = true; navStart = Date.now(); }
    clearTimeout(navTimer);
    navTimer = later(() => {
      navTimer = 0;
      if (pageKey() !== cur.k) startPage(cur.v.url); // reports the previous page first
      else { frozen = false; clock(); }
    }, Math.max(0, Math.min(250, navStart + 1000 - Date.now())));
  }

  function startTracking() {
    for (const r of tabGet('pages') || []) {
      if (r && r.v && r.v.client_id) { r.x = 0; pages.push(r); }
    }
    startPage(d.referrer);
    for (const name of ['pushState', 'replaceState']) {
      const orig = history[name];
      if (typeof orig !== 'function') continue;
      // The app's call is unchanged (and throws as before).
      history[name] = function () {
        const path = pathKey();
        const result = orig.apply(this, arguments);
        // replaceState within a path (query filters, say) is the same page.
        if (name === 'pushState' || pathKey() !== path) safe(nav)();
        else if (cur && !navTimer) cur.k = pageKey();
        return result;
      };
    }
    on(w, 'popstate', nav);
    on(w, 'hashchange', nav);
    on(w, 'scroll', () => {
      scrollTimer = scrollTimer || later(() => { scrollTimer = 0; clock(); }, 200);
    }, { passive: true });
    setInterval(safe(() => { if (shownAt) flushPages(); }), 30000);
    on(w, 'pagehide', () => { clock(); gone = true; flushPages(); });
  }

  // ---------------------------------------------------------------------------------------------
  // Public API (the queue stub's commands)

  const isObj = (o) => (o && typeof o === 'object' && !Array.isArray(o) ? o : {});

  // identify/set/track wait (per tab) for the ack naming their client_msg_id.
  function command(frame) {
    frame.client_msg_id = uuid();
    cmds.push(frame);
    if (cmds.length > QUEUE_MAX) cmdDone(cmds[0].client_msg_id);
    tabSet('cmds', cmds);
    flushCmds();
  }

  function flushCmds() {
    for (const c of cmds) {
      if (!inflight.has(c.client_msg_id) && send(c)) inflight.add(c.client_msg_id);
    }
  }

  function cmdDone(cid) {
    const i = cmds.findIndex((c) => c.client_msg_id === cid);
    if (i >= 0) { cmds.splice(i, 1); tabSet('cmds', cmds); }
    inflight.delete(cid);
    delete retries[cid];
  }

  // The site's user logged out (Intercom's shutdown): forget them, start as a new visitor.
  function reset() {
    cmds.length = 0;
    tabSet('cmds', cmds);
    wipe();
    setOpen(false);
    restart(null);
  }

  // The identify proved another person than this browser was: the server made it a new
  // visitor of that person's contact (f.token). Commands given after the identify are theirs.
  function become(f) {
    cmds.splice(0, cmds.findIndex((c) => c.client_msg_id === f.client_msg_id) + 1);
    tabSet('cmds', cmds);
    wipe();
    restart(f.token);
  }

  const unverified = (why) => console.error(`Doorstep: identity verification failed: user_hash ${why}, so the email/user_id of identify() is not verified. See "Identity verification" in docs/widget.md.`);

  function api(cmd, a, b) {
    switch (cmd) {
      case 'identify': return command({ type: 'visitor.identify', traits: isObj(a) });
      case 'set': return command({ type: 'visitor.set', attributes: isObj(a) });
      case 'track':
        if (typeof a !== 'string' || !a) return console.warn('Doorstep: track needs an event name');
        return command({ type: 'event.track', name: a, properties: isObj(b) });
      case 'open': return setOpen(true, true);
      case 'close': return setOpen(false, true);
      case 'reset': return reset();
      case 'onMessage':
        if (typeof a === 'function') listeners.push(a);
        return undefined;
      default: return console.warn(`Doorstep: unknown command "${cmd}"`);
    }
  }

  const queued = (w.Doorstep && w.Doorstep.q) || [];
  const Doorstep = function Doorstep(cmd, a, b) {
    try { return api(cmd, a, b); } catch (e) { return oops(e); }
  };
  Doorstep.version = VERSION;
  w.Doorstep = Doorstep;

  // ---------------------------------------------------------------------------------------------
  // UI

  const STYLE = `
:host{all:initial}
.root{--c:#4f46e5;--on:#fff;--fg:#0f172a;--mut:#64748b;--line:#e2e8f0;--soft:#f1f5f9;
font:14px/1.45 ui-sans-serif,system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Hiragino Sans","Yu Gothic UI",Meiryo,sans-serif,"Apple Color Emoji","Segoe UI Emoji";
color:var(--fg);text-align:left;letter-spacing:normal;word-spacing:normal;text-transform:none;text-indent:0;
font-style:normal;white-space:normal;visibility:visible;direction:ltr;-webkit-font-smoothing:antialiased}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
button,textarea,input{font:inherit;color:inherit;margin:0;letter-spacing:inherit}
button{cursor:pointer;border:0;background:none;padding:0;-webkit-tap-highlight-color:transparent}
:focus{outline:none}
:focus-visible{outline:2px solid var(--c);outline-offset:2px}
.sr,.op:not(.first) .who{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;
background:var(--c);color:var(--on);display:grid;place-items:center;
box-shadow:0 2px 6px rgba(15,23,42,.16),0 10px 28px -6px rgba(15,23,42,.32);transition:transform .2s ease}
.launcher:hover{transform:scale(1.06)}
.launcher:active{transform:scale(.95)}
.launcher svg{grid-area:1/1;width:26px;height:26px;transition:transform .25s ease,opacity .2s ease}
.ic-x,.open .ic-chat{opacity:0;transform:rotate(-90deg) scale(.5)}
.open .ic-x{opacity:1;transform:none}
.badge{position:absolute;top:-3px;right:-3px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;
background:#ef4444;color:#fff;font-size:11px;font-weight:700;line-height:20px;text-align:center;box-shadow:0 0 0 2px #fff}
.badge:empty{display:none}
.panel{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:380px;height:min(640px,calc(100vh - 112px));
display:flex;flex-direction:column;background:#fff;border-radius:16px;overflow:hidden;
box-shadow:0 0 0 1px rgba(15,23,42,.06),0 4px 12px rgba(15,23,42,.06),0 24px 56px -12px rgba(15,23,42,.32);
opacity:0;transform:translateY(12px) scale(.98);transform-origin:bottom right;visibility:hidden;
transition:opacity .2s ease,transform .2s ease,visibility 0s linear .2s}
.open .panel{opacity:1;transform:none;visibility:visible;transition-delay:0s}
.hd{display:flex;align-items:center;gap:12px;padding:18px 14px 18px 20px;color:var(--on);background:var(--c);
background:linear-gradient(135deg,var(--c),color-mix(in srgb,var(--c) 78%,#000))}
.hd :focus-visible{outline-color:currentColor}
.ht{flex:1;min-width:0}
h2{margin:0;font-size:16px;font-weight:650;line-height:1.3;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.sub{margin:2px 0 0;font-size:13px;opacity:.85}
.avs{display:flex}
.avs .av{width:36px;height:36px;font-size:14px;box-shadow:0 0 0 2px var(--c)}
.avs .av+.av{margin-left:-10px}
.x{display:none;width:36px;height:36px;border-radius:50%;place-items:center}
.x:hover{background:rgba(127,127,127,.2)}
.x svg{width:22px;height:22px}
.av{flex:none;width:28px;height:28px;border-radius:50%;display:grid;place-items:center;overflow:hidden;
color:#fff;font-size:12px;font-weight:600;background:#94a3b8;user-select:none}
.av img{width:100%;height:100%;object-fit:cover}
.av.site{background:var(--c);color:var(--on)}
.scroll{flex:1;overflow-y:auto;overscroll-behavior:contain;padding:16px 14px 10px}
.row{display:flex;gap:8px;margin-top:3px;align-items:flex-end}
.row.first{margin-top:14px}
.row.intro{margin-top:0}
.col{min-width:0;max-width:78%;display:flex;flex-direction:column;align-items:flex-start}
.me{justify-content:flex-end}
.me .col{align-items:flex-end}
.op:not(.last) .av{visibility:hidden}
.bub{padding:9px 13px;border-radius:18px;white-space:pre-wrap;overflow-wrap:anywhere;max-width:100%}
.op .bub{background:var(--soft);border-radius:6px 18px 18px 6px}
.op.first .bub{border-top-left-radius:18px}
.op.last .bub{border-bottom-left-radius:18px}
.me .bub{background:var(--c);color:var(--on);border-radius:18px 6px 6px 18px}
.me.first .bub{border-top-right-radius:18px}
.me.last .bub{border-bottom-right-radius:18px}
.sys{justify-content:center}
.sys .col{max-width:90%;align-items:center}
.sys .bub{color:var(--mut);font-size:12px;padding:4px 8px;text-align:center}
.who{display:flex;gap:6px;font-size:12px;color:var(--mut);margin:0 0 3px 4px}
.who b,.cc b{font-weight:600;color:#334155}
.st{display:none;font-size:11px;color:var(--mut);margin:4px 4px 0}
.showst .st{display:block}
.pend .bub{opacity:.7}
.fail .bub{background:#fee2e2;color:#991b1b}
.fail .st{color:#dc2626}
.typing{display:flex;align-items:center;gap:8px;margin:10px 0 2px 36px;font-size:12px;color:var(--mut)}
.dots{display:inline-flex;gap:4px;padding:11px 13px;background:var(--soft);border-radius:18px}
.dots i{width:6px;height:6px;border-radius:50%;background:#94a3b8;animation:ds-b 1.2s infinite ease-in-out}
.dots i:nth-child(2){animation-delay:.15s}
.dots i:nth-child(3){animation-delay:.3s}
@keyframes ds-b{0%,60%,100%{transform:none;opacity:.45}30%{transform:translateY(-3px);opacity:1}}
.comp{padding:10px 12px 12px;border-top:1px solid var(--line)}
.box{display:flex;align-items:flex-end;gap:6px;padding:4px 4px 4px 14px;border:1px solid var(--line);border-radius:22px;
background:#fff;transition:border-color .15s,box-shadow .15s}
.box:focus-within{border-color:var(--c);box-shadow:0 0 0 3px rgba(100,116,139,.18);box-shadow:0 0 0 3px color-mix(in srgb,var(--c) 22%,transparent)}
textarea{flex:1;min-width:0;border:0;resize:none;background:none;padding:7px 0;font-size:15px;line-height:20px;max-height:140px;overflow-y:auto}
textarea:focus-visible{outline:none}
textarea::placeholder{color:#94a3b8}
.send{flex:none;width:34px;height:34px;border-radius:50%;display:grid;place-items:center;background:var(--c);color:var(--on);
transition:opacity .15s,transform .15s}
.send svg{width:18px;height:18px}
.box:not(.has) .send{opacity:.4}
.send:active{transform:scale(.92)}
.em{width:280px;max-width:100%;margin:6px 2px 0;font-size:12px;color:var(--mut)}
.em p{margin:0}
.lk{color:var(--fg);text-decoration:underline;font-weight:600}
.eb{display:flex;flex-wrap:wrap;gap:6px}
.eb input{flex:1 1 9em;min-width:0;padding:7px 11px;border:1px solid #cbd5e1;border-radius:12px;background:#fff;font-size:14px}
.eb input[aria-invalid=true]{border-color:#dc2626}
.eb button{flex:none;padding:7px 12px;border-radius:12px;background:var(--c);color:var(--on);font-size:13px;font-weight:600}
.em .ee{color:#dc2626}
.ee:not(:empty),.ep:not(:empty){margin:4px 2px 0}
.count{font-size:11px;color:var(--mut);text-align:right;margin:6px 6px 0}
.count.max{color:#dc2626}
.count:empty{display:none}
.card{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:300px;max-width:calc(100vw - 32px);background:#fff;
border-radius:14px;box-shadow:0 0 0 1px rgba(15,23,42,.06),0 12px 32px -8px rgba(15,23,42,.32);animation:ds-in .25s}
.cv{display:flex;gap:10px;width:100%;padding:14px 38px 14px 14px;text-align:left;border-radius:14px}
.cc{min-width:0;flex:1}
.cc b{display:block;font-size:12px}
.ct{display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden;white-space:pre-wrap;overflow-wrap:anywhere}
.dx{position:absolute;top:6px;right:6px;width:28px;height:28px;border-radius:50%;display:grid;place-items:center;color:var(--mut)}
.dx:hover{background:var(--soft)}
.dx svg{width:16px}
.open .cw{display:none}
@keyframes ds-in{from{opacity:0;transform:translateY(8px)}}
@media (max-width:479px){
.card{right:16px;bottom:84px}
.panel{inset:0;width:auto;height:auto;border-radius:0;transform:translateY(24px)}
.open .launcher{display:none}
.launcher{right:16px;bottom:16px}
.x{display:grid}
textarea,.eb input{font-size:16px}
}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}
`;

  const svg = (cls, path) =>
    `<svg class="${cls}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"><path d="${path}"/></svg>`;

  // Static markup only: every piece of text from the server, the site owner or the visitor is
  // set later through textContent or attributes, never parsed as HTML.
  const TEMPLATE = `<div class="root">
<section class="panel" role="dialog" aria-labelledby="ds-title" tabindex="-1">
<header class="hd"><div class="avs" aria-hidden="true"></div>
<div class="ht"><h2 id="ds-title"></h2><p class="sub"></p></div>
<button type="button" class="x">${svg('', 'M6 9l6 6 6-6')}</button></header>
<div class="scroll">
<div class="row op first last intro"><span class="av site" aria-hidden="true"></span><div class="col"><div class="bub"></div></div></div>
<div class="log" role="log" aria-live="polite"></div>
<div class="em" hidden><p class="eh"><span></span> <button type="button" class="lk"></button></p>
<form class="ef" novalidate><div class="eb"><input type="email" name="email" autocomplete="email" autocapitalize="off" spellcheck="false" dir="ltr" aria-describedby="ds-ee"><button type="submit"></button></div>
<p id="ds-ee" class="ee" role="alert"></p><p class="ep" aria-hidden="true"></p></form></div>
<div class="typing" hidden><span class="dots" aria-hidden="true"><i></i><i></i><i></i></span><span class="tt" aria-live="polite"></span></div>
</div>
<form class="comp"><div class="box">
<textarea rows="1" maxlength="${MAX_TEXT}" aria-describedby="ds-count"></textarea>
<button type="submit" class="send">${svg('', 'M12 19V5M5 12l7-7 7 7')}</button></div>
<div id="ds-count" class="count"></div></form>
</section>
<div class="cw" aria-live="polite"><div class="card" hidden><button type="button" class="cv"><span class="av"></span><span class="cc"><b></b><span class="ct" dir="auto"></span></span></button><button type="button" class="dx">${svg('', 'M7 7l10 10M17 7 7 17')}</button></div></div>
<button type="button" class="launcher" aria-expanded="false" aria-describedby="ds-unread">${svg('ic-chat', 'M5 4h14a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-7l-5 4v-4H5a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z')}${svg('ic-x', 'M6 9l6 6 6-6')}<span class="badge" aria-hidden="true"></span><span id="ds-unread" class="sr"></span></button>
</div>`;

  let ui = null;
  let isOpen = false;
  let stick = true; // the message list follows new messages unless the visitor scrolled up

  function mount() {
    if (ui || dead) return;
    if (!d.body) { on(d, 'DOMContentLoaded', mount, { once: true }); return; }
    // A custom element name keeps page selectors like "div" from ever matching our host.
    const host = d.createElement('doorstep-widget');
    const root = host.attachShadow({ mode: 'open' });
    // A constructed stylesheet is CSSOM, which a strict Content-Security-Policy (no
    // 'unsafe-inline' styles) allows; an inline <style> is the fallback for older browsers.
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
      root.adoptedStyleSheets = [sheet];
      root.innerHTML = TEMPLATE;
    } catch (e) {
      root.innerHTML = `<style>${STYLE}</style>${TEMPLATE}`;
    }
    const $ = (s) => root.querySelector(s);
    ui = {
      host, root, wrap: $('.root'), panel: $('.panel'), title: $('h2'), sub: $('.sub'),
      avs: $('.avs'), x: $('.x'), scroll: $('.scroll'), log: $('.log'), typing: $('.typing'),
      typingText: $('.tt'), form: $('.comp'), box: $('.box'), ta: $('textarea'), sendBtn: $('.send'),
      count: $('.count'), launcher: $('.launcher'), badge: $('.badge'), unread: $('#ds-unread'),
      intro: $('.intro .bub'), introAv: $('.intro .av'), rows: new Map(), heads: '',
      card: $('.card'), cv: $('.cv'), cn: $('.cc b'), ct: $('.ct'), dx: $('.dx'),
      em: $('.em'), eh: $('.eh'), et: $('.eh span'), lk: $('.lk'), ef: $('.ef'), ei: $('.eb input'),
      es: $('.eb button'), ee: $('.ee'), ep: $('.ep'),
    };
    ui.ei.value = emailQ ? emailQ.email : '';

    on(ui.launcher, 'click', () => setOpen(!isOpen, true));
    on(ui.x, 'click', () => { setOpen(false); ui.launcher.focus(); });
    on(ui.cv, 'click', () => setOpen(true, true));
    on(ui.dx, 'click', () => { hideCard(true); ui.launcher.focus(); });
    on(ui.form, 'submit', (e) => { e.preventDefault(); submit(); ui.ta.focus(); });
    on(ui.ta, 'input', () => { onInput(); typingTick(); });
    // Enter in the field submits the form (a form with one field needs no key handler).
    on(ui.ef, 'submit', (e) => { e.preventDefault(); submitEmail(); });
    on(ui.ei, 'input', () => { if (ui.ee.textContent) emailError(''); });
    on(ui.lk, 'click', () => {
      editing = true;
      ui.ei.value = '';
      emailError('', true);
    });
    on(ui.ta, 'keydown', (e) => {
      // Enter sends, Shift+Enter is a newline; never while an IME is composing (Japanese etc.).
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submit();
      }
    });
    on(ui.wrap, 'keydown', (e) => {
      if (e.key === 'Escape' && isOpen) {
        e.stopPropagation();
        setOpen(false);
        ui.launcher.focus();
      }
    });
    on(ui.scroll, 'scroll', () => {
      const s = ui.scroll;
      stick = s.scrollHeight - s.scrollTop - s.clientHeight < 60;
    }, { passive: true });

    applySite();
    for (const m of sorted()) render(m);
    for (const e of outbox) renderPending(e);
    d.body.appendChild(host);
    refresh();
    if (wantOpen) setOpen(true, wantFocus);
  }

  function applySite() {
    chooseStrings();
    if (!ui) return;
    const c = typeof site.color === 'string' && w.CSS && CSS.supports('color', site.color) ? site.color : null;
    ui.wrap.style.setProperty('--c', c || '#4f46e5');
    ui.wrap.style.setProperty('--on', c && isLight(c) ? '#111827' : '#fff');
    ui.wrap.lang = lang;
    ui.title.textContent = site.name || t.title;
    ui.sub.textContent = t.subtitle;
    ui.intro.textContent = t.welcome;
    ui.introAv.textContent = initial(site.name || t.title);
    ui.x.setAttribute('aria-label', t.close);
    ui.dx.setAttribute('aria-label', t.dismiss);
    ui.ta.setAttribute('aria-label', t.message);
    ui.ta.placeholder = t.placeholder;
    ui.sendBtn.setAttribute('aria-label', t.send);
    ui.ei.setAttribute('aria-label', t.email);
    ui.ei.placeholder = t.email_placeholder;
    ui.es.textContent = t.email_save;
    ui.lk.textContent = t.email_change;
    ui.launcher.setAttribute('aria-label', isOpen ? t.close : t.open);
    ui.heads = '';
    refresh();
  }

  // Light brand colours (yellow, mint) need dark text on them to stay readable.
  function isLight(color) {
    const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
    if (!m) return false;
    let h = m[1];
    if (h.length === 3) h = h.replace(/./g, '$&$&');
    const [r, g, b] = [0, 2, 4].map((i) => {
      const v = parseInt(h.slice(i, i + 2), 16) / 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45;
  }

  let wantOpen = tabGet('open') === 1;
  let wantFocus = false;
  let opened = false; // the visitor opened the panel on this page
  let cardMsg = null; // the message previewed above the launcher

  function setOpen(open, focus) {
    wantOpen = open;
    wantFocus = !!focus;
    tabSet('open', open ? 1 : 0);
    if (!ui || open === isOpen) return;
    isOpen = open;
    if (open) { opened = true; hideCard(); }
    const wasInside = !open && ui.root.activeElement && ui.panel.contains(ui.root.activeElement);
    ui.wrap.classList.toggle('open', open);
    ui.launcher.setAttribute('aria-expanded', String(open));
    ui.launcher.setAttribute('aria-label', open ? t.close : t.open);
    if (open) {
      stick = true;
      scrollEnd(true);
      if (focus) home();
      refresh();
    } else if (wasInside) {
      ui.launcher.focus();
    }
  }

  // On touch screens focusing the textarea would throw up the keyboard over the history;
  // focusing the panel still puts screen readers and keyboard users inside it.
  const coarse = () => w.matchMedia && matchMedia('(pointer: coarse)').matches;
  const home = () => (coarse() ? ui.panel : ui.ta).focus({ preventScroll: true });

  // Preview of an operator's (or the site's) message above the launcher (silent).
  function showCard(m) {
    if (!ui || isOpen) return;
    const a = m.author || {};
    const auto = isAuto(m);
    cardMsg = m;
    ui.cv.firstElementChild.replaceWith(auto ? siteAv() : avatar(a));
    ui.cn.textContent = auto ? siteName() : a.name || t.someone;
    ui.ct.textContent = m.text;
    ui.card.hidden = false;
  }

  function hideCard(dismissed) {
    if (!ui || !cardMsg) return;
    if (dismissed) store.set('card', cardMsg.id); // not shown again on the next page
    cardMsg = null;
    ui.card.hidden = true;
    ui.ct.textContent = '';
  }

  function el(tag, cls, text) {
    const e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  const initial = (name) => (Array.from(String(name || '?').trim())[0] || '?').toUpperCase();

  // Messages the server writes on behalf of the site (auto-replies) look like an operator's,
  // with the site's name and initial; its confirmations (meta.kind "email_captured") are lines.
  const isAuto = (m) => (m.author || {}).type === 'system' && (m.meta || {}).kind !== 'email_captured';
  const siteName = () => site.name || t.title;
  function siteAv() {
    const a = el('span', 'av site', initial(siteName()));
    a.setAttribute('aria-hidden', 'true');
    return a;
  }

  function avatar(person) {
    const name = (person && person.name) || t.someone;
    const a = el('span', 'av', initial(name));
    a.setAttribute('aria-hidden', 'true');
    a.title = name;
    // A stable colour per name, so two initials side by side are told apart.
    let hash = 0;
    for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) | 0;
    a.style.background = `hsl(${Math.abs(hash) % 360} 45% 52%)`;
    let url = null;
    try {
      url = person && person.avatar_url ? new URL(person.avatar_url, ORIGIN) : null;
    } catch (e) { url = null; }
    if (url && /^https?:$/.test(url.protocol)) {
      const img = el('img');
      img.alt = '';
      img.referrerPolicy = 'no-referrer';
      img.onload = () => { a.textContent = ''; a.append(img); };
      img.src = url.href;
    }
    return a;
  }

  const fmtCache = {};
  function fmtTime(iso) {
    const dt = new Date(iso);
    if (!iso || isNaN(dt)) return '';
    const today = dt.toDateString() === new Date().toDateString();
    const k = lang + today;
    try {
      fmtCache[k] = fmtCache[k] || new Intl.DateTimeFormat(lang, today
        ? { hour: 'numeric', minute: '2-digit' }
        : { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
      return fmtCache[k].format(dt);
    } catch (e) { return ''; }
  }

  // A message row. Rows carry their sort key (_c conversation, _s seq; pending rows sort last in
  // the order they were typed) so inserting keeps the list ordered without re-rendering it, which
  // would make screen readers announce the whole log again.
  function buildRow(m, me) {
    const a = m.author || {};
    const auto = !me && isAuto(m);
    const sys = !me && !auto && a.type !== 'operator';
    const r = el('div', 'row ' + (me ? 'me' : sys ? 'sys' : 'op'));
    r._me = me;
    r._a = me ? 'v' : sys ? 's' : auto ? 'S' : `o${a.id != null ? a.id : a.name}`;
    const col = (r._col = el('div', 'col'));
    if (me) {
      col.append(el('span', 'sr', t.you + ': '));
    } else if (!sys) {
      r.append(auto ? siteAv() : avatar(a));
      const who = el('div', 'who');
      who.append(el('b', null, auto ? siteName() : a.name || t.someone), el('span', null, fmtTime(m.created_at)));
      col.append(who);
    }
    const bub = el('div', 'bub', m.text);
    bub.dir = 'auto'; // Arabic or Hebrew text lays itself out right to left
    col.append(bub);
    if (me) {
      r._st = el('div', 'st');
      r._st.setAttribute('aria-hidden', 'true'); // "sent"/"read" on every change would be noise
      col.append(r._st);
    }
    r.append(col);
    return r;
  }

  let pendOrder = 0;
  function renderPending(e) {
    if (!ui || ui.rows.has('c' + e.client_msg_id)) return;
    const r = buildRow({ text: e.text }, true);
    r.classList.add('pend');
    r._pend = true;
    r._c = Infinity;
    r._s = ++pendOrder;
    r._t = Date.parse(e.at) || Date.now();
    ui.rows.set('c' + e.client_msg_id, r);
    place(r);
  }

  function render(m) {
    if (!ui || ui.rows.has(m.id)) return;
    const me = (m.author || {}).type === 'visitor';
    const key = 'c' + m.client_msg_id;
    let r = me && m.client_msg_id ? ui.rows.get(key) : null;
    if (r) {
      // The visitor's own pending bubble becomes the confirmed message in place.
      ui.rows.delete(key);
      r.classList.remove('pend', 'fail');
      r._pend = r._fail = false;
    } else {
      r = buildRow(m, me);
    }
    r._m = m;
    r._c = m.conversation_id;
    r._s = m.seq;
    r._t = Date.parse(m.created_at) || Date.now();
    ui.rows.set(m.id, r);
    place(r);
  }

  const before = (a, b) => a._c < b._c || (a._c === b._c && a._s < b._s);

  function place(r) {
    const log = ui.log;
    let ref = log.lastElementChild;
    while (ref && (ref === r || before(r, ref))) ref = ref.previousElementSibling;
    if (ref ? ref.nextElementSibling === r : log.firstElementChild === r) return; // in place
    log.insertBefore(r, ref ? ref.nextElementSibling : log.firstElementChild);
  }

  function scrollEnd(force) {
    if (!ui || !(force || stick)) return;
    ui.scroll.scrollTop = ui.scroll.scrollHeight;
  }

  // Everything derived from the rows (grouping, delivery state, header, badge, read receipts,
  // preview card), after every change: cheap for a few hundred rows, the rules in one place.
  function refresh(newMessages) {
    if (!ui) return;
    const rows = ui.log.children;
    let prev = null;
    let lastMe = null;
    let lastOp = null;
    let ask = null; // the latest auto-reply that asks for (or names) the email
    for (const r of rows) {
      const first = !prev || prev._a !== r._a || r._t - prev._t > 600000;
      r.classList.toggle('first', first);
      if (prev) prev.classList.toggle('last', first);
      if (r._me && !r._pend && !r._fail) lastMe = r;
      if (r._m && r._a[0] === 'o') lastOp = r._m.author;
      const mt = (r._m && r._m.meta) || {};
      // A confirmation ("email_captured") settles the auto-replies before it.
      if (mt.kind === 'email_captured') ask = null;
      if (mt.kind === 'autoreply' && (mt.ask_email || mt.email_hint)) ask = r;
      prev = r;
    }
    if (prev) prev.classList.add('last');
    for (const r of rows) {
      if (!r._me) continue;
      const show = r._pend || r._fail || r === lastMe;
      r.classList.toggle('showst', !!show);
      if (!show) continue;
      let s;
      if (r._fail) s = t.failed;
      else if (r._pend) s = t.sending;
      else {
        const readUpTo = opRead[r._c] || 0;
        s = `${fmtTime(r._m.created_at)} · ${r._s <= readUpTo ? t.read : t.sent}`;
      }
      if (r._st.textContent !== s) r._st.textContent = s;
    }

    // Header: the team from "ready", else whoever answered last.
    const team = operators.length ? operators.slice(0, 3) : lastOp ? [lastOp] : [];
    const sig = JSON.stringify(team.map((o) => [o.name, o.avatar_url]));
    if (sig !== ui.heads) {
      ui.heads = sig;
      ui.avs.textContent = '';
      for (const o of team) ui.avs.append(avatar(o));
    }

    // Unread operator messages of the current conversation; opening the panel reads them.
    let unread = 0;
    let top = 0;
    let newest = null;
    let answered = false;
    if (conv) {
      for (const m of msgs.values()) {
        if (m.conversation_id !== conv.id) continue;
        if (m.seq > top) top = m.seq;
        const type = (m.author || {}).type;
        if (type === 'visitor') answered = true;
        if ((type === 'operator' || isAuto(m)) && m.seq > readSeq) {
          unread++;
          if (!newest || m.seq > newest.seq) newest = m;
        }
      }
    }
    if (unread && isOpen && d.visibilityState === 'visible') {
      readSeq = top;
      unread = 0;
    }
    // Operator-started and unanswered: preview on every page until opened or dismissed.
    if (unread && !answered && !isOpen && !cardMsg && newest.id !== store.get('card')) {
      showCard(newest);
    }
    if (conv && readSeq > sentReadSeq && send({ type: 'messages.read', seq: readSeq })) {
      sentReadSeq = readSeq;
    }
    ui.badge.textContent = unread ? String(unread > 99 ? '99+' : unread) : '';
    ui.unread.textContent = unread ? fill(t.unread, { n: unread }) : '';

    // Email capture, under `ask`: the field while the email is unknown, after "Change", or while
    // a submission waits for its answer; else the address the answer goes to.
    const am = ask ? ask._m.meta : {};
    const field = !!ask && (editing || !!emailQ || (!!am.ask_email && !emailKnown));
    const hint = ask && !field && am.email_hint ? accHint || String(am.email_hint) : '';
    const em = ui.em;
    const appears = field && (em.hidden || ui.ef.hidden || em.parentNode !== ask._col);
    if (ask && em.parentNode !== ask._col) ask._col.append(em);
    em.hidden = !field && !hint;
    ui.ef.hidden = !field;
    ui.eh.hidden = !hint;
    ui.et.textContent = hint ? fill(t.email_to, { email: hint }) : '';
    ui.ep.textContent = emailQ ? t.sending : '';
    if (!field && ui.ee.textContent) { ui.ee.textContent = ''; ui.ei.removeAttribute('aria-invalid'); }
    const fa = ui.root.activeElement;
    if (fa && em.contains(fa) && fa.closest('[hidden]') && isOpen) home(); // it was hidden under the focus
    if (newMessages || appears) scrollEnd();
    // A live request takes the focus from an empty message box, or (not on touch screens, where
    // it would throw up the keyboard) from the panel or nowhere; never from the visitor's typing.
    const free = fa === ui.ta ? !ui.ta.value.trim()
      : !coarse() && (fa ? ui.panel.contains(fa) : !d.activeElement || d.activeElement === d.body);
    if (appears && focusAsk && isOpen && free) ui.ei.focus({ preventScroll: true });
    focusAsk = false;
  }

  // ---------------------------------------------------------------------------------------------
  // Composer and typing

  function onInput() {
    const ta = ui.ta;
    // Grow with the text up to the CSS max-height, then scroll inside.
    ta.style.height = 'auto';
    ta.style.height = `${Math.min(ta.scrollHeight, 140)}px`;
    const n = ta.value.length;
    ui.box.classList.toggle('has', !!ta.value.trim());
    ui.count.classList.toggle('max', n >= MAX_TEXT);
    ui.count.textContent = n >= MAX_TEXT
      ? `${t.limit} · ${fill(t.count, { n: n.toLocaleString(lang), max: MAX_TEXT.toLocaleString(lang) })}`
      : n >= COUNT_FROM ? fill(t.count, { n: n.toLocaleString(lang), max: MAX_TEXT.toLocaleString(lang) }) : '';
  }

  let typingSentAt = 0;
  let typingIdle = 0;
  function typingTick() {
    if (!ui.ta.value.trim()) return stopTyping();
    const now = Date.now();
    if (now - typingSentAt >= TYPING_EVERY_MS && conv && send({ type: 'typing.start' })) {
      typingSentAt = now;
    }
    clearTimeout(typingIdle);
    typingIdle = later(stopTyping, TYPING_IDLE_MS);
  }
  function stopTyping() {
    clearTimeout(typingIdle);
    if (typingSentAt) {
      typingSentAt = 0;
      send({ type: 'typing.stop' });
    }
  }

  let typingHide = 0;
  function onTyping(f) {
    if (!ui || (f.author && f.author.type && f.author.type !== 'operator')) return;
    if (!f.active) return hideTyping();
    const text = fill(t.typing, { name: (f.author && f.author.name) || t.someone });
    if (ui.typing.hidden || ui.typingText.textContent !== text) {
      ui.typingText.textContent = text;
      ui.typing.hidden = false;
      scrollEnd();
    }
    // Operators' clients refresh "typing" while typing; a lost "stop" must not stick forever.
    clearTimeout(typingHide);
    typingHide = later(hideTyping, TYPING_SHOW_MS);
  }
  function hideTyping() {
    clearTimeout(typingHide);
    if (ui) ui.typing.hidden = true;
  }

  // ---------------------------------------------------------------------------------------------
  // Start: restore the tab's unconfirmed writes, replay the queue stub, connect. The launcher
  // shows when the session answers, or after 2.5 s, so a slow server never hides the chat.

  for (const c of tabGet('cmds') || []) if (c && c.client_msg_id) cmds.push(c);
  if (TRACK) safe(startTracking)();
  for (const args of queued) {
    try { api(...Array.from(args)); } catch (e) { console.error(e); }
  }
  connect();
  later(mount, 2500);
})();
