// The "Identity verification" panel of a site (docs/console.md), on the Auto-replies page beside
// the site's time zone; admins only. The secret that signs identities (hidden until shown,
// copied, rotated with a grace period), "Require verification", and the contacts that were
// merged automatically before identity verification, to review and sign out.

import { confirmAction } from "./confirm-action.js";
import { browserLine, signedOutText } from "./contact-identity.js";
import { h, plainClick, toast } from "./dom.js";
import { currentSite, updateSite } from "./site-switch.js";
import * as store from "./store.js";
import { full, medium, parse } from "./time.js";

const MERGES_PAGE = 50;
const MAX_GRACE = 720;

export function createIdentityPanel({ api, isAdmin, onOpenContact }) {
  const panel = document.getElementById("identity-panel");
  const body = document.getElementById("identity-body");
  panel.hidden = true;

  let siteId = null;
  let settings = null; // {site_id, secret, previous_secret_valid_until, require_verification}
  let merges = [];
  let hasMore = false;
  let seq = 0;

  // ---------- the secret ----------

  const secret = h("input", { class: "input identity-secret", id: "identity-secret", type: "password", readonly: true,
    autocomplete: "off", spellcheck: "false", "aria-describedby": "identity-previous identity-hint" });
  const showButton = h("button", { class: "btn btn-secondary btn-sm", type: "button", "aria-pressed": "false", "aria-controls": "identity-secret",
    onclick: () => reveal(secret.type === "password") }, "Show");
  const copyButton = h("button", { class: "btn btn-secondary btn-sm", type: "button", onclick: copy }, "Copy");
  const previous = h("p", { class: "field-note", id: "identity-previous" });
  const hint = h("p", { class: "field-note", id: "identity-hint" },
    "On your server: ", h("code", { class: "mono-inline" }, "user_hash = HMAC-SHA256(secret, user_id)"),
    " as hex, passed to ", h("code", { class: "mono-inline" }, "Doorstep('identify', {user_id, user_hash})"),
    ". See docs/widget.md, “Identity verification”.");

  function reveal(on) {
    secret.type = on ? "text" : "password";
    showButton.textContent = on ? "Hide" : "Show";
    showButton.setAttribute("aria-pressed", String(on));
  }

  async function copy() {
    if (!settings) return;
    try {
      await navigator.clipboard.writeText(settings.secret);
    } catch {
      // Plain-HTTP consoles have no clipboard API: copy the selected field instead.
      const type = secret.type;
      secret.type = "text";
      secret.select();
      const ok = document.execCommand("copy");
      secret.type = type;
      if (!ok) return toast("Couldn't copy. Show the secret and copy it by hand.", { error: true });
    }
    toast("Secret copied");
  }

  // ---------- rotating ----------

  const grace = h("input", { class: "input input-sm identity-grace", id: "identity-grace", type: "number", min: 0, max: MAX_GRACE,
    step: 1, value: 24, inputmode: "numeric", "aria-describedby": "identity-grace-error" });
  const graceError = h("p", { class: "field-error", id: "identity-grace-error", role: "alert", hidden: true });
  grace.addEventListener("input", () => {
    graceError.hidden = true;
    grace.removeAttribute("aria-invalid");
  });

  /** The grace period in whole hours, or null (and the field marked) when it is not one. */
  function graceHours() {
    const value = grace.value.trim() === "" ? NaN : Number(grace.value);
    if (Number.isInteger(value) && value >= 0 && value <= MAX_GRACE) return value;
    graceError.textContent = `The grace period is a whole number of hours from 0 to ${MAX_GRACE}.`;
    graceError.hidden = false;
    grace.setAttribute("aria-invalid", "true");
    grace.focus();
    return null;
  }

  const rotate = confirmAction({
    label: "Rotate secret",
    iconName: "bolt",
    ready: () => graceHours() !== null,
    question: () => {
      const hours = Number(grace.value);
      return hours > 0
        ? `Replace the secret? The current one keeps working for ${hours} ${hours === 1 ? "hour" : "hours"}.`
        : "Replace the secret? The current one stops working at once.";
    },
    confirm: "Rotate",
    danger: true,
    onConfirm: async () => {
      const hours = graceHours();
      if (hours === null) throw new Error("Fix the grace period first.");
      settings = await api.post(`/sites/${siteId}/identity/rotate`, { grace_hours: hours });
      renderSettings();
      toast("New secret: give it to your server");
    },
  });

  // ---------- require verification ----------

  const requireBox = h("input", { type: "checkbox", id: "identity-require", "aria-describedby": "identity-require-note",
    onchange: () => setRequired(requireBox.checked) });

  async function setRequired(on) {
    requireBox.disabled = true;
    try {
      const site = await api.patch(`/sites/${siteId}`, { require_verification: on });
      updateSite(site);
      settings = { ...settings, require_verification: on };
      toast(on ? "Verification required" : "Verification no longer required");
    } catch (error) {
      requireBox.checked = !on;
      toast(error.message || "Couldn't change the setting.", { error: true });
    } finally {
      requireBox.disabled = false;
    }
  }

  // ---------- merges before identity verification ----------

  const mergeList = h("ul", { class: "item-list merge-list", "aria-label": "Contacts merged automatically before identity verification" });
  const mergeEmpty = h("p", { class: "item-empty" }, "None on this site.");
  const moreButton = h("button", { class: "btn btn-ghost btn-sm", type: "button", onclick: () => loadMerges() }, "Load more");
  const more = h("div", { class: "list-more" }, moreButton);

  function mergeRow(merge) {
    const at = parse(merge.at);
    const titleId = `merge-${merge.id}`;
    const into = merge.into || {};
    const name = into.name || into.email || `Contact #${into.id}`;
    const from = merge.from?.name || merge.from?.email || "another contact";
    const moved = new Set(merge.moved_browsers || []);
    const status = h("p", { class: "identity-status", role: "status" });
    return h("li", { class: "item merge-item" },
      h("div", { class: "item-main" },
        h("p", { class: "item-top", id: titleId },
          h("a", { class: "item-title", href: `/console/contacts/${into.id}`, onclick: (event) => {
            if (!plainClick(event)) return;
            event.preventDefault();
            onOpenContact(into.id);
          } }, name),
          into.email && into.email !== name ? h("span", { class: "item-sub" }, into.email) : null),
        h("p", { class: "item-sub" }, `${from} merged into it `,
          at ? h("time", { datetime: at.toISOString(), title: full(at) }, medium(at)) : null),
        merge.browsers?.length
          ? h("ul", { class: "browser-list" }, merge.browsers.map((b) =>
            browserLine(b, moved.has(b.id) ? h("span", { class: "browser-moved" }, "came with the merge") : null)))
          : h("p", { class: "item-sub" }, "No browsers now."),
        status),
      h("div", { class: "item-actions" }, merge.browsers?.length ? confirmAction({
        label: "Sign out all browsers",
        describedBy: titleId,
        question: () => `Sign out all ${merge.browsers.length} browsers of ${name}? Each starts again as a new visitor.`,
        confirm: "Sign out",
        danger: true,
        onConfirm: async () => {
          const { browsers } = await api.post(`/contacts/${into.id}/sign-out`);
          status.textContent = signedOutText(browsers);
          toast(`${signedOutText(browsers)} of ${name}`);
        },
      }) : null));
  }

  // ---------- layout ----------

  body.replaceChildren(
    h("p", { class: "panel-text" },
      "Your server signs who a signed-in visitor is with this secret. Only a signed email or user_id joins a visitor's ",
      "browsers into one contact; what a browser merely claims stays on its own contact."),
    h("label", { class: "field-label", for: "identity-secret" }, "Identity secret"),
    h("div", { class: "identity-row" }, secret, showButton, copyButton),
    previous,
    hint,
    h("div", { class: "identity-rotate" },
      h("label", { class: "field-label", for: "identity-grace" }, "Grace period (hours)"),
      h("div", { class: "identity-row" }, grace, rotate),
      graceError),
    h("div", { class: "identity-require" },
      h("label", { class: "check" }, requireBox, h("span", null, "Require verification")),
      h("p", { class: "field-note", id: "identity-require-note" },
        "Identify calls with an email or user_id but no valid user_hash are refused.")),
    h("h3", { class: "identity-subtitle" }, "Contacts merged automatically before identity verification"),
    h("p", { class: "panel-text" },
      "Before identity verification, an email typed in a browser was enough to join it to a contact. ",
      "If a browser below is not that person's, sign out all browsers of the contact: each starts again as a new visitor."),
    mergeList, mergeEmpty, more);

  function renderSettings() {
    secret.value = settings?.secret || "";
    requireBox.checked = Boolean(settings?.require_verification);
    const until = parse(settings?.previous_secret_valid_until);
    previous.textContent = until && until > new Date()
      ? `The previous secret still works until ${full(until)}.`
      : "";
  }

  function renderMerges() {
    mergeList.replaceChildren(...merges.map(mergeRow));
    mergeList.hidden = !merges.length;
    mergeEmpty.hidden = merges.length > 0;
    more.hidden = !hasMore;
  }

  // ---------- loading ----------

  async function load() {
    const site = currentSite();
    if (!isAdmin || !site) return;
    const mine = ++seq;
    if (siteId !== site.id) reveal(false);
    siteId = site.id;
    try {
      const [identity, found] = await Promise.all([
        api.get(`/sites/${site.id}/identity`),
        api.get(`/sites/${site.id}/merges`, { kind: "before_upgrade", limit: MERGES_PAGE }),
      ]);
      if (mine !== seq) return;
      settings = identity;
      merges = found;
      hasMore = found.length === MERGES_PAGE;
      renderSettings();
      renderMerges();
      panel.hidden = false;
    } catch (error) {
      if (mine !== seq) return;
      panel.hidden = true; // 403 admin_only: not ours to see
      if (error.status !== 403) toast(`Couldn't load identity verification. ${error.message || ""}`.trim(), { error: true });
    }
  }

  async function loadMerges() {
    const last = merges[merges.length - 1];
    moreButton.setAttribute("aria-busy", "true");
    try {
      const found = await api.get(`/sites/${siteId}/merges`, { kind: "before_upgrade", limit: MERGES_PAGE, before_id: last?.id });
      merges = [...merges, ...found];
      hasMore = found.length === MERGES_PAGE;
      renderMerges();
    } catch (error) {
      toast(error.message || "Couldn't load more.", { error: true });
    } finally {
      moreButton.removeAttribute("aria-busy");
    }
  }

  store.on("site", () => {
    if (!panel.closest(".page")?.hidden) load();
  });

  return {
    show: load,
  };
}
