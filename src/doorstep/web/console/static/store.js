// The console's state in one place, with a tiny publish/subscribe so that views redraw
// themselves. Nothing here touches the DOM or the network.
//
// Topics: "list" (summaries changed), "conversation" (id), "thread" (id), "typing" (id),
// "presence", "team" (site id), "contact" (contact id), "me".

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
  contacts: new Map(), // contact id -> contact card (contact + conversations)
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
