// The schedule editor (docs/schedules.md): name, "Operators work in these hours", weekly
// ranges per weekday, dated exceptions and a country's public holidays. The server checks
// everything on saving; its refusal ("ranges overlap: Mon 09:00-18:00 and Mon 12:00-13:00")
// is shown next to the form and the ranges it names are marked.

import { DAYS, hhmm, holidayCountryList, isOvernight, minutesOf } from "./autoreply-words.js";
import { deleteWithConfirm } from "./delete-confirm.js";
import { h, icon } from "./dom.js";

let uid = 0;
const nextId = () => `sch${++uid}`;

function rangeOf(r) {
  return { id: nextId(), start: r.start || "", end: r.end === "24:00" ? "00:00" : r.end || "" };
}

function modelOf(schedule) {
  const weekly = Object.fromEntries(DAYS.map((d) => [d.key, []]));
  for (const r of schedule?.weekly || []) weekly[r.day]?.push(rangeOf(r));
  return {
    name: schedule?.name || "",
    staffed: schedule ? Boolean(schedule.staffed) : true,
    weekly,
    exceptions: (schedule?.exceptions || []).map((e) => ({
      id: nextId(), date: e.date, closed: !e.ranges?.length, ranges: (e.ranges || []).map(rangeOf),
    })),
    holiday_country: schedule?.holiday_country || "",
  };
}

/** A range as the API takes it: an end at midnight is "24:00", the end of that day. */
const wire = (r) => ({ start: r.start, end: r.end === "00:00" ? "24:00" : r.end });

/** The next range for a day: nine to five first, then from the last end for two hours. */
function newRange(ranges) {
  const last = ranges[ranges.length - 1];
  if (!last || minutesOf(last.end) === null) return { id: nextId(), start: "09:00", end: "17:00" };
  const from = minutesOf(last.end);
  return { id: nextId(), start: hhmm(from), end: hhmm(from + 120) };
}

export function createScheduleEditor({ schedule, timezone, readOnly, onSave, onCancel, onDelete }) {
  const model = modelOf(schedule);
  const isNew = !schedule;
  const title = isNew ? "New schedule" : readOnly ? schedule.name : `Edit ${schedule.name}`;
  const titleId = nextId();
  const errorId = nextId();

  // ---------- fields ----------

  const nameInput = h("input", {
    class: "input", id: nextId(), value: model.name, maxlength: 100, required: true, autocomplete: "off",
    placeholder: "Working hours", "aria-describedby": errorId,
  });
  nameInput.addEventListener("input", () => {
    model.name = nameInput.value;
    clearError();
  });
  const staffedInput = h("input", { type: "checkbox", role: "switch", checked: model.staffed });
  staffedInput.addEventListener("change", () => {
    model.staffed = staffedInput.checked;
  });

  const zoneNote = h("span", { class: "mono-inline" }, timezone || "UTC");
  const dayHosts = new Map(DAYS.map((d) => [d.key, h("div", { class: "ranges" })]));
  const week = h("div", { class: "week" }, DAYS.map((d) => {
    const labelId = `${titleId}-${d.key}`;
    return h("div", { class: "day-row", role: "group", "aria-labelledby": labelId, dataset: { day: d.key } },
      h("span", { class: "day-name", id: labelId }, h("span", { "aria-hidden": "true" }, d.short), h("span", { class: "visually-hidden" }, d.long)),
      dayHosts.get(d.key),
      readOnly ? null : h("button", {
        class: "btn btn-ghost btn-xs add-range", type: "button", "aria-label": `Add hours on ${d.long}`,
        onclick: () => {
          model.weekly[d.key].push(newRange(model.weekly[d.key]));
          renderDay(d.key, { focusLast: true });
          clearError();
        },
      }, icon("plus"), h("span", { "aria-hidden": "true" }, "Add hours")));
  }));
  const copyButton = readOnly ? null : h("button", {
    class: "link-button copy-week", type: "button",
    onclick: () => {
      for (const d of DAYS.slice(1, 5)) {
        model.weekly[d.key] = model.weekly.mon.map((r) => ({ ...r, id: nextId() }));
        renderDay(d.key);
      }
      clearError();
    },
  }, "Copy Monday's hours to Tuesday–Friday");

  const exceptionsHost = h("ul", { class: "exceptions", "aria-label": "Exceptions" });
  const addException = readOnly ? null : h("button", {
    class: "btn btn-secondary btn-sm", type: "button",
    onclick: () => {
      model.exceptions.push({ id: nextId(), date: "", closed: true, ranges: [] });
      renderExceptions({ focusLast: true });
      clearError();
    },
  }, icon("plus"), h("span", null, "Add a date"));

  const countryId = nextId();
  const countrySelect = h("select", { id: countryId },
    h("option", { value: "" }, "None"),
    holidayCountryList().map((c) => h("option", { value: c.code }, `${c.name} (${c.code})`)));
  if (model.holiday_country && !holidayCountryList().some((c) => c.code === model.holiday_country)) {
    countrySelect.append(h("option", { value: model.holiday_country }, model.holiday_country));
  }
  countrySelect.value = model.holiday_country;
  countrySelect.addEventListener("change", () => {
    model.holiday_country = countrySelect.value;
  });

  // ---------- status, errors, actions ----------

  const statusLine = h("p", { class: "editor-status" });
  const errorBox = h("div", { class: "form-error editor-error", id: errorId, role: "alert", hidden: true });
  const saveButton = h("button", { class: "btn btn-primary", type: "submit" }, isNew ? "Create schedule" : "Save schedule");
  const cancelButton = h("button", { class: "btn btn-ghost", type: "button", onclick: () => onCancel() }, readOnly ? "Close" : "Cancel");
  const deleteArea = deleteWithConfirm({
    noun: "schedule",
    name: () => schedule.name,
    onDelete,
    onError: (message) => showError(message),
    hidden: isNew || readOnly,
  });

  const form = h("form", { class: "editor", novalidate: true, "aria-labelledby": titleId },
    h("div", { class: "editor-head" },
      h("button", { class: "icon-button icon-button-sm", type: "button", "aria-label": "Back to schedules", onclick: () => onCancel() }, icon("back")),
      h("h3", { id: titleId }, title)),
    statusLine,
    h("fieldset", { class: "editor-fields", disabled: readOnly },
      h("div", { class: "form-row" },
        h("label", { class: "field-label", for: nameInput.id }, "Name"), nameInput),
      h("label", { class: "switch switch-field" }, staffedInput, h("span", { class: "switch-track", "aria-hidden": "true" }),
        h("span", { class: "switch-text" }, h("span", { class: "switch-label" }, "Operators work in these hours"),
          h("span", { class: "field-note" }, "Turn off for hours nobody answers inside other hours, such as a lunch break."))),
      h("fieldset", { class: "form-section" },
        h("legend", null, "Weekly hours"),
        h("p", { class: "field-note" }, "Times on the clock in ", zoneNote,
          ". A range whose end is not after its start runs overnight into the next day."),
        week, copyButton),
      h("fieldset", { class: "form-section" },
        h("legend", null, "Exceptions"),
        h("p", { class: "field-note" }, "Dates with other hours, or closed all day. They replace the weekly hours and win over public holidays."),
        exceptionsHost, addException),
      h("div", { class: "form-section" },
        h("label", { class: "field-label", for: countryId }, "Public holidays"),
        h("div", { class: "select-wrap select-plain" }, countrySelect),
        h("p", { class: "field-note" }, "Closed on this country's public holidays, unless an exception says otherwise."))),
    errorBox,
    h("div", { class: "editor-actions" }, deleteArea, h("span", { class: "spacer" }), cancelButton, readOnly ? null : saveButton));

  // ---------- ranges ----------

  function rangeRow(range, { label, onRemove }) {
    const hintId = `${range.id}-hint`;
    const start = h("input", { class: "input input-sm time-input", type: "time", value: range.start, required: true, "aria-label": `${label}, from`, dataset: { part: "start" } });
    const end = h("input", { class: "input input-sm time-input", type: "time", value: range.end, required: true, "aria-label": `${label}, until`, "aria-describedby": hintId, dataset: { part: "end" } });
    const hint = h("span", { class: "range-hint", id: hintId });
    function refresh() {
      const overnight = isOvernight(range.start, range.end);
      const midnight = range.end === "00:00" && range.start !== "00:00";
      const allDay = range.end === "00:00" && range.start === "00:00";
      hint.replaceChildren(overnight ? h("span", { class: "overnight" }, icon("moon"), "overnight") : midnight ? "until midnight" : allDay ? "all day" : "");
      hint.title = overnight ? "Ends the next day" : "";
    }
    for (const input of [start, end]) {
      input.addEventListener("input", () => {
        range[input.dataset.part] = input.value;
        refresh();
        clearError();
      });
    }
    refresh();
    return h("div", { class: "range", dataset: { range: range.id } },
      start, h("span", { class: "range-dash", "aria-hidden": "true" }, "–"), end, hint,
      readOnly ? null : h("button", {
        class: "icon-button icon-button-sm range-remove", type: "button", "aria-label": `Remove ${label}`, title: "Remove", onclick: onRemove,
      }, icon("x")));
  }

  function renderDay(key, { focusLast = false, focusAdd = false } = {}) {
    const day = DAYS.find((d) => d.key === key);
    const ranges = model.weekly[key];
    const host = dayHosts.get(key);
    host.replaceChildren(...(ranges.length
      ? ranges.map((r, i) => rangeRow(r, {
        label: `${day.long}, range ${i + 1}`,
        onRemove: () => {
          ranges.splice(ranges.indexOf(r), 1);
          renderDay(key, { focusAdd: true });
          clearError();
        },
      }))
      : [h("span", { class: "closed-label" }, "Closed")]));
    if (focusLast) host.querySelector(".range:last-child input")?.focus();
    if (focusAdd) host.closest(".day-row").querySelector(".add-range")?.focus();
  }

  function renderExceptions({ focusLast = false, focusAdd = false } = {}) {
    exceptionsHost.replaceChildren(...model.exceptions.map((e, i) => exceptionRow(e, i)));
    if (focusLast) exceptionsHost.querySelector("li:last-child input[type=date]")?.focus();
    if (focusAdd) addException?.focus();
  }

  function exceptionRow(e, index) {
    const label = `Exception ${index + 1}`;
    const rangesHost = h("div", { class: "ranges" });
    const date = h("input", { class: "input input-sm", type: "date", value: e.date, required: true, "aria-label": `${label}, date` });
    date.addEventListener("input", () => {
      e.date = date.value;
      clearError();
    });
    const closed = h("input", { type: "checkbox", checked: e.closed });
    const addHours = readOnly ? null : h("button", {
      class: "btn btn-ghost btn-xs add-range", type: "button", "aria-label": `Add hours on ${label}`, hidden: e.closed,
      onclick: () => {
        e.ranges.push(newRange(e.ranges));
        renderRanges({ focusLast: true });
      },
    }, icon("plus"), h("span", { "aria-hidden": "true" }, "Add hours"));
    function renderRanges({ focusLast = false } = {}) {
      rangesHost.hidden = e.closed;
      if (addHours) addHours.hidden = e.closed;
      rangesHost.replaceChildren(...e.ranges.map((r, i) => rangeRow(r, {
        label: `${label}, range ${i + 1}`,
        onRemove: () => {
          e.ranges.splice(e.ranges.indexOf(r), 1);
          if (!e.ranges.length) {
            e.closed = true;
            closed.checked = true;
          }
          renderRanges();
          (e.closed ? closed : addHours)?.focus();
          clearError();
        },
      })));
      if (focusLast) rangesHost.querySelector(".range:last-child input")?.focus();
    }
    closed.addEventListener("change", () => {
      e.closed = closed.checked;
      if (!e.closed && !e.ranges.length) e.ranges.push(newRange([]));
      renderRanges();
      clearError();
    });
    renderRanges();
    return h("li", { class: "exception", dataset: { exception: e.id } },
      h("div", { class: "exception-top" },
        date,
        h("label", { class: "check" }, closed, h("span", null, "Closed all day")),
        readOnly ? null : h("button", {
          class: "icon-button icon-button-sm exception-remove", type: "button", "aria-label": `Remove ${label}`, title: "Remove date",
          onclick: () => {
            model.exceptions.splice(model.exceptions.indexOf(e), 1);
            renderExceptions({ focusAdd: true });
            clearError();
          },
        }, icon("trash"))),
      h("div", { class: "exception-hours" }, rangesHost, addHours));
  }

  // ---------- saving ----------

  function body() {
    return {
      name: model.name.trim(),
      staffed: model.staffed,
      weekly: DAYS.flatMap((d) => model.weekly[d.key].map((r) => ({ day: d.key, ...wire(r) }))),
      exceptions: model.exceptions.map((e) => ({ date: e.date, ranges: e.closed ? [] : e.ranges.map(wire) })),
      holiday_country: model.holiday_country || null,
    };
  }

  /** A problem the server would refuse anyway, said in place: [message, element to focus]. */
  function localProblem() {
    if (!model.name.trim()) return ["Give the schedule a name.", nameInput];
    for (const input of form.querySelectorAll(".time-input, input[type=date]")) {
      if (!input.value && !input.closest("[hidden]")) {
        return [`${input.getAttribute("aria-label").replace(/, (from|until|date)$/, "")}: ${input.type === "date" ? "choose a date" : "choose both times"}.`, input];
      }
    }
    return null;
  }

  function showError(message, focusEl = null) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    markRanges(message);
    if (focusEl) {
      focusEl.setAttribute("aria-invalid", "true");
      focusEl.focus();
    }
  }

  /** "ranges overlap: Mon 09:00-18:00 and Mon 12:00-13:00": mark those two ranges. */
  function markRanges(message) {
    const named = [...message.matchAll(/\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{2}:\d{2})-(\d{2}:\d{2})/g)];
    for (const [, dayShort, start, end] of named) {
      const day = DAYS.find((d) => d.short === dayShort);
      for (const r of model.weekly[day.key]) {
        if (r.start === start && wire(r).end === end) {
          for (const input of form.querySelectorAll(`[data-range="${r.id}"] input`)) input.setAttribute("aria-invalid", "true");
        }
      }
    }
    if (/\bname\b/i.test(message)) nameInput.setAttribute("aria-invalid", "true");
  }

  function clearError() {
    if (errorBox.hidden) return;
    errorBox.hidden = true;
    errorBox.textContent = "";
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
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
      showError(error.message || "Couldn't save the schedule. Please try again.");
    } finally {
      saveButton.removeAttribute("aria-busy");
    }
  });

  for (const d of DAYS) renderDay(d.key);
  renderExceptions();

  return {
    el: form,
    focus: () => (readOnly ? form.querySelector(".editor-head button") : nameInput).focus(),
    setTimezone(tz) {
      zoneNote.textContent = tz || "UTC";
    },
    /** "Open now · closes Mon 18:00" from the saved schedule. */
    setStatus(nodes) {
      statusLine.replaceChildren(...nodes);
      statusLine.hidden = !nodes.length;
    },
    scheduleId: () => schedule?.id ?? null,
  };
}
