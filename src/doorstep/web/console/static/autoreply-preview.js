// The preview on the Auto-replies page: "A visitor writing at … from … would see:" and the
// reply the server would send (POST /autoreply-rules/preview). While a rule is being edited
// its unsaved form goes along as `draft`, so every edit shows here after a short pause.

import { LANGUAGES, afterText, languageLabel } from "./autoreply-words.js";
import { h, icon } from "./dom.js";
import { fromZoned, knownZone, nextZoned, parse, toZoned, zonedLabel } from "./time.js";

const DELAY = 250;
let uid = 0;
const nextId = () => `pv${++uid}`;

function yesNo(legend, name, value, onChange) {
  const group = h("fieldset", { class: "segmented segmented-sm" }, h("legend", null, legend),
    [["yes", "Yes"], ["no", "No"]].map(([v, label]) => {
      const input = h("input", { type: "radio", name, value: v, checked: (v === "yes") === value });
      input.addEventListener("change", () => onChange(v === "yes"));
      return h("label", null, input, h("span", null, label));
    }));
  return group;
}

export function createPreview({ api, host, draftBadge }) {
  const q = { at: "", segmentId: null, operatorsOnline: false, emailKnown: false, language: "en", name: "" };
  let site = null;
  let draftOf = null; // () => the rule being edited, or null
  let timer = null;
  let seq = 0;

  const atId = nextId();
  const atInput = h("input", { class: "input input-sm", id: atId, type: "datetime-local", step: 60 });
  const atNote = h("span", { class: "field-note preview-at-note" });
  atInput.addEventListener("input", () => {
    q.at = atInput.value;
    renderAt();
    soon();
  });
  function setAt(value) {
    atInput.value = value;
    q.at = value;
    renderAt();
    refresh();
  }
  function renderAt() {
    const zone = site?.timezone || "UTC";
    atNote.textContent = q.at ? `on the clock in ${zone}` : `Now, on the clock in ${zone}`;
  }

  const segmentId = nextId();
  const segmentSelect = h("select", { id: segmentId });
  segmentSelect.addEventListener("change", () => {
    q.segmentId = segmentSelect.value === "" ? null : Number(segmentSelect.value);
    refresh();
  });

  const languageId = nextId();
  const languageSelect = h("select", { id: languageId }, LANGUAGES.map((l) => h("option", { value: l }, `${languageLabel(l)} (${l})`)));
  languageSelect.addEventListener("change", () => {
    q.language = languageSelect.value;
    refresh();
  });

  const nameId = nextId();
  const nameInput = h("input", { class: "input input-sm", id: nameId, maxlength: 100, autocomplete: "off", placeholder: "Ann Lee" });
  nameInput.addEventListener("input", () => {
    q.name = nameInput.value;
    soon();
  });

  const result = h("div", { class: "preview-result", "aria-live": "polite", "aria-busy": "false" });

  const form = h("form", { class: "preview-form", novalidate: true, onsubmit: (event) => event.preventDefault() },
    h("p", { class: "preview-lead" }, "A visitor writing"),
    h("div", { class: "form-row" },
      h("label", { class: "field-label", for: atId }, "When"),
      h("div", { class: "preview-at" }, atInput,
        h("div", { class: "quick-row", role: "group", "aria-label": "Quick times" },
          h("button", { class: "btn btn-ghost btn-xs", type: "button", onclick: () => setAt("") }, "Now"),
          h("button", {
            class: "btn btn-ghost btn-xs", type: "button",
            onclick: () => {
              const zone = site?.timezone && knownZone(site.timezone) ? site.timezone : "UTC";
              setAt(toZoned(nextZoned(6, 23, 0, zone), zone));
            },
          }, "Saturday 23:00"))),
      atNote),
    h("div", { class: "preview-grid" },
      h("div", { class: "form-row" },
        h("label", { class: "field-label", for: segmentId }, "From segment"),
        h("div", { class: "select-wrap select-plain select-sm" }, segmentSelect)),
      h("div", { class: "form-row" },
        h("label", { class: "field-label", for: languageId }, "Language"),
        h("div", { class: "select-wrap select-plain select-sm" }, languageSelect)),
      yesNo("Operators online", nextId(), q.operatorsOnline, (v) => {
        q.operatorsOnline = v;
        refresh();
      }),
      yesNo("Email known", nextId(), q.emailKnown, (v) => {
        q.emailKnown = v;
        refresh();
      }),
      h("div", { class: "form-row preview-name" },
        h("label", { class: "field-label", for: nameId }, "Name ", h("span", { class: "optional" }, "(optional)")),
        nameInput)),
    h("p", { class: "preview-lead" }, "would see:"),
    result);
  host.replaceChildren(form);

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, DELAY);
  }

  async function refresh() {
    clearTimeout(timer);
    if (!site) return;
    const mine = ++seq;
    const zone = knownZone(site.timezone) ? site.timezone : "UTC";
    const at = q.at ? fromZoned(q.at, zone) : null;
    const draft = draftOf?.() ?? null;
    draftBadge.hidden = !draft;
    if (draft && !draft.text.trim()) {
      result.setAttribute("aria-busy", "false");
      result.replaceChildren(h("div", { class: "preview-none" },
        h("p", { class: "preview-none-title" }, "Nothing to show yet"),
        h("p", { class: "preview-reason" }, "Write the reply, and it appears here as the visitor would see it.")));
      return;
    }
    result.setAttribute("aria-busy", "true");
    try {
      const data = await api.post("/autoreply-rules/preview", {
        site_id: site.id,
        at: at ? at.toISOString() : null,
        segment_id: q.segmentId,
        operators_online: q.operatorsOnline,
        email_known: q.emailKnown,
        language: q.language || null,
        contact_name: q.name.trim() || null,
        draft,
      });
      if (mine === seq) render(data, zone);
    } catch (error) {
      if (mine !== seq) return;
      result.replaceChildren(h("div", { class: "preview-none is-error" },
        h("p", { class: "preview-none-title" }, icon("alert"), draft ? "Can't preview this rule yet" : "Can't preview"),
        h("p", { class: "preview-reason" }, error.message || "Please try again.")));
    } finally {
      if (mine === seq) result.setAttribute("aria-busy", "false");
    }
  }

  function render(data, zone) {
    const nextAvailable = parse(data.next_available);
    const team = data.team_available
      ? h("li", null, h("span", { class: "presence-dot is-inline", "data-status": "online" }), "The team is available")
      : h("li", null, h("span", { class: "presence-dot is-inline", "data-status": "away" }),
        nextAvailable ? `The team is back ${zonedLabel(nextAvailable, zone)}` : "The team is away");
    if (!data.rule) {
      result.replaceChildren(h("div", { class: "preview-none" },
        h("p", { class: "preview-none-title" }, "No automatic reply"),
        h("p", { class: "preview-reason" }, data.reason || "No rule applies."),
        h("ul", { class: "preview-facts" }, team)));
      return;
    }
    const wait = data.after_seconds;
    result.replaceChildren(
      h("div", { class: "preview-chat" },
        h("p", { class: "preview-after" }, icon("clock"), wait === null || wait === undefined ? "" : afterText(wait).replace(/^./, (c) => c.toUpperCase())),
        h("div", { class: "preview-bubble" }, data.text ?? ""),
        data.ask_email
          ? h("div", { class: "preview-email" },
            h("span", { class: "preview-email-label" }, "Email"),
            h("span", { class: "preview-email-field" }, "you@example.com"))
          : data.email_hint
            ? h("p", { class: "preview-email-to" }, `We'll send the answer to ${data.email_hint}`)
            : null),
      h("ul", { class: "preview-facts" },
        h("li", null, icon("bolt"), "Rule: ", h("strong", null, data.rule.name)),
        h("li", null, icon("mail"), data.ask_email
          ? "The email field appears"
          : data.email_hint ? "The email is known: no field, the answer goes there" : "No email field"),
        team),
      data.reason ? h("p", { class: "preview-reason" }, data.reason) : null);
  }

  return {
    setSite(next, segments) {
      site = next;
      segmentSelect.replaceChildren(h("option", { value: "" }, "Every visitor"), ...segments.map((s) => h("option", { value: s.id }, s.name)));
      if (q.segmentId !== null && !segments.some((s) => s.id === q.segmentId)) q.segmentId = null;
      segmentSelect.value = q.segmentId === null ? "" : String(q.segmentId);
      renderAt();
      refresh();
    },
    /** fn returns the unsaved rule to preview (or null for the saved rules only). */
    setDraft(fn) {
      draftOf = fn;
      soon();
    },
    changed: soon,
    refresh,
  };
}
