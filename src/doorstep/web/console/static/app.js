// Doorstep console: wires the REST API, the operator socket and the views together.
// docs/console.md describes what the operator sees; docs/websocket.md the frames.

import { createAccountMenu } from "./account.js";
import { createApi } from "./api.js";
import { createComposer } from "./composer.js";
import { createContactPanel } from "./contact.js";
import { createConversationView } from "./conversation.js";
import { isPhone, isTouch, toast } from "./dom.js";
import { createInbox } from "./inbox.js";
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

function toLogin() {
  location.assign(`/console/login?next=${encodeURIComponent(location.pathname)}`);
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Plain-HTTP deployments are not a secure context; getRandomValues still works there.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((n) => n.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
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

function idFromPath(path) {
  const match = /^\/console\/conversations\/(\d+)\/?$/.exec(path);
  return match ? Number(match[1]) : null;
}

function goToInbox() {
  if (history.state?.app) history.back();
  else {
    history.pushState({ app: true }, "", "/console/");
    openConversation(null);
  }
}

document.getElementById("back-button").addEventListener("click", (event) => {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  goToInbox();
  inbox.focusCurrent();
});

for (const link of document.querySelectorAll('a[data-nav="inbox"], a.rail-brand')) {
  link.addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if (state.currentId !== null) {
      history.pushState({ app: true }, "", "/console/");
      openConversation(null);
    }
    inbox.focusCurrent();
  });
}

window.addEventListener("popstate", () => {
  openConversation(idFromPath(location.pathname));
});

async function openConversation(id, { push = false, focusComposer = false } = {}) {
  const url = id === null ? "/console/" : `/console/conversations/${id}`;
  if (push && location.pathname !== url) history.pushState({ app: true }, "", url);
  const previous = state.currentId;
  state.currentId = id;
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
  contactPanel.show(id, summary.contact.id);
  loadContact(summary.contact.id);
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

async function loadContact(contactId) {
  try {
    store.setContact(await api.get(`/contacts/${contactId}`));
  } catch {
    contactPanel.markFailed(contactId);
  }
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
store.on("list", () => setTitle(store.unreadTotal()));

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
const deepLink = boot.conversation_id ?? idFromPath(location.pathname);
history.replaceState({ app: false }, "", location.pathname + location.search);
if (deepLink !== null && deepLink !== undefined) {
  openConversation(Number(deepLink)).then(() => {
    const summary = state.conversations.get(Number(deepLink));
    if (summary && summary.status !== state.tab) inbox.selectTab(summary.status);
  });
} else {
  openConversation(null);
}
