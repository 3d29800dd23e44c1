// Doorstep console: wires the REST API, the operator socket and the views together.
// docs/console.md describes what the operator sees; docs/websocket.md the frames.

import { createAccountMenu } from "./account.js";
import { createApi } from "./api.js";
import { createAutorepliesPage } from "./autoreplies.js";
import { createComposer } from "./composer.js";
import { initCards, loadCard, scheduleReload } from "./contact-card.js";
import { createContactPanel } from "./contact.js";
import { createContactPage, createContactsPage } from "./contacts.js";
import { createConversationView } from "./conversation.js";
import { isPhone, isTouch, plainClick, toast, uuid } from "./dom.js";
import { createIdentityPanel } from "./identity-panel.js";
import { createInbox } from "./inbox.js";
import { createLeadsPage } from "./leads.js";
import { createLivePage, createMessageDialog } from "./live.js";
import { chime, desktop, primeOnFirstClick, setTitle } from "./notify.js";
import { OperatorSocket, socketUrl } from "./socket.js";
import * as store from "./store.js";

const { state } = store;
const boot = JSON.parse(document.getElementById("boot").textContent);
const shell = document.getElementById("shell");
const PAGE = 50;
const MESSAGES_PAGE = 100;

state.me = { ...boot.operator, status: document.querySelector("[data-my-presence]")?.dataset.myPresence || "away" };
for (const site of boot.sites || []) state.sites.set(site.id, site);

const api = createApi(boot.csrf_token, { onUnauthorized: toLogin });
const socket = new OperatorSocket(socketUrl());
initCards(api);

function toLogin() {
  location.assign(`/console/login?next=${encodeURIComponent(location.pathname)}`);
}

function failMessage(error) {
  return error?.message || "Something went wrong. Please try again.";
}

// ---------- views ----------

const inbox = createInbox({
  onOpen: (id, options) => openConversation(id, options),
  onTab: (status) => ensureList(status),
  onLoadMore: (status) => loadMore(status),
});

const view = createConversationView({
  onLoadEarlier: loadEarlier,
  onSetStatus: setStatus,
  onAssign: assign,
  onRetry: (clientMsgId) => {
    store.updatePending(clientMsgId, { state: "sending", error: null });
    transmit(state.pending.get(clientMsgId));
  },
  onDiscard: (clientMsgId) => store.removePending(clientMsgId),
});

const composer = createComposer({
  onSend: send,
  onTyping: (conversationId, active) => {
    socket.send({ type: active ? "typing.start" : "typing.stop", conversation_id: conversationId });
  },
  onEscape: () => {
    if (isPhone()) goToInbox();
    else inbox.focusCurrent();
  },
});

const contactPanel = createContactPanel({
  onOpenConversation: (id) => openConversation(id, { push: true }),
  onOpenContact: (id) => go(`/console/contacts/${id}`),
});

const messageDialog = createMessageDialog({
  onSend: async (contactId, text, clientMsgId) => {
    const sent = await api.post(`/contacts/${contactId}/messages`, { text, client_msg_id: clientMsgId });
    return sent.conversation_id;
  },
});

const livePage = createLivePage({
  onOpenContact: (id) => go(`/console/contacts/${id}`),
  onMessage: (target) =>
    messageDialog.open({
      ...target,
      afterSend: (conversationId) => {
        toast("Message sent");
        go(`/console/conversations/${conversationId}`);
      },
    }),
});

const contactsPage = createContactsPage({
  api,
  onOpenContact: (id) => go(`/console/contacts/${id}`),
  onQuery: (q) => {
    if (currentPage === "contacts") history.replaceState(history.state, "", q ? `/console/contacts?q=${encodeURIComponent(q)}` : "/console/contacts");
  },
});

const contactPage = createContactPage({
  api,
  isAdmin: boot.operator?.role === "admin",
  onOpenConversation: (id) => go(`/console/conversations/${id}`),
  onBack: () => {
    if (history.state?.app && history.state.from === "contacts") history.back();
    else go(contactsUrl());
  },
  onErased: () => go(contactsUrl(), { replace: true }),
});

const autorepliesPage = createAutorepliesPage({ api, isAdmin: boot.operator?.role === "admin" });
const identityPanel = createIdentityPanel({
  api,
  isAdmin: boot.operator?.role === "admin",
  onOpenContact: (id) => go(`/console/contacts/${id}`),
});

const leadsPage = createLeadsPage({
  api,
  onOpenContact: (id) => go(`/console/contacts/${id}`),
  onOpenConversation: (id) => go(`/console/conversations/${id}`),
});

const account = createAccountMenu({
  onPresence: (status) => {
    if (!socket.send({ type: "presence.set", status })) {
      toast("You're offline. Your status changes when the connection is back.", { error: true });
      store.emit("me");
      return;
    }
    store.setPresence(state.me.id, status);
  },
});

// ---------- navigation ----------
//
// Pages: "inbox" (/console/, /console/conversations/ID), "live" (/console/live),
// "contacts" (/console/contacts?q=), "contact" (/console/contacts/ID), "autoreplies"
// (/console/autoreplies) and "leads" (/console/leads). Every pushed history
// entry records the page it was left from, so back buttons can return to where you were.

const PAGE_TITLES = { inbox: "Inbox", live: "Live visitors", contacts: "Contacts", contact: "Contacts", autoreplies: "Auto-replies", leads: "Leads" };
const pageEls = {
  live: document.getElementById("page-live"),
  contacts: document.getElementById("page-contacts"),
  contact: document.getElementById("page-contact"),
  autoreplies: document.getElementById("page-autoreplies"),
  leads: document.getElementById("page-leads"),
};
const inboxEls = [".list-pane", "#conversation", "#contact-panel"].map((sel) => document.querySelector(sel));
const skipLink = document.querySelector(".skip-link");
let currentPage = "inbox";
let lastConversationId = null;
let booted = false; // false until the first route is shown

function routeOf(path) {
  let match = /^\/console\/conversations\/(\d+)\/?$/.exec(path);
  if (match) return { page: "inbox", conversationId: Number(match[1]) };
  if (/^\/console\/live\/?$/.test(path)) return { page: "live" };
  if (/^\/console\/contacts\/?$/.test(path)) return { page: "contacts" };
  match = /^\/console\/contacts\/(\d+)\/?$/.exec(path);
  if (match) return { page: "contact", contactId: Number(match[1]) };
  if (/^\/console\/autoreplies\/?$/.test(path)) return { page: "autoreplies" };
  if (/^\/console\/leads\/?$/.test(path)) return { page: "leads" };
  return { page: "inbox", conversationId: null };
}

function refreshTitle() {
  let page = PAGE_TITLES[currentPage];
  if (currentPage === "contact") {
    const name = state.contacts.get(contactPage.contactId())?.display_name;
    if (name) page = `${name} · Contacts`;
  }
  setTitle(store.unreadTotal(), page);
}

function contactsUrl() {
  const q = contactsPage.query();
  return q ? `/console/contacts?q=${encodeURIComponent(q)}` : "/console/contacts";
}

function showPage(page) {
  const leaving = currentPage !== page;
  currentPage = page;
  shell.dataset.page = page;
  const inboxPage = page === "inbox";
  for (const el of inboxEls) el.hidden = !inboxPage;
  if (!inboxPage) document.getElementById("scrim").hidden = true;
  for (const [name, el] of Object.entries(pageEls)) el.hidden = name !== page;
  for (const link of document.querySelectorAll("a[data-nav]")) {
    const nav = link.dataset.nav;
    const current = nav === page || (nav === "contacts" && page === "contact");
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  skipLink.textContent = inboxPage ? "Skip to conversation" : "Skip to main content";
  skipLink.setAttribute("href", inboxPage ? "#conversation" : `#page-${page}`);
  refreshTitle();
  if (leaving && !inboxPage && booted) {
    // After a client-side move, the new page is where a screen reader (and the next Tab)
    // continues; a fresh load starts at the top of the document as usual.
    pageEls[page].focus({ preventScroll: true });
  }
}

/** Change the address and show what it names. */
function go(url, { replace = false } = {}) {
  const target = new URL(url, location.origin);
  if (location.pathname + location.search !== target.pathname + target.search) {
    history[replace ? "replaceState" : "pushState"]({ app: true, from: currentPage }, "", target.pathname + target.search);
  }
  applyRoute(routeOf(target.pathname));
}

function applyRoute(route) {
  if (route.page === "inbox") {
    openConversation(route.conversationId);
    return;
  }
  if (currentPage === "inbox" && state.currentId !== null) leaveConversation();
  showPage(route.page);
  if (route.page === "live") {
    ensureLive();
    livePage.show();
  } else if (route.page === "contacts") {
    contactsPage.show({ q: new URLSearchParams(location.search).get("q") ?? "" });
  } else if (route.page === "contact") {
    contactPage.show(route.contactId);
  } else if (route.page === "autoreplies") {
    autorepliesPage.show();
    identityPanel.show();
  } else if (route.page === "leads") {
    leadsPage.show();
  }
}

/** Off the inbox: the conversation is no longer on screen (so it is not read, and alerts ring). */
function leaveConversation() {
  lastConversationId = state.currentId;
  state.currentId = null;
  composer.setConversation(null);
  view.show(null);
  contactPanel.show(null, null);
  shell.dataset.view = "list";
}

function goToInbox() {
  if (history.state?.app && (history.state.from ?? "inbox") === "inbox") history.back();
  else {
    history.pushState({ app: true, from: currentPage }, "", "/console/");
    openConversation(null);
  }
}

document.getElementById("back-button").addEventListener("click", (event) => {
  if (!plainClick(event)) return;
  event.preventDefault();
  goToInbox();
  inbox.focusCurrent();
});

for (const link of document.querySelectorAll("a[data-nav], a.rail-brand")) {
  link.addEventListener("click", (event) => {
    if (!plainClick(event)) return;
    event.preventDefault();
    const nav = link.dataset.nav || "inbox";
    if (nav === "inbox") {
      if (currentPage !== "inbox" && lastConversationId !== null && !isPhone()) go(`/console/conversations/${lastConversationId}`);
      else if (currentPage !== "inbox" || state.currentId !== null) go("/console/");
      inbox.focusCurrent();
    } else if (nav === "contacts") {
      go(contactsUrl());
      if (!isTouch()) contactsPage.focusSearch();
    } else {
      go(`/console/${nav}`);
    }
  });
}

window.addEventListener("popstate", () => {
  applyRoute(routeOf(location.pathname));
});

async function openConversation(id, { push = false, focusComposer = false } = {}) {
  const url = id === null ? "/console/" : `/console/conversations/${id}`;
  if (push && location.pathname !== url) history.pushState({ app: true, from: currentPage }, "", url);
  const previous = state.currentId;
  if (currentPage !== "inbox") showPage("inbox");
  state.currentId = id;
  if (id !== null) lastConversationId = id;
  shell.dataset.view = id === null ? "list" : "conversation";
  composer.setConversation(id);
  view.show(id);
  inbox.render();
  if (id === null) {
    contactPanel.show(null, null);
    return;
  }
  if (focusComposer && !isTouch()) composer.focus();
  else if (isPhone() && previous !== id) document.getElementById("conversation").focus({ preventScroll: true });

  let summary = state.conversations.get(id);
  if (!summary) {
    try {
      summary = await api.get(`/conversations/${id}`);
      store.upsertSummary(summary);
    } catch (error) {
      if (state.currentId !== id) return;
      toast(error.status === 404 ? "That conversation doesn't exist or isn't yours to see." : failMessage(error), { error: true });
      history.replaceState({ app: true }, "", "/console/");
      openConversation(null);
      return;
    }
  }
  if (state.currentId !== id) return;
  contactPanel.show(id, summary.contact.id, summary.contact);
  ensureTeam(summary.site_id);
  await loadThread(id);
}

// ---------- data loading ----------

async function fetchList(status) {
  const list = state.lists[status];
  list.loading = true;
  store.emit("list");
  const before = new Map(store.listOf(status).map((c) => [c.id, c]));
  try {
    const found = await api.get("/conversations", { status, limit: PAGE });
    // A refresh after a reconnect: drop rows that no longer belong in this tab, unless a
    // socket frame touched them while the request was under way (the frame is newer).
    const ids = new Set(found.map((c) => c.id));
    const oldest = found.length ? store.activityOf(found[found.length - 1]) : "";
    for (const [id, old] of before) {
      const unchanged = state.conversations.get(id) === old;
      const covered = found.length < PAGE || store.activityOf(old) >= oldest;
      if (!ids.has(id) && unchanged && covered && id !== state.currentId) state.conversations.delete(id);
    }
    store.upsertSummaries(found);
    list.loaded = true;
    list.hasMore = found.length === PAGE;
  } catch (error) {
    toast(`Couldn't load conversations. ${failMessage(error)}`, { error: true });
  } finally {
    list.loading = false;
    store.emit("list");
  }
}

function ensureList(status) {
  const list = state.lists[status];
  if (!list.loaded && !list.loading) fetchList(status);
}

async function loadMore(status) {
  const list = state.lists[status];
  if (list.loading) return;
  // Keyset paging on (last activity, id): the order the list is shown in.
  const rows = store.listOf(status);
  const last = rows[rows.length - 1];
  const cursor = last ? { before_at: store.activityOf(last), before_id: last.id } : {};
  list.loading = true;
  try {
    const found = await api.get("/conversations", { status, limit: PAGE, ...cursor });
    store.upsertSummaries(found);
    list.hasMore = found.length === PAGE;
  } catch (error) {
    toast(failMessage(error), { error: true });
  } finally {
    list.loading = false;
    store.emit("list");
  }
}

const teamLoads = new Map();
function ensureTeam(siteId, { force = false } = {}) {
  if (!force && (state.teams.has(siteId) || teamLoads.has(siteId))) return;
  const load = api
    .get(`/sites/${siteId}/operators`)
    .then((members) => store.setTeam(siteId, members))
    .catch(() => {})
    .finally(() => teamLoads.delete(siteId));
  teamLoads.set(siteId, load);
}

// ---------- live visitors ----------

let liveTimer = null;
let liveLoading = false;
let liveAgain = false;
const goneSince = new Map(); // visitor id -> when their visitor.offline arrived

/** GET /live-visitors soon: a burst of arrivals makes one request. */
function scheduleLiveRefresh(delay = 300) {
  clearTimeout(liveTimer);
  liveTimer = setTimeout(fetchLive, delay);
}

function ensureLive() {
  if (!state.liveLoaded && !liveLoading) fetchLive();
}

async function fetchLive() {
  clearTimeout(liveTimer);
  if (liveLoading) {
    liveAgain = true;
    return;
  }
  liveLoading = true;
  const startedAt = performance.now();
  try {
    store.setLive(await api.get("/live-visitors"), { startedAt, goneSince });
  } catch (error) {
    if (currentPage === "live") toast(`Couldn't load live visitors. ${failMessage(error)}`, { error: true });
  } finally {
    liveLoading = false;
    const old = performance.now() - 60_000;
    for (const [id, at] of goneSince) if (at < old) goneSince.delete(id);
    if (liveAgain) {
      liveAgain = false;
      fetchLive();
    }
  }
}

const FADE_MS = 700;

function visitorLeft(visitorId) {
  goneSince.set(visitorId, performance.now());
  if (!state.live.has(visitorId)) return;
  store.patchLive(visitorId, { leaving: true });
  store.noteLeft(state.live.get(visitorId).contact_id);
  setTimeout(() => {
    if (state.live.get(visitorId)?.leaving) store.removeLive(visitorId);
  }, FADE_MS);
}

/** Cards on screen: the one beside the conversation and the contact page's. */
function shownContacts() {
  return [contactPanel.contactId(), currentPage === "contact" ? contactPage.contactId() : null].filter((id) => id !== null);
}

async function loadThread(id) {
  const t = store.thread(id);
  if (t.loaded) {
    catchUp(id);
    markRead();
    return;
  }
  if (t.loading) return;
  t.loading = true;
  try {
    const messages = await api.get(`/conversations/${id}/messages`, { limit: MESSAGES_PAGE });
    t.loaded = true;
    t.hasEarlier = messages.length > 0 && messages[0].seq > 1;
    store.addMessages(id, messages);
    if (state.currentId === id) view.scrollToBottom();
    markRead();
  } catch (error) {
    if (state.currentId === id) toast(`Couldn't load messages. ${failMessage(error)}`, { error: true });
  } finally {
    t.loading = false;
  }
}

async function loadEarlier(id) {
  const t = store.thread(id);
  if (t.loadingEarlier || !t.hasEarlier) return;
  t.loadingEarlier = true;
  view.render();
  try {
    const before = store.minSeq(id);
    const messages = await api.get(`/conversations/${id}/messages`, { before_seq: before, limit: MESSAGES_PAGE });
    t.hasEarlier = messages.length > 0 && messages[0].seq > 1;
    t.loadingEarlier = false;
    if (messages.length) store.addMessages(id, messages);
    else view.render();
  } catch (error) {
    t.loadingEarlier = false;
    view.render();
    toast(failMessage(error), { error: true });
  }
}

/** Everything after the newest message we hold: over the socket, or over HTTP without it. */
async function catchUp(id) {
  const after = store.maxSeq(id);
  if (socket.send({ type: "resume", conversation_id: id, after_seq: after })) return;
  try {
    store.addMessages(id, await api.get(`/conversations/${id}/messages`, { after_seq: after }));
  } catch {
    // The socket's resume fills the gap once it is back.
  }
}

// ---------- actions ----------

function send(conversationId, text, internal) {
  const entry = {
    client_msg_id: uuid(),
    conversation_id: conversationId,
    text,
    internal,
    state: "sending",
    error: null,
    created_at: new Date().toISOString(),
  };
  store.addPending(entry);
  view.scrollToBottom();
  transmit(entry);
}

/** Sends now if the socket is up; otherwise the entry waits and goes out on reconnect. */
function transmit(entry) {
  if (!entry || entry.state !== "sending") return;
  socket.send({
    type: "message.send",
    conversation_id: entry.conversation_id,
    client_msg_id: entry.client_msg_id,
    text: entry.text,
    internal: entry.internal,
  });
}

function flushPending() {
  for (const entry of state.pending.values()) transmit(entry);
}

const FRIENDLY_ERRORS = {
  text_too_long: "the message is longer than 10,000 characters",
  empty_message: "the message is empty",
  not_found: "this conversation is gone",
  forbidden: "you can't write in this conversation",
};

async function setStatus(id, status) {
  const button = document.getElementById("status-button");
  button.setAttribute("aria-busy", "true");
  try {
    store.upsertSummary(await api.patch(`/conversations/${id}`, { status }));
    toast(status === "resolved" ? "Conversation resolved" : "Conversation reopened");
  } catch (error) {
    toast(failMessage(error), { error: true });
  } finally {
    button.removeAttribute("aria-busy");
  }
}

async function assign(id, assigneeId) {
  try {
    const summary = await api.patch(`/conversations/${id}`, { assignee_id: assigneeId });
    store.upsertSummary(summary);
    toast(summary.assignee ? `Assigned to ${summary.assignee.id === state.me.id ? "you" : summary.assignee.name}` : "Unassigned");
  } catch (error) {
    view.restoreAssign();
    toast(failMessage(error), { error: true });
  }
}

// ---------- reading ----------

const readSent = new Map(); // conversation id -> highest seq we reported

function markRead() {
  const id = state.currentId;
  if (id === null || document.visibilityState !== "visible" || !document.hasFocus()) return;
  const summary = state.conversations.get(id);
  const seq = store.maxSeq(id);
  if (!summary || !seq) return;
  if (seq <= (summary.operator_read_seq || 0) && !summary.unread) return;
  if ((readSent.get(id) || 0) >= seq) return;
  readSent.set(id, seq);
  if (!socket.send({ type: "messages.read", conversation_id: id, seq })) {
    api.post(`/conversations/${id}/read`, { seq }).catch(() => readSent.delete(id));
  }
  store.patchSummary(id, { unread: 0, operator_read_seq: Math.max(seq, summary.operator_read_seq || 0) });
}

window.addEventListener("focus", markRead);
document.addEventListener("visibilitychange", markRead);
store.on("thread", (id) => {
  if (id === state.currentId) markRead();
});
store.on("conversation", (id) => {
  if (id === state.currentId && state.conversations.get(id)?.unread) markRead();
});
store.on("list", refreshTitle);
store.on("contact", (id) => {
  if (currentPage === "contact" && id === contactPage.contactId()) refreshTitle();
});

// ---------- socket frames ----------

function onMessageCreated(message) {
  const id = message.conversation_id;
  const t = state.threads.get(id);
  if (t?.loaded) {
    const max = store.maxSeq(id);
    if (message.seq <= max + 1) store.addMessages(id, [message]);
    else if (id === state.currentId) catchUp(id); // we missed some: fetch the gap too
    else state.threads.delete(id); // reload when opened
  } else if (message.client_msg_id && state.pending.has(message.client_msg_id)) {
    store.removePending(message.client_msg_id);
  }
  if (message.author.type === "visitor") alertVisitorMessage(message);
}

function alertVisitorMessage(message) {
  const id = message.conversation_id;
  const looking = id === state.currentId && document.visibilityState === "visible" && document.hasFocus();
  if (looking) return;
  chime();
  const summary = state.conversations.get(id);
  desktop({
    title: summary?.contact?.display_name || "New message",
    body: message.text.length > 140 ? `${message.text.slice(0, 139)}…` : message.text,
    tag: `doorstep-conversation-${id}`,
    onClick: () => openConversation(id, { push: true, focusComposer: true }),
  });
}

function onError(frame) {
  const entry = frame.client_msg_id && state.pending.get(frame.client_msg_id);
  if (!entry) {
    if (frame.code !== "rate_limited") console.warn("Doorstep socket error:", frame.code, frame.message);
    return;
  }
  if (frame.code === "rate_limited" || frame.code === "internal") {
    setTimeout(() => transmit(state.pending.get(frame.client_msg_id)), 2000 + Math.random() * 2000);
    return;
  }
  store.updatePending(frame.client_msg_id, { state: "failed", error: FRIENDLY_ERRORS[frame.code] || frame.message });
}

const handlers = {
  ready(frame) {
    if (frame.operator?.status) state.me.status = frame.operator.status;
    store.emit("me");
    for (const p of frame.presence || []) store.setPresence(p.operator_id, p.status);
  },
  "conversation.created": (frame) => store.upsertSummary(frame.conversation, { fresh: true }),
  "conversation.updated": (frame) => store.upsertSummary(frame.conversation),
  "message.created": (frame) => onMessageCreated(frame.message),
  "message.ack": (frame) => {
    const m = frame.message;
    if (state.threads.get(m.conversation_id)?.loaded) store.addMessages(m.conversation_id, [m]);
    else store.removePending(frame.client_msg_id);
  },
  messages: (frame) => {
    if (state.threads.get(frame.conversation_id)?.loaded) store.addMessages(frame.conversation_id, frame.messages || []);
  },
  typing: (frame) => {
    if (frame.author?.type === "operator" && frame.author.id === state.me.id) return;
    store.setTyping(frame.conversation_id, frame.author || { type: "visitor" }, Boolean(frame.active));
  },
  "conversation.read": (frame) => {
    const summary = state.conversations.get(frame.conversation_id);
    if (!summary) return;
    const key = frame.reader === "visitor" ? "visitor_read_seq" : "operator_read_seq";
    if ((summary[key] || 0) < frame.seq) store.patchSummary(frame.conversation_id, { [key]: frame.seq });
  },
  presence: (frame) => store.setPresence(frame.operator_id, frame.status),
  "contact.updated": (frame) => frame.contact && store.updateContact(frame.contact),
  "contact.merged": (frame) => {
    store.mergeContacts(frame.from, frame.into);
    // The contact page follows the person to their surviving id.
    const route = routeOf(location.pathname);
    if (route.page === "contact" && route.contactId === frame.from) {
      history.replaceState(history.state, "", `/console/contacts/${frame.into}`);
    }
    if (shownContacts().includes(frame.into)) scheduleReload(frame.into);
    scheduleLiveRefresh();
  },
  "contact.signed_out": (frame) => {
    store.emit("signedOut", frame);
    if (shownContacts().includes(frame.contact_id)) scheduleReload(frame.contact_id);
    scheduleLiveRefresh();
  },
  "contact.event_tracked": (frame) =>
    store.addTrackedEvent(frame.contact_id, { name: frame.name, properties: frame.properties, at: frame.at }),
  "visitor.online": (frame) => {
    const v = frame.visitor;
    if (!v) return;
    goneSince.delete(v.visitor_id);
    if (state.live.has(v.visitor_id)) store.patchLive(v.visitor_id, { leaving: false });
    else store.upsertLive({ ...v, provisional: true });
    scheduleLiveRefresh();
  },
  "visitor.offline": (frame) => visitorLeft(frame.visitor_id),
  "visitor.page_viewed": (frame) => {
    if (!store.pageViewed(frame)) scheduleLiveRefresh();
    const card = state.contacts.get(frame.contact_id);
    // A page of a visit the card doesn't hold yet: the card catches up from the server.
    if (card && card.current_visit?.id !== frame.visit_id && shownContacts().includes(card.id)) scheduleReload(card.id);
  },
  "visit.started": (frame) => {
    if (state.live.has(frame.visitor_id)) {
      store.patchLive(frame.visitor_id, { visit_id: frame.visit_id, pages_this_visit: 0, visit_started_at: new Date().toISOString() });
    }
    scheduleLiveRefresh(800);
    if (shownContacts().includes(frame.contact_id)) scheduleReload(frame.contact_id);
  },
  error: onError,
};

socket.addEventListener("frame", (event) => handlers[event.detail.type]?.(event.detail));

// ---------- connection state ----------

const banner = document.getElementById("connection-banner");
const bannerText = document.getElementById("connection-text");
let bannerTimer = null;
let everUp = false;

function showBannerSoon(text, delay) {
  if (bannerTimer || !banner.hidden) return;
  bannerTimer = setTimeout(() => {
    bannerTimer = null;
    bannerText.textContent = text;
    banner.hidden = false;
  }, delay);
}

socket.addEventListener("up", () => {
  clearTimeout(bannerTimer);
  bannerTimer = null;
  banner.hidden = true;
  // (Re)connected: whatever happened while the socket was not subscribed may be missing, so
  // refetch the lists, resume the open thread from its newest seq and resend unsent replies.
  for (const status of ["open", "resolved"]) if (state.lists[status].loaded) fetchList(status);
  if (everUp) {
    for (const id of [...state.threads.keys()]) if (id !== state.currentId) state.threads.delete(id);
    readSent.clear();
    const summary = state.conversations.get(state.currentId);
    if (summary) ensureTeam(summary.site_id, { force: true });
  }
  if (state.currentId !== null && state.threads.get(state.currentId)?.loaded) catchUp(state.currentId);
  // Presence, pages and events of the time without a socket: fetch them again.
  if (everUp || state.liveLoaded) fetchLive();
  if (everUp) for (const id of shownContacts()) loadCard(id);
  everUp = true;
  flushPending();
  markRead();
});

socket.addEventListener("down", () => {
  for (const id of state.typing.keys()) {
    for (const author of store.typingOf(id)) store.setTyping(id, author, false);
  }
  showBannerSoon(navigator.onLine === false ? "You're offline. Reconnecting…" : "Reconnecting…", 1200);
});

socket.addEventListener("unauthorized", toLogin);

// Replies still waiting for the server would be lost with the page: ask before leaving.
window.addEventListener("beforeunload", (event) => {
  if (state.pending.size) event.preventDefault();
});

// ---------- start ----------

primeOnFirstClick(() => account.renderNotifications());

setTitle(0);
socket.start();
showBannerSoon("Connecting…", 3000);
ensureList("open");
fetchLive(); // the rail's count of visitors online
const first = routeOf(location.pathname);
history.replaceState({ app: false }, "", location.pathname + location.search);
if (first.page === "inbox") {
  const deepLink = boot.conversation_id ?? first.conversationId;
  if (deepLink !== null && deepLink !== undefined) {
    openConversation(Number(deepLink)).then(() => {
      const summary = state.conversations.get(Number(deepLink));
      if (summary && summary.status !== state.tab) inbox.selectTab(summary.status);
    });
  } else {
    openConversation(null);
  }
} else {
  applyRoute(first);
}
booted = true;
