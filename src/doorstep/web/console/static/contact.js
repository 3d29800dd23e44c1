// The contact side panel: who the visitor is, their attributes and their other
// conversations. Inline on wide screens (the choice is remembered), an overlay otherwise.

import { avatar, h } from "./dom.js";
import { on, state } from "./store.js";
import { full, medium, parse, relative } from "./time.js";

const PREF_KEY = "doorstep.contactPanel";
const wide = window.matchMedia("(min-width: 1100px)");

export function createContactPanel({ onOpenConversation }) {
  const shell = document.getElementById("shell");
  const pane = document.getElementById("contact-panel");
  const body = document.getElementById("contact-body");
  const toggle = document.getElementById("contact-toggle");
  const closeButton = document.getElementById("contact-close");
  const scrim = document.getElementById("scrim");

  let contactId = null;
  let conversationId = null;
  let overlayOpen = false;
  let failed = false;

  function isOpen() {
    if (conversationId === null) return false;
    return wide.matches ? localStorage.getItem(PREF_KEY) !== "closed" : overlayOpen;
  }

  function applyOpen() {
    const open = isOpen();
    pane.dataset.open = String(open);
    shell.dataset.contactOpen = String(open && !wide.matches);
    scrim.hidden = !(open && !wide.matches);
    toggle.setAttribute("aria-expanded", String(open));
  }

  function setOpen(open, { focus = true } = {}) {
    if (wide.matches) localStorage.setItem(PREF_KEY, open ? "open" : "closed");
    else overlayOpen = open;
    applyOpen();
    if (!focus) return;
    if (open && !wide.matches) closeButton.focus();
    if (!open) toggle.focus();
  }

  function row(label, value) {
    if (value === null || value === undefined || value === "") return null;
    return [h("dt", null, label), h("dd", null, value)];
  }

  function render() {
    if (conversationId === null) {
      body.replaceChildren();
      return;
    }
    const card = state.contacts.get(contactId);
    const summary = state.conversations.get(conversationId);
    if (!card) {
      const name = summary?.contact?.display_name || "Visitor";
      body.replaceChildren(
        h("div", { class: "contact-card" }, avatar(name, `c${contactId}`, "xl"), h("p", { class: "contact-name" }, name),
          h("p", { class: "contact-sub" }, failed ? "Couldn't load this contact." : "Loading details…")),
      );
      return;
    }
    const name = card.display_name || "Visitor";
    const firstSeen = parse(card.created_at);
    const lastSeen = parse(card.last_seen_at);
    const email = card.email ? h("a", { href: `mailto:${card.email}` }, card.email) : null;
    const phone = card.phone ? h("a", { href: `tel:${card.phone.replace(/[^\d+]/g, "")}` }, card.phone) : null;
    const details = [
      row("Email", email),
      row("Phone", phone),
      row("User ID", card.external_id),
      row("First seen", firstSeen ? h("time", { datetime: firstSeen.toISOString(), title: full(firstSeen) }, medium(firstSeen)) : null),
      row("Last seen", lastSeen ? h("time", { datetime: lastSeen.toISOString(), title: full(lastSeen) }, lastSeenText(lastSeen)) : null),
    ].filter(Boolean);
    if (state.sites.size > 1) details.push(row("Site", state.sites.get(card.site_id)?.name));

    const attributes = Object.entries(card.attributes || {}).sort(([a], [b]) => a.localeCompare(b));
    const conversations = [...(card.conversations || [])].sort((a, b) => b.id - a.id);

    // Live updates redraw the panel; keep keyboard focus on the same link if it had it.
    const focusedHref = body.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
    body.replaceChildren(
      h(
        "div",
        { class: "contact-card" },
        avatar(name, `c${card.id}`, "xl", card.avatar_url),
        h("p", { class: "contact-name" }, name),
        h("p", { class: "contact-sub" }, card.name && card.email ? card.email : card.email ? "" : "No email yet"),
      ),
      h("section", { class: "contact-section", "aria-labelledby": "contact-details-title" },
        h("h3", { id: "contact-details-title" }, "Details"),
        details.length ? h("dl", { class: "kv" }, details) : h("p", { class: "muted" }, "Nothing known yet."),
      ),
      h("section", { class: "contact-section", "aria-labelledby": "contact-attributes-title" },
        h("h3", { id: "contact-attributes-title" }, "Attributes"),
        attributes.length
          ? h("dl", { class: "kv" }, attributes.map(([key, value]) => row(key, formatValue(value))))
          : h("p", { class: "muted" }, "No attributes yet."),
      ),
      h("section", { class: "contact-section", "aria-labelledby": "contact-conversations-title" },
        h("h3", { id: "contact-conversations-title" }, "Conversations"),
        conversations.length
          ? h("ul", { class: "other-convs" }, conversations.map(conversationLink))
          : h("p", { class: "muted" }, "No other conversations."),
      ),
    );
    if (focusedHref) [...body.querySelectorAll("a[href]")].find((a) => a.getAttribute("href") === focusedHref)?.focus();
  }

  function conversationLink(stored) {
    const c = state.conversations.get(stored.id) || stored; // the live row when we have it
    const at = parse(c.last_message?.at || c.created_at);
    const current = c.id === conversationId;
    return h(
      "li",
      null,
      h(
        "a",
        {
          class: "other-conv",
          href: `/console/conversations/${c.id}`,
          "aria-current": current ? "page" : null,
          onclick: (event) => {
            if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
            event.preventDefault();
            if (!wide.matches) setOpen(false, { focus: false });
            onOpenConversation(c.id);
          },
        },
        h(
          "span",
          { class: "other-conv-top" },
          h("span", { class: "status-pill", "data-status": c.status }, c.status === "open" ? "Open" : "Resolved"),
          h("time", { datetime: at?.toISOString(), title: full(at) }, current ? "This conversation" : relative(at)),
        ),
        h("span", { class: "other-conv-text" }, (c.last_message?.text || "No messages").replace(/\s+/g, " ")),
      ),
    );
  }

  toggle.addEventListener("click", () => setOpen(!isOpen()));
  closeButton.addEventListener("click", () => setOpen(false));
  scrim.addEventListener("click", () => setOpen(false));
  pane.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !wide.matches) {
      event.stopPropagation();
      setOpen(false);
    }
  });
  wide.addEventListener("change", applyOpen);
  on("contact", (id) => {
    if (id === contactId) render();
  });
  on("conversation", (id) => {
    if (conversationId === null) return;
    const card = state.contacts.get(contactId);
    if (id === conversationId || card?.conversations?.some((c) => c.id === id)) render();
  });

  return {
    show(convId, cId) {
      if (convId !== conversationId) overlayOpen = false;
      conversationId = convId;
      contactId = cId;
      failed = false;
      applyOpen();
      render();
    },
    markFailed(cId) {
      if (cId !== contactId) return;
      failed = true;
      render();
    },
  };
}

function formatValue(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function lastSeenText(date) {
  const r = relative(date);
  return r === "now" ? "Just now" : /^\d+[mh]$/.test(r) ? `${r} ago` : r;
}
