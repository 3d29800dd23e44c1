// The auto-reply rule editor (docs/autoreplies.md): name, on/off, when (a schedule or any
// time), condition, timeout, the reply with its variables and translations, the audience and
// "Ask for the email if unknown". Every edit is reported through onChange so the preview
// can show the unsaved rule at once.

import { CONDITIONS, LANGUAGES, VARIABLES, afterText, languageLabel } from "./autoreply-words.js";
import { deleteWithConfirm } from "./delete-confirm.js";
import { h, icon } from "./dom.js";

const MAX_TIMEOUT = 86_400;
const QUICK_TIMEOUTS = [[0, "Immediately"], [30, "30 s"], [60, "1 min"], [180, "3 min"], [600, "10 min"]];
let uid = 0;
const nextId = () => `rule${++uid}`;

function modelOf(rule) {
  return {
    name: rule?.name || "",
    enabled: rule ? Boolean(rule.enabled) : true,
    schedule_id: rule?.schedule_id ?? null,
    condition: rule?.condition || "nobody_online",
    timeout: String(rule?.timeout_seconds ?? 60),
    text: rule?.text || "",
    translations: Object.entries(rule?.translations || {}).map(([lang, text]) => ({ lang, text })),
    segment_id: rule?.segment_id ?? null,
    ask_email: rule ? Boolean(rule.ask_email) : true,
  };
}

function parseTimeout(text) {
  const t = String(text).trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n <= MAX_TIMEOUT ? n : null;
}

export function createRuleEditor({ rule, schedules, segments, readOnly, onSave, onCancel, onDelete, onChange }) {
  const model = modelOf(rule);
  const isNew = !rule;
  const titleId = nextId();
  const errorId = nextId();
  let lastText = null; // the reply box a variable goes into

  const changed = () => onChange?.();

  // ---------- fields ----------

  const nameInput = h("input", { class: "input", id: nextId(), value: model.name, maxlength: 100, autocomplete: "off", placeholder: "After hours", "aria-describedby": errorId });
  nameInput.addEventListener("input", () => {
    model.name = nameInput.value;
    edited();
  });
  const enabledInput = h("input", { type: "checkbox", role: "switch", checked: model.enabled });
  enabledInput.addEventListener("change", () => {
    model.enabled = enabledInput.checked;
    edited();
  });

  const whenId = nextId();
  const whenSelect = h("select", { id: whenId });
  function fillSchedules(list) {
    whenSelect.replaceChildren(h("option", { value: "" }, "Any time"),
      ...list.map((s) => h("option", { value: s.id }, `While “${s.name}” is open`)));
    if (model.schedule_id !== null && !list.some((s) => s.id === model.schedule_id)) {
      whenSelect.append(h("option", { value: model.schedule_id }, `Schedule #${model.schedule_id}`));
    }
    whenSelect.value = model.schedule_id === null ? "" : String(model.schedule_id);
  }
  fillSchedules(schedules);
  whenSelect.addEventListener("change", () => {
    model.schedule_id = whenSelect.value === "" ? null : Number(whenSelect.value);
    edited();
  });

  const conditionName = nextId();
  const conditions = h("fieldset", { class: "form-section radio-group" },
    h("legend", null, "Reply when"),
    Object.entries(CONDITIONS).map(([value, label]) => {
      const input = h("input", { type: "radio", name: conditionName, value, checked: model.condition === value });
      input.addEventListener("change", () => {
        model.condition = value;
        edited();
      });
      return h("label", { class: "check" }, input, h("span", null, label));
    }));

  const timeoutId = nextId();
  const timeoutNoteId = nextId();
  const timeoutInput = h("input", {
    class: "input timeout-input", id: timeoutId, type: "number", min: 0, max: MAX_TIMEOUT, step: 1, inputmode: "numeric",
    value: model.timeout, "aria-describedby": timeoutNoteId,
  });
  const timeoutNote = h("output", { class: "timeout-note", id: timeoutNoteId, for: timeoutId });
  function renderTimeout() {
    const n = parseTimeout(model.timeout);
    timeoutNote.textContent = n === null ? "A whole number of seconds, 0 to 86,400" : `Sent ${afterText(n)}`;
    timeoutNote.classList.toggle("is-invalid", n === null);
  }
  timeoutInput.addEventListener("input", () => {
    model.timeout = timeoutInput.value;
    renderTimeout();
    edited();
  });
  const quick = readOnly ? null : h("div", { class: "quick-row", role: "group", "aria-label": "Common waits" },
    QUICK_TIMEOUTS.map(([seconds, label]) => h("button", {
      class: "btn btn-ghost btn-xs", type: "button",
      onclick: () => {
        timeoutInput.value = String(seconds);
        timeoutInput.dispatchEvent(new Event("input"));
      },
    }, label)));

  const textId = nextId();
  const textArea = replyBox({ id: textId, value: model.text, placeholder: "Thanks for your message! We answer {{ next_available }}.", set: (v) => (model.text = v) });
  lastText = textArea;

  const variables = h("details", { class: "variables" },
    h("summary", null, "Variables you can use"),
    h("ul", { class: "variable-list" }, VARIABLES.map(([code, what]) => h("li", null,
      readOnly
        ? h("code", null, code)
        : h("button", { class: "variable", type: "button", title: "Insert at the cursor", onclick: () => insert(code) }, h("code", null, code)),
      h("span", { class: "variable-what" }, what)))),
    h("p", { class: "field-note" }, "Write ", h("code", null, "{% if contact.first_name %}, {{ contact.first_name }}{% endif %}"),
      " to greet by name only when the name is known."));

  const translationsHost = h("div", { class: "translations" });
  const addLangId = nextId();
  const addLangSelect = h("select", { id: addLangId });
  const addLang = readOnly ? null : h("div", { class: "add-translation" },
    h("label", { class: "visually-hidden", for: addLangId }, "Language"),
    h("div", { class: "select-wrap select-plain select-sm" }, addLangSelect),
    h("button", {
      class: "btn btn-secondary btn-sm", type: "button",
      onclick: () => {
        if (!addLangSelect.value) return;
        model.translations.push({ lang: addLangSelect.value, text: "" });
        renderTranslations(addLangSelect.value);
        edited();
      },
    }, icon("plus"), h("span", null, "Add translation")));

  const segmentId = nextId();
  const segmentSelect = h("select", { id: segmentId });
  function fillSegments(list) {
    segmentSelect.replaceChildren(h("option", { value: "" }, "Every visitor"), ...list.map((s) => h("option", { value: s.id }, s.name)));
    if (model.segment_id !== null && !list.some((s) => s.id === model.segment_id)) {
      segmentSelect.append(h("option", { value: model.segment_id }, `Segment #${model.segment_id}`));
    }
    segmentSelect.value = model.segment_id === null ? "" : String(model.segment_id);
  }
  fillSegments(segments);
  segmentSelect.addEventListener("change", () => {
    model.segment_id = segmentSelect.value === "" ? null : Number(segmentSelect.value);
    edited();
  });

  const askInput = h("input", { type: "checkbox", checked: model.ask_email });
  askInput.addEventListener("change", () => {
    model.ask_email = askInput.checked;
    edited();
  });

  // ---------- status, errors, actions ----------

  const errorBox = h("div", { class: "form-error editor-error", id: errorId, role: "alert", hidden: true });
  const saveButton = h("button", { class: "btn btn-primary", type: "submit" }, isNew ? "Create rule" : "Save rule");
  const cancelButton = h("button", { class: "btn btn-ghost", type: "button", onclick: () => onCancel() }, readOnly ? "Close" : "Cancel");
  const deleteArea = deleteWithConfirm({
    noun: "rule",
    name: () => rule.name,
    onDelete,
    onError: (message) => showError(message),
    hidden: isNew || readOnly,
  });

  const form = h("form", { class: "editor", novalidate: true, "aria-labelledby": titleId },
    h("div", { class: "editor-head" },
      h("button", { class: "icon-button icon-button-sm", type: "button", "aria-label": "Back to rules", onclick: () => onCancel() }, icon("back")),
      h("h3", { id: titleId }, isNew ? "New rule" : readOnly ? rule.name : `Edit ${rule.name}`)),
    h("fieldset", { class: "editor-fields", disabled: readOnly },
      h("div", { class: "form-row form-row-split" },
        h("div", { class: "form-row" }, h("label", { class: "field-label", for: nameInput.id }, "Name"), nameInput),
        h("label", { class: "switch switch-field" }, enabledInput, h("span", { class: "switch-track", "aria-hidden": "true" }), h("span", { class: "switch-label" }, "Enabled"))),
      h("div", { class: "form-row" },
        h("label", { class: "field-label", for: whenId }, "When"),
        h("div", { class: "select-wrap select-plain" }, whenSelect),
        h("p", { class: "field-note" }, "The schedule in force when the visitor writes decides.")),
      conditions,
      h("div", { class: "form-row" },
        h("label", { class: "field-label", for: timeoutId }, "Wait (seconds)"),
        h("div", { class: "timeout-row" }, timeoutInput, timeoutNote),
        quick),
      h("div", { class: "form-section" },
        h("label", { class: "field-label", for: textId }, "Reply"),
        textArea, variables),
      h("div", { class: "form-section" },
        h("p", { class: "field-label" }, "Translations"),
        h("p", { class: "field-note" }, "Visitors whose browser asks for one of these languages get this text instead."),
        translationsHost, addLang),
      h("div", { class: "form-row" },
        h("label", { class: "field-label", for: segmentId }, "Audience"),
        h("div", { class: "select-wrap select-plain" }, segmentSelect)),
      h("label", { class: "check" }, askInput, h("span", null, "Ask for the email if unknown"))),
    errorBox,
    h("div", { class: "editor-actions" }, deleteArea, h("span", { class: "spacer" }), cancelButton, readOnly ? null : saveButton));

  // ---------- reply boxes ----------

  function replyBox({ id, value, placeholder, set, label = null }) {
    const box = h("textarea", { class: "input reply-input", id, rows: 4, maxlength: 2000, placeholder, "aria-label": label, "aria-describedby": errorId });
    box.value = value;
    box.addEventListener("input", () => {
      set(box.value);
      edited();
    });
    box.addEventListener("focus", () => {
      lastText = box;
    });
    return box;
  }

  function insert(code) {
    const box = lastText && form.contains(lastText) ? lastText : textArea;
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    box.setRangeText(code, start, end, "end");
    box.dispatchEvent(new Event("input"));
    box.focus();
  }

  function renderTranslations(focusLang = null) {
    translationsHost.replaceChildren(...model.translations.map((t) => {
      const name = languageLabel(t.lang);
      const box = replyBox({ id: nextId(), value: t.text, label: `Reply in ${name}`, set: (v) => (t.text = v) });
      box.dataset.lang = t.lang;
      return h("div", { class: "translation" },
        h("div", { class: "translation-head" },
          h("span", { class: "lang-tag", "aria-hidden": "true" }, t.lang), h("span", { class: "translation-name" }, name),
          readOnly ? null : h("button", {
            class: "btn btn-ghost btn-xs btn-danger-text", type: "button", "aria-label": `Remove the ${name} translation`,
            onclick: () => {
              model.translations.splice(model.translations.indexOf(t), 1);
              renderTranslations();
              addLangSelect.focus();
              edited();
            },
          }, "Remove")),
        box);
    }));
    const free = LANGUAGES.filter((l) => !model.translations.some((t) => t.lang === l));
    addLangSelect.replaceChildren(...free.map((l) => h("option", { value: l }, `${languageLabel(l)} (${l})`)));
    if (addLang) addLang.hidden = free.length === 0;
    if (!model.translations.length && readOnly) translationsHost.replaceChildren(h("p", { class: "muted" }, "None"));
    if (focusLang) translationsHost.querySelector(`textarea[data-lang="${focusLang}"]`)?.focus();
  }

  // ---------- saving ----------

  function body({ forPreview = false } = {}) {
    const translations = {};
    for (const t of model.translations) if (t.text.trim() || !forPreview) translations[t.lang] = t.text;
    return {
      name: model.name.trim() || (forPreview ? "Unsaved rule" : ""),
      enabled: model.enabled,
      schedule_id: model.schedule_id,
      condition: model.condition,
      timeout_seconds: parseTimeout(model.timeout) ?? (forPreview ? 0 : null),
      text: model.text,
      translations,
      segment_id: model.segment_id,
      ask_email: model.ask_email,
    };
  }

  function localProblem() {
    if (!model.name.trim()) return ["Give the rule a name.", nameInput];
    if (parseTimeout(model.timeout) === null) return ["The wait is a whole number of seconds from 0 to 86,400 (24 hours).", timeoutInput];
    if (!model.text.trim()) return ["Write the reply.", textArea];
    const empty = model.translations.find((t) => !t.text.trim());
    if (empty) return [`Write the ${languageLabel(empty.lang)} reply, or remove it.`, translationsHost.querySelector(`textarea[data-lang="${empty.lang}"]`)];
    return null;
  }

  function showError(message, focusEl = null) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    let target = focusEl;
    if (!target) {
      // "ja: line 1: unexpected '}'" names a translation; other template errors the reply.
      const lang = /^([a-z]{2,8}(?:-[a-z0-9]+)?): /.exec(message)?.[1];
      const box = lang && translationsHost.querySelector(`textarea[data-lang="${lang}"]`);
      if (box) target = box;
      else if (/template|line \d|\{\{|\{%/i.test(message)) target = textArea;
      else if (/\bname\b/i.test(message)) target = nameInput;
      else if (/timeout/i.test(message)) target = timeoutInput;
    }
    if (target) {
      target.setAttribute("aria-invalid", "true");
      if (focusEl) target.focus();
    }
  }

  function clearError() {
    if (errorBox.hidden) return;
    errorBox.hidden = true;
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }

  function edited() {
    clearError();
    changed();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (readOnly || saveButton.getAttribute("aria-busy") === "true") return;
    clearError();
    const problem = localProblem();
    if (problem) return showError(...problem);
    saveButton.setAttribute("aria-busy", "true");
    try {
      await onSave(body());
    } catch (error) {
      showError(error.message || "Couldn't save the rule. Please try again.");
    } finally {
      saveButton.removeAttribute("aria-busy");
    }
  });

  renderTimeout();
  renderTranslations();

  return {
    el: form,
    focus: () => (readOnly ? form.querySelector(".editor-head button") : nameInput).focus(),
    ruleId: () => rule?.id ?? null,
    /** The rule as it stands in the form, for the preview (`draft`). */
    draft() {
      const draft = body({ forPreview: true });
      if (rule) {
        draft.id = rule.id;
        draft.priority = rule.priority;
      }
      return draft;
    },
    setSchedules: fillSchedules,
    setSegments: fillSegments,
  };
}
