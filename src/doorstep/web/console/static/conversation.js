// The open conversation: header (contact, status, assignee, resolve/reopen), the message
// history with day separators, pending and failed sends, the "Seen" receipt and typing.
// Message text is only ever set with textContent (see dom.js).

import { avatar, h, icon, reconcile, setAvatar } from "./dom.js";
import { maxSeq, on, pendingOf, sortedMessages, state, typingOf } from "./store.js";
import { clock, dayLabel, full, parse, sameDay } from "./time.js";

const GROUP_GAP_MS = 5 * 60 * 1000;
const NEAR_BOTTOM = 96;

export function createConversationView({ onLoadEarlier, onSetStatus, onAssign, onRetry, onDiscard }) {
  const view = document.getElementById("conversation-view");
  const empty = document.getElementById("conversation-empty");
  const nameEl = document.getElementById("conv-name");
  const avatarEl = document.getElementById("conv-avatar");
  const statusEl = document.getElementById("conv-status");
  const subEl = document.getElementById("conv-sub-text");
  const assigneeEl = document.getElementById("conv-assignee-text");
  const assignEl = document.getElementById("assign-select");
  const statusButton = document.getElementById("status-button");
  const statusLabel = document.getElementById("status-button-label");
  const scroller = document.getElementById("messages");
  const listEl = document.getElementById("message-list");
  const earlierWrap = document.getElementById("load-earlier");
  const earlierButton = document.getElementById("load-earlier-button");
  const typingEl = document.getElementById("typing");
  const jumpButton = document.getElementById("jump-button");

  let shownId = null;
  let els = new Map(); // key -> element, for the conversation on screen
  let lastRenderedMax = 0;
  let stickToBottom = true;

  function contactName(summary) {
    return summary?.contact?.display_name || "Visitor";
  }

  function show(id) {
    if (id !== shownId) {
      shownId = id;
      els = new Map();
      listEl.replaceChildren();
      lastRenderedMax = 0;
      stickToBottom = true;
      jumpButton.hidden = true;
    }
    if (id === null) {
      view.hidden = true;
      empty.hidden = false;
      return;
    }
    view.hidden = false;
    empty.hidden = true;
    renderHeader();
    renderAssign();
    renderThread();
    renderTyping();
  }

  function renderHeader() {
    const summary = state.conversations.get(shownId);
    if (!summary) {
      nameEl.textContent = "Loading…";
      statusEl.hidden = true;
      subEl.textContent = "";
      return;
    }
    const name = contactName(summary);
    nameEl.textContent = name;
    setAvatar(avatarEl, name, `c${summary.contact?.id}`);
    statusEl.hidden = false;
    statusEl.dataset.status = summary.status;
    statusEl.textContent = summary.status === "open" ? "Open" : "Resolved";
    const parts = [];
    if (summary.contact?.email && summary.contact.email !== name) parts.push(summary.contact.email);
    if (state.sites.size > 1) parts.push(state.sites.get(summary.site_id)?.name);
    parts.push(`#${summary.id}`);
    subEl.textContent = parts.filter(Boolean).join(" · ");
    assigneeEl.textContent = summary.assignee
      ? summary.assignee.id === state.me.id ? "Assigned to you" : `Assigned to ${summary.assignee.name}`
      : "Unassigned";
    const resolving = summary.status === "open";
    statusButton.dataset.action = resolving ? "resolve" : "reopen";
    statusLabel.textContent = resolving ? "Resolve" : "Reopen";
    statusButton.title = resolving ? "Mark as resolved" : "Reopen this conversation";
  }

  function renderAssign() {
    const summary = state.conversations.get(shownId);
    const team = summary ? state.teams.get(summary.site_id) || [] : [];
    const current = summary?.assignee?.id ?? "";
    const options = [h("option", { value: "" }, "Unassigned")];
    const members = [...team];
    if (summary?.assignee && !members.some((m) => m.id === summary.assignee.id)) members.push(summary.assignee);
    members.sort((a, b) => (a.id === state.me.id ? -1 : b.id === state.me.id ? 1 : a.name.localeCompare(b.name)));
    for (const m of members) {
      const you = m.id === state.me.id ? " (you)" : "";
      // The closed select shows the chosen name alone; the open list shows who is away.
      const away = m.status === "away" && m.id !== current ? " · away" : "";
      options.push(h("option", { value: m.id }, `${m.name}${you}${away}`));
    }
    // Rebuilding a <select> while it is open would close it under the operator's pointer.
    if (document.activeElement === assignEl && assignEl.dataset.sig === signature(members, current)) return;
    assignEl.dataset.sig = signature(members, current);
    assignEl.replaceChildren(...options);
    assignEl.value = String(current);
    assignEl.disabled = !summary;
  }

  function signature(members, current) {
    return `${current}|${members.map((m) => `${m.id}:${m.name}:${m.status}`).join(",")}`;
  }

  function authorKey(m) {
    return m.author.type === "operator" ? `o${m.author.id}` : m.author.type;
  }

  function renderThread({ forceBottom = false } = {}) {
    if (shownId === null) return;
    const id = shownId;
    const summary = state.conversations.get(id);
    const t = state.threads.get(id);
    const messages = sortedMessages(id);
    const pending = pendingOf(id);

    earlierWrap.hidden = !t?.hasEarlier;
    earlierButton.disabled = Boolean(t?.loadingEarlier);
    earlierButton.textContent = t?.loadingEarlier ? "Loading…" : "Load earlier messages";
    if (!t?.loaded && !messages.length) {
      listEl.replaceChildren(h("p", { class: "thread-start" }, "Loading messages…"));
      return;
    }

    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM;
    const anchor = atBottom ? null : firstVisible();
    const anchorTop = anchor?.getBoundingClientRect().top;

    // The receipt goes under the newest reply the visitor can see.
    let receiptSeq = 0;
    for (const m of messages) if (m.author.type === "operator" && !m.internal) receiptSeq = m.seq;

    const items = [
      ...messages.map((m) => ({ key: `m${m.seq}`, m })),
      ...pending.map((p) => ({
        key: `p${p.client_msg_id}`,
        pending: p,
        m: {
          seq: Infinity,
          author: { type: "operator", id: state.me.id, name: state.me.name, avatar_url: state.me.avatar_url },
          text: p.text,
          internal: p.internal,
          created_at: p.created_at,
        },
      })),
    ];

    const nodes = [];
    let prev = null;
    let prevDate = null;
    for (const item of items) {
      const m = item.m;
      const date = parse(m.created_at) || new Date();
      const newDay = !prevDate || !sameDay(prevDate, date);
      if (newDay) nodes.push(daySeparator(date));
      const first =
        newDay || !prev || authorKey(prev) !== authorKey(m) || prev.internal !== m.internal || date - prevDate > GROUP_GAP_MS;
      const el = messageEl(item, summary);
      el.classList.toggle("is-first", first);
      setStatus(el, item, summary, receiptSeq);
      nodes.push(el);
      prev = m;
      prevDate = date;
    }
    reconcile(listEl, nodes);

    const newMax = maxSeq(id) + pending.length;
    const grew = newMax > lastRenderedMax;
    lastRenderedMax = newMax;
    if (forceBottom || atBottom || stickToBottom) {
      scroller.scrollTop = scroller.scrollHeight;
      stickToBottom = false;
      jumpButton.hidden = true;
    } else {
      // Keep the message the operator was reading where it was (e.g. after "Load earlier").
      if (anchor && anchor.isConnected) scroller.scrollTop += anchor.getBoundingClientRect().top - anchorTop;
      if (grew) jumpButton.hidden = false;
    }
  }

  function firstVisible() {
    const top = scroller.getBoundingClientRect().top;
    for (const el of listEl.querySelectorAll(".msg")) if (el.getBoundingClientRect().bottom > top) return el;
    return null;
  }

  function daySeparator(date) {
    const key = `d${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
    let el = els.get(key);
    if (!el) {
      el = h("h3", { class: "day-sep" }, h("span", null, dayLabel(date)));
      els.set(key, el);
    }
    return el;
  }

  function messageEl(item, summary) {
    let el = els.get(item.key);
    if (el) return el;
    const m = item.m;
    const type = m.author.type;
    const side = type === "visitor" ? "visitor" : type === "system" ? "system" : "operator";
    const name =
      type === "visitor" ? contactName(summary) : type === "operator" ? m.author.name || "Operator" : "Doorstep";
    const date = parse(m.created_at);
    const classes = ["msg", `from-${side}`];
    if (m.internal) classes.push("is-note");
    const bubble = h("div", { class: "bubble", title: full(date) });
    if (m.internal) bubble.append(h("span", { class: "note-label" }, icon("lock"), "Internal note"));
    bubble.append(h("span", { class: "msg-text" }, m.text));
    el = h(
      "div",
      { class: classes.join(" ") },
      side === "system"
        ? null
        : h(
            "div",
            { class: "msg-avatar-slot" },
            avatar(name, type === "visitor" ? `c${summary?.contact?.id}` : `op${m.author.id}`, "xs", m.author.avatar_url),
          ),
      h(
        "div",
        { class: "msg-body" },
        side === "system"
          ? null
          : h(
              "div",
              { class: "msg-meta" },
              h("span", { class: "msg-author" }, name),
              h("time", { datetime: date?.toISOString() }, clock(date)),
            ),
        bubble,
        h("div", { class: "msg-status", hidden: true }),
      ),
    );
    if (item.pending) el.dataset.clientMsgId = item.pending.client_msg_id;
    else el.dataset.seq = m.seq;
    els.set(item.key, el);
    return el;
  }

  function setStatus(el, item, summary, receiptSeq) {
    const status = el.querySelector(".msg-status");
    const p = item.pending;
    el.classList.toggle("is-pending", Boolean(p && p.state === "sending"));
    el.classList.toggle("is-failed", Boolean(p && p.state === "failed"));
    let wanted = "";
    if (p?.state === "sending") wanted = "sending";
    else if (p?.state === "failed") wanted = `failed:${p.error || ""}`;
    else if (item.m.seq === receiptSeq) wanted = (summary?.visitor_read_seq || 0) >= receiptSeq ? "seen" : "sent";
    if (status.dataset.state === wanted) return;
    status.dataset.state = wanted;
    status.hidden = !wanted;
    status.className = "msg-status";
    if (wanted === "sending") {
      status.replaceChildren(icon("clock"), "Sending…");
    } else if (wanted.startsWith("failed")) {
      status.replaceChildren(
        icon("alert"),
        p.error ? `Not sent: ${p.error}` : "Not sent.",
        h("button", { class: "link-button", type: "button", onclick: () => onRetry(p.client_msg_id) }, "Retry"),
        h("button", { class: "link-button", type: "button", onclick: () => onDiscard(p.client_msg_id) }, "Discard"),
      );
    } else if (wanted === "seen") {
      status.classList.add("is-seen");
      status.replaceChildren(icon("checks"), "Seen");
    } else if (wanted === "sent") {
      status.replaceChildren(icon("check"), "Sent");
    } else {
      status.replaceChildren();
    }
  }

  function renderTyping() {
    const authors = shownId === null ? [] : typingOf(shownId);
    if (!authors.length) {
      typingEl.replaceChildren();
      return;
    }
    const summary = state.conversations.get(shownId);
    const names = authors.map((a) => (a.type === "visitor" ? contactName(summary) : a.name || "A teammate"));
    const label = names.length === 1 ? `${names[0]} is typing…` : `${names.join(" and ")} are typing…`;
    const dots = h("span", { class: "typing-dots", "aria-hidden": "true" }, h("span"), h("span"), h("span"));
    typingEl.replaceChildren(dots, label);
    if (scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM) {
      scroller.scrollTop = scroller.scrollHeight;
    }
  }

  scroller.addEventListener("scroll", () => {
    if (scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM) jumpButton.hidden = true;
  }, { passive: true });
  jumpButton.addEventListener("click", () => {
    scroller.scrollTo({ top: scroller.scrollHeight, behavior: "smooth" });
    jumpButton.hidden = true;
  });
  earlierButton.addEventListener("click", () => onLoadEarlier(shownId));
  statusButton.addEventListener("click", () => {
    const summary = state.conversations.get(shownId);
    if (summary) onSetStatus(shownId, summary.status === "open" ? "resolved" : "open");
  });
  assignEl.addEventListener("change", () => {
    const value = assignEl.value === "" ? null : Number(assignEl.value);
    onAssign(shownId, value);
  });

  on("conversation", (id) => {
    if (id !== shownId) return;
    renderHeader();
    renderAssign();
    renderThread(); // the receipt follows visitor_read_seq
  });
  on("thread", (id) => {
    if (id === shownId) renderThread();
  });
  on("typing", (id) => {
    if (id === shownId) renderTyping();
  });
  on("team", () => renderAssign());
  on("presence", () => renderAssign());
  on("contact", () => {
    // A renamed contact: redraw the visitor's name on every message.
    const summary = state.conversations.get(shownId);
    if (!summary) return;
    for (const [key, el] of els) if (el.classList.contains("from-visitor")) els.delete(key);
    renderThread();
  });

  return {
    show,
    render: () => renderThread(),
    scrollToBottom: () => renderThread({ forceBottom: true }),
    get shownId() {
      return shownId;
    },
    restoreAssign() {
      const summary = state.conversations.get(shownId);
      assignEl.value = String(summary?.assignee?.id ?? "");
    },
  };
}
