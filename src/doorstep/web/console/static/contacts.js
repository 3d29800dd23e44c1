// The Contacts page (search, paging, CSV) and a contact's own page: the contact card full
// size, "Export data (JSON)" and, for admins, "Erase contact…" behind a typed confirmation.

import { cardFailure, createContactCard } from "./contact-card.js";
import { avatar, h, plainClick, toast } from "./dom.js";
import { countryName, flag } from "./format.js";
import * as store from "./store.js";
import { ago, full, parse } from "./time.js";

const { state } = store;
const PAGE = 50;
const SEARCH_DELAY = 250;

export function createContactsPage({ api, onOpenContact, onQuery }) {
  const page = document.getElementById("page-contacts");
  const search = document.getElementById("contacts-search");
  const csv = document.getElementById("contacts-csv");
  const tableWrap = document.getElementById("contacts-table-wrap");
  const rowsEl = document.getElementById("contacts-rows");
  const emptyEl = document.getElementById("contacts-empty");
  const emptyTitle = document.getElementById("contacts-empty-title");
  const emptyText = document.getElementById("contacts-empty-text");
  const loadingEl = document.getElementById("contacts-loading");
  const moreWrap = document.getElementById("contacts-more");
  const moreButton = document.getElementById("contacts-load-more");
  const summaryEl = document.getElementById("contacts-summary");
  const segmentWrap = document.getElementById("segment-wrap");
  const segmentSelect = document.getElementById("segment-select");

  let query = "";
  let segmentId = null;
  let rows = [];
  let loaded = false;
  let loading = false;
  let hasMore = false;
  let cursor = null; // the smallest id of the last page fetched: "Load more" continues below it
  let seq = 0;
  let timer = null;

  function csvHref() {
    const params = new URLSearchParams();
    if (query) params.set("q", query);
    if (segmentId !== null) params.set("segment_id", String(segmentId));
    const search = params.toString();
    return search ? `/api/v1/contacts.csv?${search}` : "/api/v1/contacts.csv";
  }

  async function fetchPage({ append = false } = {}) {
    const mine = ++seq;
    loading = true;
    render();
    try {
      let found;
      let page;
      if (segmentId !== null) {
        page = await api.get(`/segments/${segmentId}/members`, { q: query || undefined, limit: PAGE, before_id: append ? cursor ?? undefined : undefined });
        found = page;
      } else {
        page = await api.get("/contacts", { q: query || undefined, limit: PAGE, before_id: append ? cursor ?? undefined : undefined });
        found = page;
      }
      if (mine !== seq) return;
      rows = append ? [...rows, ...found.filter((c) => !rows.some((r) => r.id === c.id))] : found;
      hasMore = page.length === PAGE;
      if (page.length) cursor = Math.min(...page.map((c) => c.id));
      else if (!append) cursor = null;
      loaded = true;
    } catch (error) {
      if (mine !== seq) return;
      toast(`Couldn't load contacts. ${error.message || ""}`.trim(), { error: true });
    } finally {
      if (mine === seq) {
        loading = false;
        render();
      }
    }
  }

  function render() {
    csv.href = csvHref();
    loadingEl.hidden = !(loading && !loaded);
    page.setAttribute("aria-busy", String(loading));
    const focusedId = rowsEl.contains(document.activeElement) ? document.activeElement.closest("tr")?.dataset.contact : null;
    rowsEl.replaceChildren(...rows.map(rowFor));
    if (focusedId) rowsEl.querySelector(`tr[data-contact="${focusedId}"] a`)?.focus({ preventScroll: true });
    tableWrap.hidden = !loaded || rows.length === 0;
    emptyEl.hidden = !loaded || rows.length > 0 || loading;
    if (query) {
      emptyTitle.textContent = "No contacts match your search";
      emptyText.textContent = `Nobody's name or email contains “${query}”.`;
    } else if (segmentId !== null) {
      emptyTitle.textContent = "No one in this segment";
      emptyText.textContent = "Contacts appear here as soon as they match the segment's rules.";
    } else {
      emptyTitle.textContent = "No contacts yet";
      emptyText.textContent = "Everyone who visits your site with the chat widget becomes a contact.";
    }
    moreWrap.hidden = !(loaded && hasMore);
    moreButton.disabled = loading;
    moreButton.setAttribute("aria-busy", String(loading && loaded));
    if (loaded && !loading) {
      const n = rows.length;
      summaryEl.textContent = query || segmentId !== null
        ? `${n}${hasMore ? "+" : ""} ${n === 1 ? "match" : "matches"}`
        : `${n}${hasMore ? "+" : ""} ${n === 1 ? "contact" : "contacts"}`;
    }
  }

  function rowFor(c) {
    const name = c.display_name || `Visitor #${c.id}`;
    const seen = parse(c.last_seen_at);
    const country = c.location?.country;
    const href = `/console/contacts/${c.id}`;
    const link = h("a", { class: "cell-title cell-link", href }, name);
    return h("tr", { class: "contact-row", dataset: { contact: c.id } },
      h("td", { "data-label": "Name" },
        h("span", { class: "cell-with-avatar" }, avatar(name, `c${c.id}`, "sm", c.avatar_url),
          h("span", { class: "cell-stack" }, link,
            c.email ? h("span", { class: "cell-sub cell-email-sub" }, c.email) : null,
            c.tags?.length ? h("span", { class: "cell-tags" }, c.tags.slice(0, 3).map((t) => h("span", { class: "chip chip-sm" }, t))) : null))),
      h("td", { class: "contact-email", "data-label": "Email" }, c.email || h("span", { class: "cell-muted" }, "—")),
      h("td", { "data-label": "Country" },
        country
          ? h("span", { class: "with-flag" }, flag(country) ? h("span", { class: "flag", "aria-hidden": "true" }, flag(country)) : null, countryName(country))
          : h("span", { class: "cell-muted" }, "—")),
      h("td", { class: "num contact-seen", "data-label": "Last seen" },
        seen ? h("time", { datetime: seen.toISOString(), title: full(seen) }, ago(seen)) : "—"));
  }

  // The whole row opens the contact; the name link is what the keyboard and middle-click use.
  rowsEl.addEventListener("click", (event) => {
    const tr = event.target.closest("tr[data-contact]");
    if (!tr || !plainClick(event)) return;
    if (event.target.closest("a") && event.target.closest("a") !== tr.querySelector("a.cell-title")) return;
    if (window.getSelection()?.toString()) return; // selecting text, not opening
    event.preventDefault();
    onOpenContact(Number(tr.dataset.contact));
  });

  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const next = search.value.trim();
      if (next === query) return;
      query = next;
      onQuery?.(query);
      fetchPage();
    }, SEARCH_DELAY);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(timer);
      query = search.value.trim();
      onQuery?.(query);
      fetchPage();
    }
  });
  moreButton.addEventListener("click", () => fetchPage({ append: true }));

  // Segments (docs/segments.md), when this server has them.
  async function loadSegments() {
    try {
      const segments = await api.get("/segments");
      if (!Array.isArray(segments) || !segments.length) return;
      const many = state.sites.size > 1;
      segmentSelect.replaceChildren(h("option", { value: "" }, "All contacts"),
        ...segments.map((s) => h("option", { value: s.id },
          many && state.sites.get(s.site_id) ? `${s.name} · ${state.sites.get(s.site_id).name}` : s.name)));
      segmentWrap.hidden = false;
    } catch {
      // No segments API on this server: the filter stays hidden.
    }
  }
  segmentSelect.addEventListener("change", () => {
    segmentId = segmentSelect.value === "" ? null : Number(segmentSelect.value);
    csv.href = csvHref();
    fetchPage();
  });

  store.on("contactData", (contact) => {
    const i = rows.findIndex((r) => r.id === contact.id);
    if (i < 0) return;
    rows[i] = { ...rows[i], ...contact };
    if (!page.hidden) render();
  });
  store.on("merged", ({ from }) => {
    rows = rows.filter((r) => r.id !== from);
    if (!page.hidden) render();
  });
  store.on("erased", (id) => {
    rows = rows.filter((r) => r.id !== id);
    if (!page.hidden) render();
  });

  let segmentsAsked = false;
  return {
    /** Show the page; q is the search from the address. */
    show({ q = null } = {}) {
      if (q !== null && q !== query) {
        query = q;
        search.value = q;
        loaded = false;
      }
      if (!segmentsAsked) {
        segmentsAsked = true;
        loadSegments();
      }
      if (!loaded && !loading) fetchPage();
      else render();
    },
    /** Refetch after a reconnect, keeping the search. */
    refresh() {
      if (loaded) fetchPage();
    },
    focusSearch() {
      search.focus();
    },
    query: () => query,
  };
}

export function createContactPage({ api, isAdmin, onOpenConversation, onBack, onErased }) {
  const page = document.getElementById("page-contact");
  const body = document.getElementById("contact-page-body");
  const titleEl = document.getElementById("contact-page-title");
  const exportLink = document.getElementById("contact-export");
  const eraseButton = document.getElementById("contact-erase");
  const back = document.getElementById("contact-back");
  const dialog = document.getElementById("erase-dialog");
  const form = document.getElementById("erase-form");
  const confirmInput = document.getElementById("erase-confirm");
  const eraseName = document.getElementById("erase-name");
  const eraseError = document.getElementById("erase-error");
  const eraseSubmit = document.getElementById("erase-submit");

  const card = createContactCard({ mode: "page", onOpenConversation });
  body.append(card.el);
  eraseButton.hidden = !isAdmin;

  function renderHeader() {
    const id = card.contactId();
    const c = id === null ? null : state.contacts.get(id);
    titleEl.textContent = c ? c.display_name : "Contact";
    const failed = id === null || (!c && cardFailure(id) !== null);
    if (id !== null) exportLink.href = `/api/v1/contacts/${id}/export`;
    exportLink.hidden = failed;
    eraseButton.hidden = !isAdmin || failed;
    eraseButton.disabled = !c;
  }

  back.addEventListener("click", (event) => {
    if (!plainClick(event)) return;
    event.preventDefault();
    onBack();
  });

  // ---------- erase ----------

  eraseButton.addEventListener("click", () => {
    const c = state.contacts.get(card.contactId());
    if (!c) return;
    eraseName.textContent = c.display_name;
    confirmInput.value = "";
    eraseSubmit.disabled = true;
    eraseError.hidden = true;
    dialog.showModal();
    confirmInput.focus();
  });
  confirmInput.addEventListener("input", () => {
    eraseSubmit.disabled = confirmInput.value.trim() !== "ERASE";
    eraseError.hidden = true;
  });
  for (const b of dialog.querySelectorAll("[data-close]")) b.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    if (!page.hidden && state.contacts.has(card.contactId())) eraseButton.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (confirmInput.value.trim() !== "ERASE") return;
    const id = card.contactId();
    const name = state.contacts.get(id)?.display_name || "The contact";
    eraseSubmit.disabled = true;
    eraseSubmit.setAttribute("aria-busy", "true");
    try {
      await api.delete(`/contacts/${id}`);
      store.eraseContact(id);
      dialog.close();
      toast(`${name} was erased`);
      onErased(id);
    } catch (error) {
      eraseError.textContent = error.message || "Couldn't erase the contact.";
      eraseError.hidden = false;
      eraseSubmit.disabled = false;
    } finally {
      eraseSubmit.removeAttribute("aria-busy");
    }
  });

  store.on("contact", (id) => {
    if (id === card.contactId()) renderHeader();
  });
  store.on("merged", () => renderHeader());

  return {
    show(id) {
      card.show(id);
      renderHeader();
    },
    contactId: () => card.contactId(),
  };
}
