// Identity on the contact card (docs/console.md, "Identity on the contact card"): whether the
// email and user id are verified or only claimed, the other contacts with the same email
// ("Possible duplicate", merged by hand), and the contact's browsers with "Sign out all
// browsers". An email typed in a browser is a claim and never merges contacts by itself.

import { confirmAction } from "./confirm-action.js";
import { h, icon, plainClick, toast } from "./dom.js";
import { deviceText, place } from "./format.js";
import * as store from "./store.js";
import { ago, full, parse } from "./time.js";

const { state } = store;

/** "Verified" (proven with the site's user_hash or an email link) or "Unverified" (a claim). */
export function verifiedBadge(verified) {
  return h("span", {
    class: "id-badge", "data-verified": verified ? "yes" : "no",
    title: verified ? "Proven by your site's signature (user_hash)" : "Only claimed by the visitor's browser",
  }, verified ? icon("check") : null, verified ? "Verified" : "Unverified");
}

export function signedOutText(count) {
  return `Signed out ${count} ${count === 1 ? "browser" : "browsers"}`;
}

/** "last seen 5 min ago": a <time> the card keeps current (data-tick, see contact-card.js). */
export function seenAgo(iso) {
  const at = parse(iso);
  if (!at) return null;
  return h("time", { datetime: at.toISOString(), title: full(at), "data-tick": "ago-lc", "data-from": at.getTime() }, ago(at).toLowerCase());
}

/** One browser: its device, where it was last and when. `extra` goes after the text. */
export function browserLine(browser, extra = null) {
  const device = browser.device || {};
  const kind = device.type === "mobile" ? "mobile" : device.type === "tablet" ? "tablet" : "desktop";
  const first = parse(browser.first_seen_at);
  const where = place(browser.location);
  return h("li", { class: "browser-item", title: first ? `First seen ${full(first)}` : null },
    icon(kind),
    h("span", { class: "browser-main" },
      h("span", { class: "browser-device" }, deviceText(device) || "Unknown browser"),
      h("span", { class: "browser-sub" }, where ? `${where} · ` : "", "last seen ", seenAgo(browser.last_seen_at) || "never"),
      extra));
}

/**
 * The card's two identity sections, "duplicates" and "browsers": sig and draw for each, as the
 * card's SECTIONS want them. Controls are kept across redraws, so a live update never closes a
 * question the operator is answering.
 */
export function createIdentityParts({ api, prefix, section, contactId, reload, onOpenContact }) {
  let controls = new Map(); // key -> element kept across redraws
  let statuses = new Map(); // contact id -> the "Signed out N browsers" line

  function kept(key, make) {
    if (!controls.has(key)) controls.set(key, make());
    return controls.get(key);
  }

  function statusLine(id) {
    if (!statuses.has(id)) statuses.set(id, h("p", { class: "identity-status", role: "status" }));
    return statuses.get(id);
  }

  // ---------- possible duplicates ----------

  function sigDuplicates(card) {
    return JSON.stringify(card.possible_duplicates || []);
  }

  function renderDuplicates(card) {
    const dups = card.possible_duplicates || [];
    if (!dups.length) return null;
    const text = dups.length === 1
      ? "Another contact has the same email. If it is the same person, merge it into this one."
      : `${dups.length} other contacts have the same email. Merge those that are the same person into this one.`;
    const node = section("duplicates", "Possible duplicate",
      h("p", { class: "dup-text" }, icon("alert"), h("span", null, text)),
      h("ul", { class: "dup-list" }, dups.map(duplicateItem)));
    node.classList.add("identity-notice");
    return node;
  }

  function duplicateItem(dup) {
    const whoId = `${prefix}-dup-${dup.id}`;
    const name = dup.display_name || dup.email || `Contact #${dup.id}`;
    const href = `/console/contacts/${dup.id}`;
    return h("li", { class: "dup-item" },
      h("p", { class: "dup-who", id: whoId },
        h("a", { href, onclick: (event) => {
          if (!onOpenContact || !plainClick(event)) return;
          event.preventDefault();
          onOpenContact(dup.id);
        } }, name),
        dup.email && dup.email !== name ? h("span", { class: "dup-email" }, dup.email) : null,
        dup.email ? verifiedBadge(dup.email_verified) : null),
      h("p", { class: "dup-seen" }, "Last seen ", seenAgo(dup.last_seen_at) || "never"),
      kept(`merge:${dup.id}`, () => confirmAction({
        label: "Merge into this contact",
        describedBy: whoId,
        question: () => `Merge ${name} into this contact? Their conversations, visits and browsers move here.`,
        confirm: "Merge",
        onConfirm: () => merge(dup, name),
      })));
  }

  async function merge(dup, name) {
    const into = contactId();
    try {
      const survivor = await api.post(`/contacts/${dup.id}/merge`, { into_id: into });
      store.mergeContacts(dup.id, survivor?.id ?? into);
    } catch (error) {
      if (error.code === "different_users") throw new Error(`Can't merge: ${error.message}.`);
      throw error;
    }
    toast(`${name} merged into this contact`);
    reload();
  }

  // ---------- browsers ----------

  function sigBrowsers(card) {
    return JSON.stringify(card.browsers || []);
  }

  function renderBrowsers(card) {
    const browsers = card.browsers || [];
    const id = card.id;
    return section("browsers", browsers.length > 1 ? `Browsers (${browsers.length})` : "Browsers",
      browsers.length
        ? h("ul", { class: "browser-list", "aria-label": "Browsers" }, browsers.map((b) => browserLine(b)))
        : h("p", { class: "muted" }, "No browsers yet."),
      browsers.length
        ? kept(`signout:${id}`, () => confirmAction({
          label: "Sign out all browsers",
          question: () => {
            const n = state.contacts.get(id)?.browsers?.length || 0;
            return `Sign out ${n === 1 ? "this browser" : `all ${n} browsers`}? Their chats close and each starts again as a new visitor.`;
          },
          confirm: "Sign out",
          danger: true,
          onConfirm: () => signOut(id),
        }))
        : null,
      statusLine(id));
  }

  async function signOut(id) {
    const { browsers } = await api.post(`/contacts/${id}/sign-out`);
    statusLine(id).textContent = signedOutText(browsers);
    reload();
  }

  // Someone signed the contact out (here or on another console): say so on the card.
  store.on("signedOut", ({ contact_id: id, browsers }) => {
    if (id === contactId()) statusLine(id).textContent = signedOutText(browsers);
  });

  return {
    sigDuplicates,
    renderDuplicates,
    sigBrowsers,
    renderBrowsers,
    /** Another contact on screen: forget the questions and lines of the last one. */
    reset() {
      controls = new Map();
      statuses = new Map();
    },
  };
}
