// The conversation list: Open / Resolved tabs, one row per conversation, live updates,
// keyboard movement (↑/↓ or j/k, Home/End) and the unread badges.

import { append, avatar, h, icon, reconcile } from "./dom.js";
import { listOf, on, state, unreadTotal } from "./store.js";
import { full, parse, relative } from "./time.js";

export function createInbox({ onOpen, onTab, onLoadMore }) {
  const listEl = document.getElementById("conv-list");
  const emptyEl = document.getElementById("list-empty");
  const emptyTitle = document.getElementById("list-empty-title");
  const emptyText = document.getElementById("list-empty-text");
  const loadingEl = document.getElementById("list-loading");
  const moreEl = document.getElementById("list-more");
  const summaryEl = document.getElementById("list-summary");
  const panel = document.getElementById("conversation-list");
  const tabs = [...document.querySelectorAll('[role="tab"][data-tab]')];
  const badges = [...document.querySelectorAll("[data-unread-badge]")];
  const rows = new Map(); // id -> li

  function rowFor(summary) {
    let li = rows.get(summary.id);
    if (!li) {
      const a = h("a", { class: "conv-row", href: `/console/conversations/${summary.id}` });
      a.dataset.id = summary.id;
      li = h("li", null, a);
      rows.set(summary.id, li);
    }
    const a = li.firstElementChild;
    fillRow(a, summary);
    return li;
  }

  function fillRow(a, c) {
    const name = c.contact?.display_name || `Visitor #${c.contact?.id ?? "?"}`;
    const at = parse(c.last_message?.at || c.created_at);
    const unread = c.unread || 0;
    a.classList.toggle("is-unread", unread > 0);
    if (c.id === state.currentId) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
    if (state.fresh.has(c.id)) {
      state.fresh.delete(c.id);
      a.classList.remove("is-fresh");
      void a.offsetWidth; // restart the animation
      a.classList.add("is-fresh");
    }
    const text = (c.last_message?.text || "").replace(/\s+/g, " ").trim();
    const fromTeam = c.last_message?.author === "operator";
    const preview = h(
      "span",
      { class: "conv-preview" },
      fromTeam ? [icon("reply"), h("span", { class: "visually-hidden" }, "Replied: ")] : null,
      h("span", { class: "conv-preview-text" }, text || "No messages yet"),
    );
    const side = h("span", { class: "conv-side" });
    if (c.assignee) {
      const chip = avatar(c.assignee.name, `op${c.assignee.id}`, "xs", c.assignee.avatar_url);
      chip.classList.add("conv-assignee");
      chip.title = `Assigned to ${c.assignee.name}`;
      side.append(chip, h("span", { class: "visually-hidden" }, ` Assignee: ${c.assignee.name}.`));
    }
    if (unread > 0) {
      side.append(
        h("span", { class: "badge" }, unread > 99 ? "99+" : String(unread),
          h("span", { class: "visually-hidden" }, unread === 1 ? " unread message" : " unread messages")),
      );
    }
    const site = state.sites.size > 1 ? state.sites.get(c.site_id)?.name : null;
    a.replaceChildren();
    append(a, [
      avatar(name, `c${c.contact?.id}`, "md"),
      h("span", { class: "conv-name" }, name),
      h("time", { class: "conv-time", datetime: at?.toISOString(), title: full(at) }, relative(at)),
      preview,
      side,
      site ? h("span", { class: "conv-site" }, site) : null,
    ]);
  }

  function render() {
    const status = state.tab;
    const items = listOf(status);
    const nodes = items.map(rowFor);
    const wanted = new Set(items.map((c) => c.id));
    for (const id of rows.keys()) if (!wanted.has(id)) rows.delete(id);
    reconcile(listEl, nodes);
    const list = state.lists[status];
    loadingEl.hidden = !(list.loading && !list.loaded);
    emptyEl.hidden = !(list.loaded && items.length === 0);
    if (status === "open") {
      emptyTitle.textContent = "All caught up";
      emptyText.textContent = "New chats from your website appear here.";
    } else {
      emptyTitle.textContent = "Nothing resolved yet";
      emptyText.textContent = "Conversations you resolve move here.";
    }
    moreEl.hidden = !(list.loaded && list.hasMore);
    renderCounts();
  }

  function renderCounts() {
    const unread = unreadTotal();
    for (const badge of badges) {
      badge.hidden = unread === 0;
      badge.textContent = unread > 99 ? "99+" : String(unread);
      badge.setAttribute("aria-label", `${unread} unread`);
    }
    summaryEl.textContent = unread ? `${unread} unread` : "";
    const openCount = listOf("open").length;
    const countEl = document.querySelector('[data-tab-count="open"]');
    if (countEl) {
      countEl.textContent = state.lists.open.loaded && openCount ? `${openCount}${state.lists.open.hasMore ? "+" : ""}` : "";
    }
  }

  function selectTab(status, { focus = false } = {}) {
    state.tab = status;
    for (const tab of tabs) {
      const selected = tab.dataset.tab === status;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected) {
        panel.setAttribute("aria-labelledby", tab.id);
        if (focus) tab.focus();
      }
    }
    render();
    onTab(status);
  }

  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab.dataset.tab));
    tab.addEventListener("keydown", (event) => {
      if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
      event.preventDefault();
      const i = tabs.indexOf(tab);
      let next = i;
      if (event.key === "ArrowRight") next = (i + 1) % tabs.length;
      if (event.key === "ArrowLeft") next = (i - 1 + tabs.length) % tabs.length;
      if (event.key === "Home") next = 0;
      if (event.key === "End") next = tabs.length - 1;
      selectTab(tabs[next].dataset.tab, { focus: true });
    });
  }

  listEl.addEventListener("click", (event) => {
    const a = event.target.closest("a.conv-row");
    if (!a || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    onOpen(Number(a.dataset.id), { push: true, focusComposer: event.detail > 0 });
  });

  listEl.addEventListener("keydown", (event) => {
    const a = event.target.closest("a.conv-row");
    if (!a || event.altKey || event.ctrlKey || event.metaKey) return;
    const links = [...listEl.querySelectorAll("a.conv-row")];
    const i = links.indexOf(a);
    let target = null;
    if (event.key === "ArrowDown" || event.key === "j") target = links[i + 1];
    else if (event.key === "ArrowUp" || event.key === "k") target = links[i - 1];
    else if (event.key === "Home") target = links[0];
    else if (event.key === "End") target = links[links.length - 1];
    else if (event.key === " ") {
      event.preventDefault();
      a.click();
      return;
    } else return;
    event.preventDefault();
    target?.focus();
  });

  document.getElementById("load-more").addEventListener("click", () => onLoadMore(state.tab));

  on("list", render);
  setInterval(() => {
    for (const time of listEl.querySelectorAll("time[datetime]")) {
      time.textContent = relative(new Date(time.getAttribute("datetime")));
    }
  }, 30_000);

  return {
    render,
    selectTab,
    focusCurrent() {
      const current = listEl.querySelector('a[aria-current="page"]') || listEl.querySelector("a.conv-row");
      current?.focus();
    },
  };
}
