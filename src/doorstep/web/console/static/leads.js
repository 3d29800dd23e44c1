// The Leads page (docs/console.md): conversations an auto-reply answered, newest first, with
// the email the visitor left; at the top, for each rule, its replies, leads and capture rate.

import { avatar, h, icon, plainClick, toast } from "./dom.js";
import { number } from "./format.js";
import { bindSiteSelect, currentSite } from "./site-switch.js";
import * as store from "./store.js";
import { ago, full, parse } from "./time.js";

const PAGE = 50;
const $ = (id) => document.getElementById(id);
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0 });

export function createLeadsPage({ api, onOpenContact, onOpenConversation }) {
  const page = $("page-leads");
  const summaryEl = $("leads-summary");
  const statsEl = $("lead-stats");
  const cardsEl = $("lead-stat-cards");
  const tableWrap = $("leads-table-wrap");
  const rowsEl = $("leads-rows");
  const emptyEl = $("leads-empty");
  const loadingEl = $("leads-loading");
  const moreWrap = $("leads-more");
  const moreButton = $("leads-load-more");

  let rows = [];
  let counts = [];
  let siteId = null;
  let loaded = false;
  let loading = false;
  let hasMore = false;
  let seq = 0;

  bindSiteSelect($("leads-site"));

  async function fetchPage({ append = false } = {}) {
    const site = currentSite();
    if (!site) return;
    if (site.id !== siteId) {
      siteId = site.id;
      rows = [];
      counts = [];
      loaded = false;
    }
    const mine = ++seq;
    loading = true;
    render();
    try {
      // The server pages by the row's own id (`id`); the message id is the fallback.
      const before = append && rows.length ? Math.min(...rows.map((r) => r.id ?? r.message_id)) : undefined;
      const answer = await api.getEnvelope("/autoreplies", { site_id: site.id, limit: PAGE, before_id: before });
      if (mine !== seq) return;
      const found = answer?.data || [];
      rows = append ? [...rows, ...found.filter((f) => !rows.some((r) => r.message_id === f.message_id))] : found;
      if (!append || answer?.counts) counts = answer?.counts || [];
      hasMore = found.length === PAGE;
      loaded = true;
    } catch (error) {
      if (mine === seq) toast(`Couldn't load leads. ${error.message || ""}`.trim(), { error: true });
    } finally {
      if (mine === seq) {
        loading = false;
        render();
      }
    }
  }

  function render() {
    loadingEl.hidden = !(loading && !loaded);
    page.setAttribute("aria-busy", String(loading));
    const focusKey = rowsEl.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    rowsEl.replaceChildren(...rows.map(rowFor));
    if (focusKey) rowsEl.querySelector(`[data-key="${focusKey}"]`)?.focus({ preventScroll: true });
    tableWrap.hidden = !loaded || rows.length === 0;
    emptyEl.hidden = !loaded || rows.length > 0 || loading;
    moreWrap.hidden = !(loaded && hasMore);
    moreButton.disabled = loading;
    moreButton.setAttribute("aria-busy", String(loading && loaded));
    renderCounts();
  }

  function renderCounts() {
    statsEl.hidden = !loaded || counts.length === 0;
    const replies = counts.reduce((n, c) => n + (c.replies || 0), 0);
    const leads = counts.reduce((n, c) => n + (c.leads || 0), 0);
    summaryEl.textContent = loaded
      ? `${number(replies)} ${replies === 1 ? "reply" : "replies"} · ${number(leads)} ${leads === 1 ? "lead" : "leads"}`
      : "";
    const cards = counts.length > 1 ? [{ name: "All rules", replies, leads, total: true }, ...counts] : counts;
    cardsEl.replaceChildren(...cards.map((c) => {
      const rate = c.replies ? c.leads / c.replies : null;
      return h("li", { class: c.total ? "stat-card is-total" : "stat-card" },
        h("p", { class: "stat-name" }, c.name || (c.rule_id ? `Rule #${c.rule_id}` : "Deleted rule")),
        h("dl", { class: "stat-figures" },
          h("div", null, h("dt", null, "Replies"), h("dd", null, number(c.replies || 0))),
          h("div", null, h("dt", null, "Leads"), h("dd", null, number(c.leads || 0))),
          h("div", null, h("dt", null, "Capture rate"), h("dd", null, rate === null ? "—" : percent.format(rate)))),
        bar(rate || 0));
    }));
  }

  /** The capture rate as a bar (set through the CSSOM, which the style policy allows). */
  function bar(rate) {
    const fill = h("span", { class: "stat-fill" });
    fill.style.width = `${Math.min(100, Math.max(0, rate * 100))}%`;
    return h("div", { class: "stat-bar", "aria-hidden": "true" }, fill);
  }

  function link(href, key, text, onOpen, cls = "cell-link") {
    return h("a", {
      class: cls, href, "data-key": key,
      onclick: (event) => {
        if (!plainClick(event)) return;
        event.preventDefault();
        onOpen();
      },
    }, text);
  }

  function rowFor(r) {
    const sent = parse(r.sent_at);
    const contact = r.contact || {};
    const name = contact.display_name || contact.email || `Visitor #${contact.id}`;
    const captured = parse(r.lead?.captured_at);
    return h("tr", { dataset: { message: r.message_id } },
      h("td", { class: "lead-time", "data-label": "Sent" },
        sent ? h("time", { datetime: sent.toISOString(), title: full(sent) }, ago(sent)) : "—"),
      h("td", { class: "lead-contact", "data-label": "Contact" },
        h("span", { class: "cell-with-avatar" }, avatar(name, `c${contact.id}`, "sm"),
          h("span", { class: "cell-stack" },
            link(`/console/contacts/${contact.id}`, `c${r.message_id}`, name, () => onOpenContact(contact.id), "cell-title cell-link"),
            contact.email && contact.email !== name ? h("span", { class: "cell-sub" }, contact.email) : null))),
      h("td", { class: "lead-rule", "data-label": "Rule" },
        r.rule ? h("span", { class: "rule-chip" }, icon("bolt"), r.rule.name) : h("span", { class: "cell-muted" }, "Deleted rule")),
      h("td", { class: "lead-email", "data-label": "Lead" },
        r.lead
          ? h("span", { class: "cell-stack" },
            h("span", { class: "lead-address" }, icon("mail"), r.lead.email),
            captured ? h("time", { class: "cell-sub", datetime: captured.toISOString(), title: `Left ${full(captured)}` }, ago(captured)) : null)
          : h("span", { class: "cell-muted" }, "No email")),
      h("td", { class: "lead-action" },
        link(`/console/conversations/${r.conversation_id}`, `v${r.message_id}`,
          [h("span", null, "Conversation"), h("span", { class: "visually-hidden" }, ` with ${name}`), icon("chevron")],
          () => onOpenConversation(r.conversation_id), "btn btn-secondary btn-sm")));
  }

  moreButton.addEventListener("click", () => fetchPage({ append: true }));
  store.on("site", () => {
    if (!page.hidden) fetchPage();
  });

  return {
    show() {
      // Fresh on every visit: leads arrive while you are elsewhere.
      fetchPage();
    },
  };
}
