// The contact card (docs/console.md, "The contact card"): who a visitor is, where they are
// and what they look at now, their visits, sources, attributes, events, notes and
// conversations; operators edit name, email, phone, tags and attributes in place. What is
// verified, possible duplicates and the contact's browsers come from contact-identity.js.
//
// One component, two homes: the side panel beside a conversation ("panel") and the contact
// page ("page"). It redraws only the sections whose data changed, so live updates never
// disturb an edit in progress, and edit boxes keep their focus and text across redraws.

import { createIdentityParts, verifiedBadge } from "./contact-identity.js";
import { avatar, h, icon, plainClick, reconcile, toast } from "./dom.js";
import {
  attributeValue,
  channelLabel,
  countryName,
  deviceText,
  duration,
  durationLong,
  editableText,
  flag,
  languageName,
  localTime,
  parseAttribute,
  pathOf,
  place,
  propertiesText,
  safeUrl,
  shortUrl,
  sourceDetail,
  sourceText,
} from "./format.js";
import * as store from "./store.js";
import { ago, clock, full, medium, parse, relative, shortDate } from "./time.js";

const { state } = store;
const EVENTS_PAGE = 50;

// ---------- loading, shared by every card on screen ----------

let api = null;
const loads = new Map(); // contact id -> promise of the card
const again = new Set(); // contact ids to load once more when the current load ends
const failures = new Map(); // contact id -> ApiError
const reloadTimers = new Map();

export function initCards(client) {
  api = client;
}

/** GET /contacts/{id}; concurrent asks share one request, a later ask waits for a fresh one. */
export function loadCard(id) {
  if (loads.has(id)) {
    again.add(id);
    return loads.get(id);
  }
  const load = api
    .get(`/contacts/${id}`)
    .then((card) => {
      failures.delete(id);
      store.setCard(card, id);
      return card;
    })
    .catch((error) => {
      failures.set(id, error);
      store.emit("contact", id);
      return null;
    })
    .finally(() => {
      loads.delete(id);
      if (again.delete(id)) loadCard(id);
    });
  loads.set(id, load);
  return load;
}

/** Reload a card soon; many frames in a burst (a new visit, a merge) make one request. */
export function scheduleReload(id, delay = 400) {
  clearTimeout(reloadTimers.get(id));
  reloadTimers.set(id, setTimeout(() => {
    reloadTimers.delete(id);
    loadCard(id);
  }, delay));
}

export function cardFailure(id) {
  return failures.get(id) || null;
}

// ---------- ticking text (local time, time on page, "last seen") ----------

const tickRoots = new Set();

/** Elements under root with data-tick keep their text current, once a second. */
export function tickIn(root) {
  tickRoots.add(root);
}

export function tickNow(root) {
  const now = new Date();
  for (const el of root.querySelectorAll("[data-tick]")) {
    let text = el.textContent;
    const from = Number(el.dataset.from);
    if (el.dataset.tick === "since") text = duration(now - from);
    else if (el.dataset.tick === "ago") text = ago(new Date(from), now);
    else if (el.dataset.tick === "ago-lc") text = ago(new Date(from), now).toLowerCase();
    else if (el.dataset.tick === "relative") text = relative(new Date(from), now);
    else if (el.dataset.tick === "local") text = localTime(el.dataset.tz, now)?.time || "";
    if (el.textContent !== text) el.textContent = text;
  }
}

setInterval(() => {
  if (document.visibilityState !== "visible") return;
  for (const root of tickRoots) if (root.isConnected) tickNow(root);
}, 1000);

/** A <time> that ticks: kind is "ago", "relative" or "since" (a running duration). */
export function ticking(kind, date, extra = {}) {
  if (!date) return null;
  const text = kind === "since" ? duration(Date.now() - date) : kind === "ago" ? ago(date) : relative(date);
  return h("time", { datetime: date.toISOString(), title: full(date), "data-tick": kind, "data-from": date.getTime(), ...extra }, text);
}

// ---------- the component ----------

let uid = 0;

export function createContactCard({ mode, onOpenConversation, onOpenContact = null }) {
  const root = h("div", { class: `card card-${mode}` });
  const colA = h("div", { class: "card-col card-col-a" });
  const colB = h("div", { class: "card-col card-col-b" });
  const cols = h("div", { class: "card-cols" }, colA, colB);
  const prefix = `card${++uid}`;
  tickIn(root);

  let requested = null; // the id asked for (a merged id resolves to its survivor)
  let currentConversationId = null;
  let hint = null; // {display_name} to show while loading
  let erased = false;
  let sections = new Map(); // key -> {sig, node}
  let editors = new Map(); // key -> editor
  let focusAfter = null; // selector to focus after the next render
  let noteForm = null;
  let tagForm = null;
  const confirming = new Set(); // note ids waiting for "Delete?" confirmation

  const contactId = () => (requested === null ? null : store.resolveContact(requested));
  const identity = createIdentityParts({
    api: { post: (path, body) => api.post(path, body) },
    prefix,
    section,
    contactId,
    reload: () => loadCard(contactId()),
    onOpenContact,
  });

  // Sections in reading order; "a" is about the person, "b" about what they did.
  const SECTIONS = [
    ["head", "a", sigHead, renderHead],
    ["duplicates", "a", identity.sigDuplicates, identity.renderDuplicates],
    ["now", "a", sigNow, renderNow],
    ["details", "a", sigDetails, renderDetails],
    ["browsers", "a", identity.sigBrowsers, identity.renderBrowsers],
    ["tags", "a", (c) => JSON.stringify(c.tags), renderTags],
    ["attributes", "a", (c) => JSON.stringify(c.attributes), renderAttributes],
    ["notes", "b", (c) => JSON.stringify(c.notes) + [...confirming].join(), renderNotes],
    ["visit", "b", sigVisit, renderVisit],
    ["events", "b", sigEvents, renderEvents],
    ["visits", "b", (c) => JSON.stringify([c.visits, c.recent_visits]), renderVisits],
    ["sources", "b", (c) => JSON.stringify([c.first_source, c.last_source]), renderSources],
    ["conversations", "b", sigConversations, renderConversations],
  ];

  // ---------- rendering ----------

  function render() {
    if (requested === null) {
      sections = new Map();
      root.replaceChildren();
      return;
    }
    const id = contactId();
    const card = id === null ? null : state.contacts.get(id);
    if (!card) {
      sections = new Map();
      root.replaceChildren(placeholder(id));
      return;
    }
    if (cols.parentNode !== root) root.replaceChildren(cols);
    const a = [];
    const b = [];
    for (const [key, col, sig, draw] of SECTIONS) {
      const signature = `${sig(card)}|${editorSig(key)}`;
      let entry = sections.get(key);
      if (!entry || entry.sig !== signature) {
        entry = { sig: signature, node: draw(card) };
        sections.set(key, entry);
      }
      if (entry.node) (col === "a" ? a : b).push(entry.node);
    }
    keepFocus(() => {
      reconcile(colA, a);
      reconcile(colB, b);
    });
    if (focusAfter) {
      root.querySelector(focusAfter)?.focus();
      focusAfter = null;
    }
  }

  /** Redraws move nodes; an edit box that had focus gets it back with its caret. */
  function keepFocus(fn) {
    const active = document.activeElement;
    const inside = active && root.contains(active);
    let selection = null;
    if (inside && typeof active.selectionStart === "number") {
      try {
        selection = [active.selectionStart, active.selectionEnd];
      } catch {
        selection = null;
      }
    }
    fn();
    if (inside && root.contains(active) && document.activeElement !== active) {
      active.focus({ preventScroll: true });
      if (selection) {
        try {
          active.setSelectionRange(...selection);
        } catch {
          // not a text field
        }
      }
    }
  }

  function placeholder(id) {
    const failure = id === null ? null : cardFailure(id);
    if (erased || failure) {
      const gone = erased || failure.status === 404;
      return h("div", { class: "card-placeholder card-missing", role: "alert" },
        h("p", { class: "contact-name" }, erased ? "Contact erased" : gone ? "Contact not found" : "Couldn't load this contact"),
        h("p", { class: "contact-sub" }, erased
          ? "Everything stored about this person was deleted."
          : gone ? "It was erased, or it belongs to a site you don't answer for." : failure.message || "Please try again."),
        gone ? null : h("button", { class: "btn btn-ghost btn-sm", type: "button", onclick: () => loadCard(id) }, "Try again"));
    }
    const name = hint?.display_name || (id === null ? "" : "Visitor");
    return h("div", { class: "card-placeholder" },
      h("div", { class: "card-head" }, avatar(name, `c${id}`, "xl"), h("p", { class: "contact-name" }, name),
        h("p", { class: "contact-sub" }, "Loading details…")),
      h("div", { class: "card-skeleton", "aria-hidden": "true" }, h("div"), h("div"), h("div")));
  }

  function section(key, title, ...children) {
    const titleId = `${prefix}-${key}`;
    return h("section", { class: "contact-section", "aria-labelledby": titleId, dataset: { section: key } },
      h(mode === "page" ? "h2" : "h3", { class: "section-title", id: titleId }, title), ...children);
  }

  function row(label, value, extra = null) {
    if (value === null || value === undefined || value === "") return null;
    return h("div", { class: "kv-row" }, h("dt", null, label), h("dd", null, value, extra));
  }

  function liveOf(card) {
    const live = store.liveOfContact(card.id);
    if (live) return live;
    return state.liveLoaded ? null : card.live; // before the live list arrives, the card's own
  }

  // ---------- head ----------

  function sigHead(card) {
    return JSON.stringify([card.display_name, card.name, card.email, card.avatar_url, card.location, Boolean(liveOf(card))]);
  }

  function renderHead(card) {
    const name = card.display_name || "Visitor";
    const live = liveOf(card);
    const sub = card.name && card.email ? card.email : card.email ? "" : "No email yet";
    const pic = h("span", { class: "card-avatar" }, avatar(name, `c${card.id}`, "xl", card.avatar_url),
      live ? h("span", { class: "presence-dot", "data-status": "online", title: "On the site now" }) : null);
    const where = place(card.location);
    const lt = localTime(card.location?.timezone);
    const meta = [];
    if (where) {
      meta.push(h("span", { class: "card-meta-item" },
        flag(card.location.country) ? h("span", { class: "flag", "aria-hidden": "true" }, flag(card.location.country)) : icon("pin"),
        where));
    }
    if (lt) {
      meta.push(h("span", { class: "card-meta-item", title: `${lt.zone} · ${lt.diff}` }, icon("clock"),
        h("span", { "data-tick": "local", "data-tz": card.location.timezone }, lt.time), h("span", { class: "muted-inline" }, "local time")));
    }
    return h("div", { class: "card-head", dataset: { section: "head" } },
      pic,
      h("div", { class: "card-who" },
        h("p", { class: "contact-name" }, name),
        sub ? h("p", { class: "contact-sub" }, sub) : null,
        meta.length ? h("p", { class: "card-meta" }, meta) : null,
        mode === "panel" && onOpenContact
          ? h("a", { class: "card-open-link", href: `/console/contacts/${card.id}`, onclick: (event) => {
            if (!plainClick(event)) return;
            event.preventDefault();
            onOpenContact(card.id);
          } }, "Open contact page", icon("chevron"))
          : null,
      ));
  }

  // ---------- right now ----------

  function sigNow(card) {
    const live = liveOf(card);
    return JSON.stringify([live && [live.url, live.title, live.page_since], card.last_seen_at, state.leftAt.get(card.id)]);
  }

  function renderNow(card) {
    const live = liveOf(card);
    if (!live) {
      const seen = parse(card.last_seen_at);
      const left = state.leftAt.get(card.id);
      return section("now", "Right now",
        h("div", { class: "now-box" },
          h("p", { class: "now-status" }, h("span", { class: "now-dot", "aria-hidden": "true" }), "Not on the site"),
          left
            ? h("p", { class: "now-sub" }, "Left the site ", h("time", { datetime: left.toISOString(), title: full(left),
              "data-tick": "ago-lc", "data-from": left.getTime() }, ago(left).toLowerCase()))
            : seen ? h("p", { class: "now-sub" }, "Last seen ", ticking("ago", seen)) : null));
    }
    const since = live.page_since ? new Date(live.page_since * 1000) : null;
    const url = safeUrl(live.url);
    const title = live.title || (live.url ? shortUrl(live.url) : "");
    return section("now", "Right now",
      h("div", { class: "now-box is-live" },
        h("p", { class: "now-status" }, h("span", { class: "now-dot", "aria-hidden": "true" }), "On the site",
          since ? h("span", { class: "now-since" }, "\u00a0· ", ticking("since", since), " on this page") : null),
        live.url
          ? h(url ? "a" : "span", { class: "now-page", href: url, target: url ? "_blank" : null, rel: url ? "noopener noreferrer" : null, title: live.url },
            h("span", { class: "now-title" }, title), h("span", { class: "now-path" }, pathOf(live.url)))
          : h("p", { class: "now-sub" }, "Opening a page…")));
  }

  // ---------- details ----------

  function sigDetails(card) {
    return JSON.stringify([card.name, card.email, card.phone, card.external_id, card.location, card.language, card.device,
      card.current_visit?.screen, card.site_id, card.email_verified, card.external_id_verified]);
  }

  function renderDetails(card) {
    const lt = localTime(card.location?.timezone);
    const country = card.location?.country;
    const rows = [
      editableRow(card, "name", "Name", card.name, card.name),
      editableRow(card, "email", "Email", card.email,
        card.email ? [h("a", { href: `mailto:${card.email}` }, card.email), " ", verifiedBadge(card.email_verified)] : null),
      editableRow(card, "phone", "Phone", card.phone, card.phone ? h("a", { href: `tel:${card.phone.replace(/[^\d+]/g, "")}` }, card.phone) : null),
      row("User ID", card.external_id ? [card.external_id, " ", verifiedBadge(card.external_id_verified)] : null),
      row("Location", place(card.location)
        ? h("span", { class: "with-flag" }, flag(country) ? h("span", { class: "flag", "aria-hidden": "true" }, flag(country)) : null,
          card.location.city ? `${card.location.city}, ${countryName(country)}` : countryName(country))
        : null),
      row("Local time", lt
        ? h("span", null, h("span", { "data-tick": "local", "data-tz": card.location.timezone }, lt.time),
          h("span", { class: "kv-note" }, `${lt.zone} · ${lt.diff}`))
        : null),
      row("Language", languageName(card.language)),
      row("Device", deviceText(card.device)
        ? h("span", { class: "with-icon" }, icon(card.device.type === "mobile" ? "mobile" : card.device.type === "tablet" ? "tablet" : "desktop"), deviceText(card.device))
        : null),
      row("Screen", card.current_visit?.screen ? card.current_visit.screen.replace("x", " × ") : null),
      state.sites.size > 1 ? row("Site", state.sites.get(card.site_id)?.name) : null,
    ];
    return section("details", "Details", h("dl", { class: "kv" }, rows));
  }

  /** A profile field with its edit button, or its edit box while editing. */
  function editableRow(card, field, label, raw, shown) {
    const key = `field:${field}`;
    const editor = editors.get(key);
    const dd = editor
      ? h("dd", { class: "kv-editing" }, editor.form)
      : h("dd", { class: "kv-editable" },
        h("span", { class: "kv-value" }, shown ?? h("span", { class: "kv-empty" }, "Not set")),
        h("button", {
          class: "icon-button icon-button-sm edit-button", type: "button", "aria-label": `Edit ${label.toLowerCase()}`,
          title: `Edit ${label.toLowerCase()}`, "data-edit": key,
          onclick: () => openFieldEditor(card, field, label, raw),
        }, icon("pencil")));
    return h("div", { class: "kv-row" }, h("dt", null, label), dd);
  }

  function openFieldEditor(card, field, label, raw) {
    const key = `field:${field}`;
    const input = h("input", {
      class: "input input-sm", id: `${prefix}-edit-${field}`, name: field,
      type: field === "email" ? "email" : field === "phone" ? "tel" : "text",
      autocomplete: "off", spellcheck: field === "name" ? null : "false",
      maxlength: field === "email" ? 254 : field === "phone" ? 64 : 200,
    });
    input.value = raw || "";
    const editor = makeEditor(key, label, [input], async () => {
      const value = input.value.trim();
      return { [field]: value === "" ? null : value };
    });
    editors.set(key, editor);
    focusAfter = `#${input.id}`;
    render();
  }

  /**
   * An edit box: the inputs, Save and Cancel, and an error line. Enter saves, Escape cancels.
   * build() returns the PATCH body, or throws an Error whose message is shown.
   */
  function makeEditor(key, label, inputs, build, extraButtons = []) {
    const errorId = `${prefix}-err-${key.replace(/[^a-z0-9]/gi, "-")}`;
    const error = h("p", { class: "field-error", id: errorId, hidden: true, role: "alert" });
    const save = h("button", { class: "btn btn-primary btn-xs", type: "submit" }, "Save");
    const cancel = h("button", { class: "btn btn-ghost btn-xs", type: "button", onclick: () => closeEditor(key) }, "Cancel");
    const fields = inputs.map((input) => {
      if (input.tagName !== "INPUT" && input.tagName !== "TEXTAREA") return input;
      input.setAttribute("aria-describedby", errorId);
      const text = input.dataset.label || label;
      return h("label", { class: "inline-field" }, h("span", { class: "visually-hidden" }, text), input);
    });
    const form = h("form", { class: "inline-edit", novalidate: true },
      h("div", { class: "inline-edit-fields" }, fields),
      error,
      h("div", { class: "inline-edit-actions" }, save, cancel, extraButtons));
    const editor = { form, error, inputs, busy: false };
    const showError = (message) => {
      error.textContent = message;
      error.hidden = false;
      for (const input of inputs) if (input.tagName === "INPUT") input.setAttribute("aria-invalid", "true");
    };
    editor.showError = showError;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (editor.busy) return;
      let body;
      try {
        body = await build();
      } catch (problem) {
        showError(problem.message);
        inputs[0]?.focus();
        return;
      }
      await submit(key, editor, body);
    });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        closeEditor(key);
      }
    });
    return editor;
  }

  async function submit(key, editor, body) {
    const id = contactId();
    editor.busy = true;
    editor.form.setAttribute("aria-busy", "true");
    for (const b of editor.form.querySelectorAll("button")) b.disabled = true;
    try {
      const contact = await api.patch(`/contacts/${id}`, body);
      editors.delete(key);
      focusAfter = `[data-edit="${cssEscape(key)}"]`;
      if (contact) {
        if (contact.id !== id) store.mergeContacts(id, contact.id);
        store.updateContact(contact);
      }
      if (contact?.id !== id) loadCard(contact?.id ?? id);
      render();
    } catch (error) {
      editor.showError(error.message || "Couldn't save. Please try again.");
      editor.inputs[0]?.focus();
    } finally {
      editor.busy = false;
      editor.form.removeAttribute("aria-busy");
      for (const b of editor.form.querySelectorAll("button")) b.disabled = false;
    }
  }

  function closeEditor(key) {
    if (!editors.delete(key)) return;
    focusAfter = key === "attr:+" ? "[data-add-attribute]" : `[data-edit="${cssEscape(key)}"]`;
    render();
  }

  function editorSig(sectionKey) {
    const keys = [...editors.keys()].filter((k) =>
      sectionKey === "details" ? k.startsWith("field:") : sectionKey === "attributes" ? k.startsWith("attr:") : false);
    return keys.sort().join(",");
  }

  // ---------- tags ----------

  function renderTags(card) {
    if (!tagForm) tagForm = makeTagForm();
    const tags = card.tags || [];
    return section("tags", "Tags",
      tags.length
        ? h("ul", { class: "chips", "aria-label": "Tags" }, tags.map((tag) =>
          h("li", { class: "chip" }, h("span", { class: "chip-text" }, tag),
            h("button", { class: "chip-remove", type: "button", "aria-label": `Remove tag ${tag}`, title: "Remove tag",
              "data-tag": tag, onclick: () => changeTags(tags.filter((t) => t !== tag), { removed: tag }) }, icon("x")))))
        : null,
      tagForm.form);
  }

  function makeTagForm() {
    const inputId = `${prefix}-tag`;
    const errorId = `${prefix}-tag-err`;
    const input = h("input", { class: "input input-sm", id: inputId, type: "text", maxlength: 50, placeholder: "Add a tag…",
      autocomplete: "off", "aria-describedby": errorId, enterkeyhint: "done" });
    const error = h("p", { class: "field-error", id: errorId, role: "alert", hidden: true });
    const button = h("button", { class: "btn btn-ghost btn-xs", type: "submit" }, icon("plus"), "Add");
    const form = h("form", { class: "tag-form" },
      h("label", { class: "visually-hidden", for: inputId }, "Add tag"),
      h("div", { class: "tag-form-row" }, input, button), error);
    input.addEventListener("input", () => {
      error.hidden = true;
      input.removeAttribute("aria-invalid");
      if (input.value.includes(",")) form.requestSubmit();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const card = state.contacts.get(contactId());
      const fresh = input.value.split(",").map((t) => t.trim()).filter(Boolean);
      if (!card || !fresh.length) {
        input.value = input.value.replace(/,/g, "");
        return;
      }
      const ok = await changeTags([...(card.tags || []), ...fresh], { form: { input, error } });
      if (ok) {
        input.value = "";
        input.focus();
      }
    });
    return { form, input, error };
  }

  async function changeTags(tags, { removed = null, form = null } = {}) {
    const id = contactId();
    try {
      const contact = await api.patch(`/contacts/${id}`, { tags });
      if (removed !== null) {
        // The chip is gone: keep the keyboard in the tag list.
        focusAfter = `#${prefix}-tag`;
        toast(`Tag "${removed}" removed`);
      }
      if (contact) store.updateContact(contact);
      return true;
    } catch (problem) {
      const target = form || tagForm;
      target.error.textContent = problem.message || "Couldn't save the tags.";
      target.error.hidden = false;
      target.input.setAttribute("aria-invalid", "true");
      return false;
    }
  }

  // ---------- attributes ----------

  function renderAttributes(card) {
    const entries = Object.entries(card.attributes || {}).sort(([a], [b]) => a.localeCompare(b));
    const adding = editors.get("attr:+");
    return section("attributes", "Attributes",
      entries.length
        ? h("dl", { class: "kv kv-attrs" }, entries.map(([key, value]) => attributeRow(key, value)))
        : adding ? null : h("p", { class: "muted" }, "No attributes yet."),
      adding
        ? h("div", { class: "attr-add" }, adding.form)
        : h("button", { class: "btn btn-ghost btn-xs add-button", type: "button", "data-add-attribute": "",
          onclick: openAttributeAdder }, icon("plus"), "Add attribute"));
  }

  function attributeRow(key, value) {
    const editKey = `attr:${key}`;
    const editor = editors.get(editKey);
    const shown = attributeValue(key, value);
    const valueEl = shown.date
      ? h("time", { datetime: shown.dateOnly ? editableText(value) : shown.date.toISOString(), title: full(shown.date) }, shown.text)
      : h("span", { class: typeof value === "number" ? "num" : null }, shown.text);
    const dd = editor
      ? h("dd", { class: "kv-editing" }, editor.form)
      : h("dd", { class: "kv-editable" }, h("span", { class: "kv-value" }, valueEl),
        h("button", { class: "icon-button icon-button-sm edit-button", type: "button", "aria-label": `Edit ${key}`, title: `Edit ${key}`,
          "data-edit": editKey, onclick: () => openAttributeEditor(key, value) }, icon("pencil")));
    return h("div", { class: "kv-row" }, h("dt", { title: key }, key), dd);
  }

  function openAttributeEditor(key, value) {
    const editKey = `attr:${key}`;
    const input = h("input", { class: "input input-sm", id: `${prefix}-attr-${cssId(key)}`, type: "text", maxlength: 1000,
      autocomplete: "off", inputmode: typeof value === "number" ? "decimal" : null });
    input.value = editableText(value);
    const remove = h("button", { class: "btn btn-ghost btn-xs btn-danger-text", type: "button", onclick: () => {
      submit(editKey, editor, { attributes: { [key]: null } });
    } }, "Remove");
    const editor = makeEditor(editKey, key, [input], async () => {
      const parsed = parseAttribute(input.value, value);
      if (parsed.error) throw new Error(parsed.error);
      return { attributes: { [key]: parsed.value } };
    }, [remove]);
    editors.set(editKey, editor);
    focusAfter = `#${input.id}`;
    render();
  }

  function openAttributeAdder() {
    const name = h("input", { class: "input input-sm", id: `${prefix}-attr-new-name`, type: "text", maxlength: 64, placeholder: "Name",
      autocomplete: "off", spellcheck: "false", "data-label": "Attribute name" });
    const value = h("input", { class: "input input-sm", id: `${prefix}-attr-new-value`, type: "text", maxlength: 1000, placeholder: "Value",
      autocomplete: "off", "data-label": "Attribute value" });
    const editor = makeEditor("attr:+", "Attribute", [name, value], async () => {
      const key = name.value.trim();
      if (!key) throw new Error("Give the attribute a name.");
      const card = state.contacts.get(contactId());
      const parsed = parseAttribute(value.value, card?.attributes?.[key]);
      if (parsed.error) throw new Error(parsed.error);
      return { attributes: { [key]: parsed.value } };
    });
    editors.set("attr:+", editor);
    focusAfter = `#${name.id}`;
    render();
  }

  // ---------- notes ----------

  function renderNotes(card) {
    if (!noteForm) noteForm = makeNoteForm();
    const notes = [...(card.notes || [])].sort((a, b) => (b.at || "").localeCompare(a.at || "") || b.id - a.id);
    return section("notes", "Notes",
      noteForm.form,
      notes.length
        ? h("ul", { class: "notes" }, notes.map((note) => noteItem(note)))
        : h("p", { class: "muted notes-empty" }, "Only your team sees notes."));
  }

  function noteItem(note) {
    const at = parse(note.at);
    const asking = confirming.has(note.id);
    const author = note.operator?.name || "A teammate";
    const actions = asking
      ? h("span", { class: "note-confirm" }, h("span", null, "Delete this note?"),
        h("button", { class: "link-button link-danger", type: "button", "data-note-confirm": note.id, onclick: () => deleteNote(note) }, "Delete"),
        h("button", { class: "link-button", type: "button", "data-note-keep": note.id, onclick: () => {
          confirming.delete(note.id);
          focusAfter = `[data-note-delete="${note.id}"]`;
          render();
        } }, "Keep"))
      : h("button", { class: "link-button link-quiet", type: "button", "data-note-delete": note.id,
        "aria-label": `Delete note by ${author}${at ? `, ${medium(at)}` : ""}`, onclick: () => {
          confirming.add(note.id);
          focusAfter = `[data-note-keep="${note.id}"]`;
          render();
        } }, "Delete");
    return h("li", { class: "note" },
      h("p", { class: "note-text" }, note.text),
      h("p", { class: "note-meta" }, h("span", null, author), " · ", at ? ticking("ago", at) : "", actions));
  }

  async function deleteNote(note) {
    const id = contactId();
    try {
      await api.delete(`/contacts/${id}/notes/${note.id}`);
      confirming.delete(note.id);
      const card = state.contacts.get(id);
      if (card) store.setContact({ ...card, notes: (card.notes || []).filter((n) => n.id !== note.id) });
      focusAfter = `#${prefix}-note`;
      render();
      toast("Note deleted");
    } catch (error) {
      toast(error.message || "Couldn't delete the note.", { error: true });
    }
  }

  function makeNoteForm() {
    const id = `${prefix}-note`;
    const errorId = `${prefix}-note-err`;
    const textarea = h("textarea", { class: "input note-input", id, rows: 2, maxlength: 5000, placeholder: "Write a note for your team…",
      "aria-describedby": errorId });
    const error = h("p", { class: "field-error", id: errorId, role: "alert", hidden: true });
    const button = h("button", { class: "btn btn-secondary btn-xs", type: "submit" }, "Add note");
    const form = h("form", { class: "note-form" },
      h("label", { class: "visually-hidden", for: id }, "Note"),
      textarea, error,
      h("div", { class: "note-form-bar" }, h("span", { class: "note-hint" }, icon("lock"), "Private to your team"), button));
    const grow = () => {
      textarea.style.height = "auto";
      textarea.style.height = `${Math.min(textarea.scrollHeight + 2, 240)}px`;
    };
    textarea.addEventListener("input", () => {
      grow();
      error.hidden = true;
      textarea.removeAttribute("aria-invalid");
    });
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = textarea.value.trim();
      if (!text) {
        error.textContent = "Write the note first.";
        error.hidden = false;
        textarea.setAttribute("aria-invalid", "true");
        textarea.focus();
        return;
      }
      const cid = contactId();
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      try {
        const note = await api.post(`/contacts/${cid}/notes`, { text });
        textarea.value = "";
        grow();
        const card = state.contacts.get(cid);
        if (card) store.setContact({ ...card, notes: [note, ...(card.notes || []).filter((n) => n.id !== note.id)] });
        textarea.focus();
      } catch (problem) {
        error.textContent = problem.message || "Couldn't add the note.";
        error.hidden = false;
        textarea.setAttribute("aria-invalid", "true");
      } finally {
        button.disabled = false;
        form.removeAttribute("aria-busy");
      }
    });
    return { form, textarea };
  }

  // ---------- this visit ----------

  function sigVisit(card) {
    const live = liveOf(card);
    return JSON.stringify([card.current_visit, live && live.visit_id, live && live.page_since]);
  }

  function renderVisit(card) {
    const visit = card.current_visit;
    if (!visit) return section("visit", "This visit", h("p", { class: "muted" }, "No visits recorded yet."));
    const live = liveOf(card);
    const ongoing = live && live.visit_id === visit.id;
    const started = parse(visit.started_at);
    const pages = visit.pages || [];
    const items = pages.map((page, i) => {
      const at = parse(page.at);
      const next = pages[i + 1];
      const isNow = ongoing && i === pages.length - 1;
      let spent = null;
      if (isNow && at) spent = h("span", { class: "page-dur is-now" }, ticking("since", at));
      else if (page.duration_ms > 0) spent = h("span", { class: "page-dur", title: durationLong(page.duration_ms) }, duration(page.duration_ms));
      else if (next && at && parse(next.at)) {
        const ms = parse(next.at) - at;
        spent = h("span", { class: "page-dur", title: durationLong(ms) }, duration(ms));
      }
      const url = safeUrl(page.url);
      const title = page.title || shortUrl(page.url);
      return h("li", { class: isNow ? "page-item is-now" : "page-item" },
        h("time", { class: "page-time", datetime: at?.toISOString(), title: full(at) }, clock(at)),
        h("span", { class: "page-main" },
          h(url ? "a" : "span", { class: "page-title", href: url, target: url ? "_blank" : null, rel: url ? "noopener noreferrer" : null, title: page.url }, title),
          h("span", { class: "page-path" }, page.path || pathOf(page.url), page.scroll_depth > 0 ? ` · ${page.scroll_depth}% read` : "")),
        spent,
        isNow ? h("span", { class: "visually-hidden" }, " (open now)") : null);
    });
    const meta = [
      started ? `Started ${sameDayText(started)}` : null,
      visit.source ? sourceText(visit.source) : null,
    ].filter(Boolean).join(" · ");
    return section("visit", ongoing ? "This visit" : "Latest visit",
      meta ? h("p", { class: "section-meta" }, meta) : null,
      items.length ? h("ol", { class: "pages" }, items) : h("p", { class: "muted" }, "No pages yet."));
  }

  function sameDayText(date) {
    const now = new Date();
    return date.toDateString() === now.toDateString() ? clock(date) : `${shortDate(date)}, ${clock(date)}`;
  }

  // ---------- events ----------

  function allEvents(card) {
    const extras = store.cardExtras(card.id);
    const seen = new Set();
    const list = [];
    for (const e of [...extras.fresh, ...(card.events || []), ...extras.older]) {
      const key = e.id ?? `${e.at}|${e.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      list.push(e);
    }
    return list;
  }

  function sigEvents(card) {
    const extras = store.cardExtras(card.id);
    return JSON.stringify([card.events, extras.fresh.length, extras.older.length, extras.hasMore, extras.loadingMore, extras.shown]);
  }

  const EVENTS_STEP = 20;

  function renderEvents(card) {
    const extras = store.cardExtras(card.id);
    const events = allEvents(card);
    // New events from frames always show; older ones a page at a time.
    const visible = events.slice(0, extras.shown + extras.fresh.length);
    const more = events.length > visible.length || extras.hasMore;
    return section("events", "Events",
      visible.length
        ? h("ol", { class: "timeline" }, visible.map((e) => {
          const at = parse(e.at);
          const props = propertiesText(e.properties);
          return h("li", { class: e.isNew ? "timeline-item is-fresh" : "timeline-item" },
            h("span", { class: "timeline-dot", "aria-hidden": "true" }),
            h("span", { class: "timeline-name" }, e.name),
            at ? h("time", { class: "timeline-time", datetime: at.toISOString(), title: full(at), "data-tick": "relative", "data-from": at.getTime() }, relative(at)) : null,
            props ? h("span", { class: "timeline-props" }, props) : null);
        }))
        : h("p", { class: "muted" }, "No events yet."),
      more
        ? h("button", { class: "btn btn-ghost btn-xs more-button", type: "button", "data-more-events": "", "aria-busy": extras.loadingMore ? "true" : null,
          disabled: extras.loadingMore, onclick: () => moreEvents(card.id) }, extras.loadingMore ? "Loading…" : "Show more")
        : null);
  }

  /** Show the next events: those already loaded first, then GET /events?before_id= for older. */
  async function moreEvents(id) {
    const extras = store.cardExtras(id);
    const card = state.contacts.get(id);
    if (!card || extras.loadingMore) return;
    const events = allEvents(card);
    focusAfter = "[data-more-events]";
    if (events.length > extras.shown + extras.fresh.length) {
      extras.shown += EVENTS_STEP;
      store.emit("contact", id);
      return;
    }
    const ids = events.map((e) => e.id).filter((x) => typeof x === "number");
    const before = ids.length ? Math.min(...ids) : undefined;
    extras.loadingMore = true;
    store.emit("contact", id);
    try {
      const found = await api.get(`/contacts/${id}/events`, { before_id: before, limit: EVENTS_PAGE });
      extras.older.push(...found);
      extras.hasMore = found.length === EVENTS_PAGE;
      extras.shown += Math.min(EVENTS_STEP, found.length);
    } catch (error) {
      toast(error.message || "Couldn't load more events.", { error: true });
    } finally {
      extras.loadingMore = false;
      focusAfter = "[data-more-events]";
      store.emit("contact", id);
    }
  }

  // ---------- visits and sources ----------

  function renderVisits(card) {
    const first = parse(card.visits?.first_at || card.created_at);
    const last = parse(card.visits?.last_at || card.last_seen_at);
    const count = card.visits?.count || 0;
    const recent = card.recent_visits || [];
    return section("visits", "Visits",
      h("dl", { class: "kv" },
        row("Visits", String(count)),
        row("First seen", first ? h("time", { datetime: first.toISOString(), title: full(first) }, medium(first)) : null),
        row("Last seen", last ? ticking("ago", last) : null)),
      recent.length
        ? h("details", { class: "recent-visits" },
          h("summary", null, `Recent visits (${recent.length})`),
          h("ol", { class: "visit-list" }, recent.map((v) => {
            const at = parse(v.started_at);
            const where = place(v.location);
            return h("li", { class: "visit-item" },
              h("p", { class: "visit-top" },
                h("time", { datetime: at?.toISOString(), title: full(at) }, at ? `${shortDate(at)}, ${clock(at)}` : ""),
                v.source?.channel ? h("span", { class: "channel-pill", "data-channel": v.source.channel }, channelLabel(v.source.channel)) : null),
              h("p", { class: "visit-sub" }, [pathOf(v.entry_url), sourceDetail(v.source), deviceText(v.device), where].filter(Boolean).join(" · ")));
          })))
        : null);
  }

  function renderSources(card) {
    const block = (label, s) => {
      if (!s) return null;
      const detail = sourceDetail(s);
      return h("div", { class: "kv-row" }, h("dt", null, label), h("dd", { class: "source" },
        h("span", { class: "channel-pill", "data-channel": s.channel || "direct" }, channelLabel(s.channel) || "Direct"),
        detail ? h("span", { class: "source-detail" }, detail) : null,
        s.referrer_host ? h("span", { class: "source-ref" }, `Referrer: ${s.referrer_host}`) : null,
        s.term ? h("span", { class: "source-ref" }, `Term: ${s.term}`) : null));
    };
    const rows = [block("First touch", card.first_source), block("Latest", card.last_source)].filter(Boolean);
    return section("sources", "Source", rows.length ? h("dl", { class: "kv kv-sources" }, rows) : h("p", { class: "muted" }, "Not known yet."));
  }

  // ---------- conversations ----------

  function sigConversations(card) {
    const live = (card.conversations || []).map((c) => state.conversations.get(c.id) || c);
    return JSON.stringify([live.map((c) => [c.id, c.status, c.last_message]), currentConversationId]);
  }

  function renderConversations(card) {
    const conversations = [...(card.conversations || [])].sort((a, b) => b.id - a.id);
    return section("conversations", "Conversations",
      conversations.length
        ? h("ul", { class: "other-convs" }, conversations.map(conversationLink))
        : h("p", { class: "muted" }, "No conversations yet."));
  }

  function conversationLink(stored) {
    const c = state.conversations.get(stored.id) || stored; // the live row when we have it
    const at = parse(c.last_message?.at || c.created_at);
    const current = c.id === currentConversationId;
    return h("li", null,
      h("a", {
        class: "other-conv", href: `/console/conversations/${c.id}`, "aria-current": current ? "page" : null,
        onclick: (event) => {
          if (!plainClick(event)) return;
          event.preventDefault();
          onOpenConversation(c.id);
        },
      },
      h("span", { class: "other-conv-top" },
        h("span", { class: "status-pill", "data-status": c.status }, c.status === "open" ? "Open" : "Resolved"),
        h("time", { datetime: at?.toISOString(), title: full(at) }, current ? "This conversation" : relative(at))),
      h("span", { class: "other-conv-text" }, (c.last_message?.text || "No messages").replace(/\s+/g, " "))));
  }

  // ---------- wiring ----------

  function reset() {
    sections = new Map();
    editors = new Map();
    confirming.clear();
    noteForm = null;
    tagForm = null;
    erased = false;
    identity.reset();
  }

  store.on("contact", (id) => {
    if (requested !== null && (id === contactId() || id === requested)) render();
  });
  store.on("live", () => {
    if (requested !== null && state.contacts.has(contactId())) render();
  });
  store.on("conversation", (id) => {
    const card = state.contacts.get(contactId());
    if (card?.conversations?.some((c) => c.id === id)) render();
  });
  store.on("merged", ({ from, into }) => {
    if (requested === null) return;
    if (from === requested || store.resolveContact(requested) === into) {
      // The same person, now under another id: same edit boxes, fresh data.
      sections = new Map();
      loadCard(into);
      render();
    }
  });
  store.on("erased", (id) => {
    if (requested !== null && contactId() === id) {
      reset();
      erased = true;
      render();
    }
  });

  return {
    el: root,
    /** Show a contact (null: nothing); hint {display_name} fills the header while loading. */
    show(id, { conversationId = null, hint: hinted = null, reload = true } = {}) {
      const changed = id !== requested;
      currentConversationId = conversationId;
      hint = hinted;
      if (changed) {
        reset();
        requested = id;
      }
      if (id !== null && reload) loadCard(store.resolveContact(id));
      render();
    },
    contactId,
    render,
  };
}

function cssEscape(value) {
  return window.CSS?.escape ? CSS.escape(value) : value.replace(/["\\]/g, "\\$&");
}

function cssId(value) {
  return value.replace(/[^a-zA-Z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);
}
