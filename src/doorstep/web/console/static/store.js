// The console's state in one place, with a tiny publish/subscribe so that views redraw
// themselves. Nothing here touches the DOM or the network.
//
// Topics: "list" (summaries changed), "conversation" (id), "thread" (id), "typing" (id),
// "presence", "team" (site id), "contact" (contact id), "me", "live" (live visitors changed),
// "merged" ({from, into}), "erased" (contact id), "signedOut" ({contact_id, browsers}).

const listeners = new Map();

export function on(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(fn);
}

export function emit(topic, detail) {
  for (const fn of listeners.get(topic) || []) fn(detail);
}

export const state = {
  me: null, // {id, name, email, role, avatar_url, status}
  sites: new Map(),
  conversations: new Map(), // id -> summary (ConversationSummary.public())
  lists: {
    open: { loaded: false, loading: false, hasMore: false },
    resolved: { loaded: false, loading: false, hasMore: false },
  },
  tab: "open",
  currentId: null,
  threads: new Map(), // conversation id -> {messages: Map(seq -> message), hasEarlier, loaded}
  pending: new Map(), // client_msg_id -> {client_msg_id, conversation_id, text, internal, state, error, created_at}
  teams: new Map(), // site id -> [{id, name, avatar_url, email, role, status}]
  presence: new Map(), // operator id -> "online" | "away"
  contacts: new Map(), // contact id -> contact card (ContactCard.public())
  cardExtras: new Map(), // contact id -> {older, fresh (events from frames), hasMore, loadingMore, shown}
  aliases: new Map(), // merged contact id -> the contact it lives on as
  live: new Map(), // visitor id -> live visitor (services/live.py), plus {leaving, provisional}
  leftAt: new Map(), // contact id -> when their last tab closed (seen on this console)
  liveLoaded: false,
  typing: new Map(), // conversation id -> Map(key -> {author, timer})
  fresh: new Set(), // conversation ids to highlight once
};

export function activityOf(summary) {
  return summary.last_message?.at || summary.created_at || "";
}

/** The conversations of a status, most recent activity first. */
export function listOf(status) {
  return [...state.conversations.values()]
    .filter((c) => c.status === status)
    .sort((a, b) => {
      const byTime = activityOf(b).localeCompare(activityOf(a));
      return byTime || b.id - a.id;
    });
}

export function unreadTotal() {
  let total = 0;
  for (const c of state.conversations.values()) if (c.status === "open") total += c.unread || 0;
  return total;
}

export function upsertSummary(summary, { fresh = false } = {}) {
  if (!summary || typeof summary.id !== "number") return;
  const old = state.conversations.get(summary.id);
  // Frames and responses can cross: never let an older snapshot win.
  if (old && old.updated_at && summary.updated_at && summary.updated_at < old.updated_at) return;
  state.conversations.set(summary.id, summary);
  if (fresh) state.fresh.add(summary.id);
  emit("list");
  emit("conversation", summary.id);
}

export function patchSummary(id, changes) {
  const old = state.conversations.get(id);
  if (!old) return;
  state.conversations.set(id, { ...old, ...changes });
  emit("list");
  emit("conversation", id);
}

export function thread(id) {
  let t = state.threads.get(id);
  if (!t) {
    t = { messages: new Map(), hasEarlier: false, loaded: false };
    state.threads.set(id, t);
  }
  return t;
}

export function sortedMessages(id) {
  const t = state.threads.get(id);
  if (!t) return [];
  return [...t.messages.values()].sort((a, b) => a.seq - b.seq);
}

export function maxSeq(id) {
  const t = state.threads.get(id);
  let max = 0;
  if (t) for (const seq of t.messages.keys()) if (seq > max) max = seq;
  return max;
}

export function minSeq(id) {
  const t = state.threads.get(id);
  let min = Infinity;
  if (t) for (const seq of t.messages.keys()) if (seq < min) min = seq;
  return min === Infinity ? 0 : min;
}

/** Merge stored messages into a thread; a stored message replaces its pending copy. */
export function addMessages(conversationId, messages) {
  if (!messages.length) return;
  const t = thread(conversationId);
  for (const m of messages) {
    t.messages.set(m.seq, m);
    if (m.client_msg_id && state.pending.has(m.client_msg_id)) state.pending.delete(m.client_msg_id);
  }
  emit("thread", conversationId);
}

export function addPending(entry) {
  state.pending.set(entry.client_msg_id, entry);
  emit("thread", entry.conversation_id);
}

export function updatePending(clientMsgId, changes) {
  const entry = state.pending.get(clientMsgId);
  if (!entry) return;
  Object.assign(entry, changes);
  emit("thread", entry.conversation_id);
}

export function removePending(clientMsgId) {
  const entry = state.pending.get(clientMsgId);
  if (!entry) return;
  state.pending.delete(clientMsgId);
  emit("thread", entry.conversation_id);
}

export function pendingOf(conversationId) {
  return [...state.pending.values()]
    .filter((p) => p.conversation_id === conversationId)
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
}

const TYPING_TIMEOUT = 8000; // a lost typing.stop must not leave the dots forever

export function setTyping(conversationId, author, active) {
  const key = author.type === "visitor" ? "visitor" : `op${author.id}`;
  let entries = state.typing.get(conversationId);
  if (!entries) state.typing.set(conversationId, (entries = new Map()));
  const old = entries.get(key);
  if (old) clearTimeout(old.timer);
  if (active) {
    const timer = setTimeout(() => setTyping(conversationId, author, false), TYPING_TIMEOUT);
    entries.set(key, { author, timer });
  } else {
    entries.delete(key);
  }
  emit("typing", conversationId);
}

export function typingOf(conversationId) {
  return [...(state.typing.get(conversationId)?.values() || [])].map((e) => e.author);
}

export function setPresence(operatorId, status) {
  state.presence.set(operatorId, status);
  for (const team of state.teams.values()) {
    for (const member of team) if (member.id === operatorId) member.status = status;
  }
  if (state.me && operatorId === state.me.id) {
    state.me.status = status;
    emit("me");
  }
  emit("presence");
}

export function setTeam(siteId, members) {
  for (const m of members) if (state.presence.has(m.id)) m.status = state.presence.get(m.id);
  state.teams.set(siteId, members);
  emit("team", siteId);
}

export function setContact(card) {
  state.contacts.set(card.id, card);
  emit("contact", card.id);
}

/** A contact.updated frame: refresh the card and the names in list rows. */
export function updateContact(contact) {
  const card = state.contacts.get(contact.id);
  if (card) state.contacts.set(contact.id, { ...card, ...contact });
  let touched = false;
  for (const [id, summary] of state.conversations) {
    if (summary.contact?.id === contact.id) {
      state.conversations.set(id, {
        ...summary,
        contact: { ...summary.contact, display_name: contact.display_name, email: contact.email },
      });
      touched = true;
      emit("conversation", id);
    }
  }
  if (touched) emit("list");
  let liveTouched = false;
  for (const [id, row] of state.live) {
    if (row.contact_id === contact.id && row.contact) {
      state.live.set(id, { ...row, contact: { ...row.contact, display_name: contact.display_name, email: contact.email },
        cart_value: contact.attributes ? (contact.attributes.cart_value ?? null) : row.cart_value });
      liveTouched = true;
    }
  }
  if (liveTouched) emit("live");
  emit("contactData", contact);
  emit("contact", contact.id);
}

/** Many summaries at once (a page of the list), announced once. */
export function upsertSummaries(list) {
  for (const summary of list) {
    const old = state.conversations.get(summary.id);
    if (old && old.updated_at && summary.updated_at && summary.updated_at < old.updated_at) continue;
    state.conversations.set(summary.id, summary);
    emit("conversation", summary.id);
  }
  emit("list");
}

export function removeSummary(id) {
  if (state.conversations.delete(id)) emit("list");
}

// ---------- contacts beyond the inbox ----------

/** The contact an id stands for now: a merged contact lives on as another. */
export function resolveContact(id) {
  let seen = 0;
  while (state.aliases.has(id) && seen++ < 10) id = state.aliases.get(id);
  return id;
}

export function cardExtras(contactId) {
  let extras = state.cardExtras.get(contactId);
  if (!extras) {
    extras = { older: [], fresh: [], hasMore: false, loadingMore: false, shown: 10 };
    state.cardExtras.set(contactId, extras);
  }
  return extras;
}

/** A fresh card from the server: events that arrived by frame and are in it are dropped. */
export function setCard(card, requestedId = card.id) {
  if (requestedId !== card.id) state.aliases.set(requestedId, card.id);
  const extras = cardExtras(card.id);
  const newest = card.events?.[0]?.at || "";
  extras.fresh = extras.fresh.filter((e) => e.at > newest);
  if (!extras.older.length) extras.hasMore = (card.events?.length || 0) >= 50;
  setContact(card);
}

/** A contact.event_tracked frame: the event goes on top of the card's timeline. */
export function addTrackedEvent(contactId, event) {
  if (!state.contacts.has(contactId)) return;
  cardExtras(contactId).fresh.unshift({ ...event, id: null, isNew: true });
  emit("contact", contactId);
}

/** A visitor.page_viewed frame: the live row and the card's current visit follow it. */
export function pageViewed(frame) {
  const row = state.live.get(frame.visitor_id);
  const since = frame.at ? new Date(frame.at).getTime() / 1000 : Date.now() / 1000;
  if (row) {
    const sameVisit = row.visit_id === frame.visit_id;
    const newer = !row.page_since || since >= row.page_since;
    state.live.set(frame.visitor_id, {
      ...row,
      url: newer ? frame.url : row.url,
      title: newer ? frame.title : row.title,
      page_since: newer ? since : row.page_since,
      visit_id: frame.visit_id,
      pages_this_visit: sameVisit ? (row.pages_this_visit || 0) + 1 : 1,
      visit_started_at: sameVisit ? row.visit_started_at : frame.at || row.visit_started_at,
      changedAt: Date.now(),
    });
    emit("live", frame.visitor_id);
  }
  const card = state.contacts.get(frame.contact_id);
  if (card?.current_visit && card.current_visit.id === frame.visit_id) {
    const pages = card.current_visit.pages || [];
    const page = { url: frame.url, path: pathFrom(frame.url), title: frame.title, at: frame.at, duration_ms: 0, scroll_depth: 0 };
    state.contacts.set(card.id, {
      ...card,
      last_seen_at: frame.at || card.last_seen_at,
      current_visit: { ...card.current_visit, last_activity_at: frame.at, pages: [...pages, page] },
    });
    emit("contact", card.id);
  }
  return Boolean(row);
}

function pathFrom(url) {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** A whole list from GET /live-visitors; rows a frame touched meanwhile keep the newer page. */
export function setLive(rows, { startedAt = 0, goneSince = new Map() } = {}) {
  const next = new Map();
  for (const row of rows) {
    const gone = goneSince.get(row.visitor_id);
    if (gone && gone >= startedAt) continue; // left while the request was under way
    const old = state.live.get(row.visitor_id);
    if (old && !old.provisional && old.page_since && row.page_since && old.page_since > row.page_since) {
      next.set(row.visitor_id, { ...row, url: old.url, title: old.title, page_since: old.page_since,
        pages_this_visit: Math.max(row.pages_this_visit || 0, old.pages_this_visit || 0) });
    } else {
      next.set(row.visitor_id, row);
    }
  }
  // Rows fading out stay until their fade ends.
  for (const [id, old] of state.live) if (old.leaving && !next.has(id)) next.set(id, old);
  state.live = next;
  state.liveLoaded = true;
  emit("live");
}

export function upsertLive(row) {
  const old = state.live.get(row.visitor_id);
  state.live.set(row.visitor_id, { ...old, ...row, leaving: false });
  emit("live", row.visitor_id);
}

export function patchLive(visitorId, changes) {
  const old = state.live.get(visitorId);
  if (!old) return;
  state.live.set(visitorId, { ...old, ...changes });
  emit("live", visitorId);
}

export function removeLive(visitorId) {
  if (state.live.delete(visitorId)) emit("live", visitorId);
}

/** The contact of a visitor who just left: remembered when none of their tabs is left. */
export function noteLeft(contactId) {
  if (liveOfContact(contactId)) return;
  state.leftAt.set(contactId, new Date());
  emit("live");
}

/** Visitors on the site now, the latest arrival first (the server's order). */
export function liveList() {
  return [...state.live.values()]
    .filter((r) => !r.provisional)
    .sort((a, b) => (b.visit_started_at || "").localeCompare(a.visit_started_at || "") || b.visitor_id - a.visitor_id);
}

export function liveCount() {
  let n = 0;
  for (const r of state.live.values()) if (!r.leaving && !r.provisional) n += 1;
  return n;
}

/** The live row of a contact (the most recent page when they have several tabs' browsers). */
export function liveOfContact(contactId) {
  let best = null;
  for (const r of state.live.values()) {
    if (r.contact_id !== contactId || r.leaving) continue;
    if (!best || (r.page_since || 0) > (best.page_since || 0)) best = r;
  }
  return best;
}

/** A contact.merged frame: everything known under `from` now belongs to `into`. */
export function mergeContacts(from, into) {
  state.aliases.set(from, into);
  for (const [id, row] of state.live) if (row.contact_id === from) state.live.set(id, { ...row, contact_id: into });
  state.contacts.delete(from);
  state.cardExtras.delete(from);
  emit("merged", { from, into });
  emit("live");
}

/** An erased contact: its card, live rows and conversations disappear from this console. */
export function eraseContact(contactId) {
  state.contacts.delete(contactId);
  state.cardExtras.delete(contactId);
  for (const [id, row] of state.live) if (row.contact_id === contactId) state.live.delete(id);
  for (const [id, summary] of state.conversations) if (summary.contact?.id === contactId) state.conversations.delete(id);
  emit("erased", contactId);
  emit("live");
  emit("list");
}
