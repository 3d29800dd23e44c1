// The Live visitors page (docs/live.md): who is on the site now, what they look at, for how
// long and where they came from, kept current by socket frames; "Message" writes to one
// of them first. Also the rail badge with the number of visitors on the site.

import { tickIn, ticking } from "./contact-card.js";
import { avatar, h, icon, plainClick, uuid } from "./dom.js";
import { channelLabel, countryName, deviceText, flag, number, pathOf, safeUrl, shortUrl, sourceDetail } from "./format.js";
import * as store from "./store.js";
import { parse } from "./time.js";

const { state } = store;

export function createLivePage({ onOpenContact, onMessage }) {
  const page = document.getElementById("page-live");
  const rowsEl = document.getElementById("live-rows");
  const tableWrap = document.getElementById("live-table-wrap");
  const emptyEl = document.getElementById("live-empty");
  const loadingEl = document.getElementById("live-loading");
  const summaryEl = document.getElementById("live-summary");
  const badges = [...document.querySelectorAll("[data-live-badge]")];
  const siteColumn = state.sites.size > 1;
  const rows = new Map(); // visitor id -> {tr, sig, page}
  let everRendered = false;
  tickIn(page);

  function render() {
    renderBadge();
    if (page.hidden) return;
    const list = store.liveList();
    const nodes = list.map((r) => rowFor(r));
    const wanted = new Set(list.map((r) => r.visitor_id));
    for (const id of rows.keys()) if (!wanted.has(id)) rows.delete(id);
    keepFocus(() => {
      for (const child of [...rowsEl.children]) if (!nodes.includes(child)) child.remove();
      let cursor = rowsEl.firstElementChild;
      for (const node of nodes) {
        if (node === cursor) cursor = cursor.nextElementSibling;
        else rowsEl.insertBefore(node, cursor);
      }
    });
    const shown = list.filter((r) => !r.leaving).length;
    loadingEl.hidden = state.liveLoaded;
    tableWrap.hidden = !state.liveLoaded || list.length === 0;
    emptyEl.hidden = !state.liveLoaded || list.length > 0;
    summaryEl.textContent = state.liveLoaded ? (shown === 1 ? "1 visitor online" : `${shown} visitors online`) : "";
    if (state.liveLoaded) everRendered = true;
  }

  function renderBadge() {
    const count = store.liveCount();
    for (const badge of badges) {
      badge.hidden = count === 0;
      badge.replaceChildren(count > 99 ? "99+" : String(count), h("span", { class: "visually-hidden" }, count === 1 ? " visitor online" : " visitors online"));
    }
  }

  /** A focused "Message" button whose row is redrawn keeps the keyboard where it was. */
  function keepFocus(fn) {
    const active = document.activeElement;
    const key = rowsEl.contains(active) ? active.dataset.key : null;
    fn();
    if (key && !rowsEl.contains(document.activeElement)) rowsEl.querySelector(`[data-key="${key}"]`)?.focus({ preventScroll: true });
  }

  function rowFor(r) {
    const sig = JSON.stringify([r.contact, r.url, r.title, r.visit_started_at, r.pages_this_visit, r.source, r.location, r.device, r.cart_value, r.leaving, r.site_id]);
    let entry = rows.get(r.visitor_id);
    if (entry && entry.sig === sig) return entry.tr;
    const tr = entry?.tr || h("tr", { class: "live-row", dataset: { visitor: r.visitor_id } });
    if (!entry && everRendered) {
      tr.classList.add("is-fresh");
      setTimeout(() => tr.classList.remove("is-fresh"), 1700);
    }
    const pageChanged = entry && entry.page !== r.url;
    fill(tr, r);
    tr.classList.toggle("is-leaving", Boolean(r.leaving));
    if (r.leaving) tr.setAttribute("aria-hidden", "true");
    if (pageChanged) {
      const cell = tr.querySelector(".live-page");
      cell?.classList.add("is-changed");
      setTimeout(() => cell?.classList.remove("is-changed"), 1600);
    }
    rows.set(r.visitor_id, { tr, sig, page: r.url });
    return tr;
  }

  function fill(tr, r) {
    const name = r.contact?.display_name || `Visitor #${r.contact_id}`;
    const started = parse(r.visit_started_at);
    const url = safeUrl(r.url);
    const title = r.title || (r.url ? shortUrl(r.url) : "");
    const country = r.location?.country;
    const where = [r.location?.city, countryName(country)].filter(Boolean).join(", ");
    const d = r.device || {};
    const site = siteColumn ? state.sites.get(r.site_id)?.name : null;
    const contactHref = `/console/contacts/${r.contact_id}`;
    tr.replaceChildren(
      h("td", { class: "live-visitor", "data-label": "Visitor" },
        h("span", { class: "cell-with-avatar" },
          h("span", { class: "live-avatar" }, avatar(name, `c${r.contact_id}`, "sm"), h("span", { class: "presence-dot", "data-status": "online" })),
          h("span", { class: "cell-stack" },
            h("a", { class: "cell-title cell-link", href: contactHref, onclick: (event) => {
              if (!plainClick(event)) return;
              event.preventDefault();
              onOpenContact(r.contact_id);
            } }, name),
            h("span", { class: "cell-sub" }, site ? `${r.contact?.email || "Anonymous"} · ${site}` : r.contact?.email || "Anonymous")))),
      h("td", { class: "live-page", "data-label": "Current page" },
        r.url
          ? h("span", { class: "cell-stack" },
            h(url ? "a" : "span", { class: "cell-title cell-link", href: url, target: url ? "_blank" : null, rel: url ? "noopener noreferrer" : null, title: r.url }, title),
            h("span", { class: "cell-sub cell-mono" }, pathOf(r.url)))
          : h("span", { class: "cell-muted" }, "Opening a page…")),
      h("td", { class: "live-time num", "data-label": "On site" }, started ? ticking("since", started) : h("span", { class: "cell-muted" }, "—")),
      h("td", { class: "live-pages num", "data-label": "Pages" }, String(r.pages_this_visit || 0)),
      h("td", { class: "live-source", "data-label": "Source" },
        r.source
          ? h("span", { class: "cell-stack" },
            h("span", null, h("span", { class: "channel-pill", "data-channel": r.source.channel || "direct" }, channelLabel(r.source.channel) || "Direct")),
            sourceDetail(r.source) || r.source.referrer_host
              ? h("span", { class: "cell-sub" }, sourceDetail(r.source) || r.source.referrer_host)
              : null)
          : h("span", { class: "cell-muted" }, "—")),
      h("td", { class: "live-location", "data-label": "Location" },
        where
          ? h("span", { class: "with-flag" }, flag(country) ? h("span", { class: "flag", "aria-hidden": "true" }, flag(country)) : null, where)
          : h("span", { class: "cell-muted" }, "Unknown")),
      h("td", { class: "live-device", "data-label": "Device" },
        deviceText(d)
          ? h("span", { class: "with-icon", title: deviceText(d) },
            icon(d.type === "mobile" ? "mobile" : d.type === "tablet" ? "tablet" : "desktop"),
            h("span", { class: "visually-hidden" }, `${d.type || "Unknown"} · `),
            h("span", null, [d.os, d.browser].filter(Boolean).join(" · ") || d.type))
          : h("span", { class: "cell-muted" }, "Unknown")),
      h("td", { class: "live-cart num", "data-label": "Cart" },
        typeof r.cart_value === "number" ? number(r.cart_value)
          : r.cart_value !== null && r.cart_value !== undefined && r.cart_value !== "" ? String(r.cart_value)
            : h("span", { class: "cell-muted", "aria-label": "None" }, "—")),
      h("td", { class: "live-action" },
        h("button", {
          class: "btn btn-secondary btn-sm", type: "button", "data-key": `msg${r.visitor_id}`,
          "aria-label": `Message ${name}`, disabled: r.leaving,
          onclick: () => onMessage({ contactId: r.contact_id, name, title: r.title, url: r.url, returnFocus: `[data-key="msg${r.visitor_id}"]` }),
        }, icon("message"), h("span", null, "Message"))),
    );
  }

  store.on("live", render);
  return {
    show() {
      render();
    },
    render,
  };
}

/**
 * The "Message" dialog: one textarea, Enter sends. onSend(contactId, text) resolves with the
 * conversation id; the dialog closes and the caller opens that conversation.
 */
export function createMessageDialog({ onSend }) {
  const dialog = document.getElementById("message-dialog");
  const form = document.getElementById("message-form");
  const title = document.getElementById("message-dialog-title");
  const sub = document.getElementById("message-dialog-sub");
  const textarea = document.getElementById("message-text");
  const error = document.getElementById("message-error");
  const send = document.getElementById("message-send");
  let target = null;
  let sentOk = false;

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
    if (text) textarea.setAttribute("aria-invalid", "true");
    else textarea.removeAttribute("aria-invalid");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text) {
      showError("Write a message first.");
      textarea.focus();
      return;
    }
    if (send.getAttribute("aria-busy") === "true") return;
    send.setAttribute("aria-busy", "true");
    send.disabled = true;
    showError("");
    try {
      const conversationId = await onSend(target.contactId, text, target.clientMsgId);
      sentOk = true;
      dialog.close();
      target.afterSend?.(conversationId);
    } catch (problem) {
      showError(problem.message || "Couldn't send. Please try again.");
      textarea.focus();
    } finally {
      send.removeAttribute("aria-busy");
      send.disabled = false;
    }
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  textarea.addEventListener("input", () => showError(""));
  for (const button of dialog.querySelectorAll("[data-close]")) button.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // the backdrop
  });
  dialog.addEventListener("close", () => {
    if (!sentOk && target?.returnFocus) document.querySelector(target.returnFocus)?.focus();
  });

  return {
    open(t) {
      // One id per message written: a retry after a network error is never stored twice.
      target = { ...t, clientMsgId: uuid() };
      sentOk = false;
      title.textContent = `Message ${t.name}`;
      const where = t.title || (t.url ? pathOf(t.url) : "");
      sub.textContent = where ? `Viewing ${where}. Your message pops up in their chat widget.` : "Your message pops up in their chat widget.";
      textarea.value = "";
      showError("");
      dialog.showModal();
      textarea.focus();
    },
  };
}
