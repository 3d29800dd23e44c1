// The Auto-replies page (docs/console.md, docs/autoreplies.md): the site's time zone, its
// schedules and rules with their editors, and the preview. Admins edit; agents look.

import { createPreview } from "./autoreply-preview.js";
import { CONDITIONS, DAYS, afterText, timeZones } from "./autoreply-words.js";
import { h, icon, toast } from "./dom.js";
import { createRuleEditor } from "./rule-editor.js";
import { createScheduleEditor } from "./schedule-editor.js";
import { bindSiteSelect, currentSite, refreshSites, updateSite } from "./site-switch.js";
import * as store from "./store.js";
import { knownZone, parse, zonedLabel } from "./time.js";

const $ = (id) => document.getElementById(id);

/** "Mon–Fri 09:00–18:00 · Sat 10:00–14:00": days with the same hours run together. */
export function weeklySummary(weekly) {
  const byDay = DAYS.map((d) => (weekly || []).filter((r) => r.day === d.key).map((r) => `${r.start}–${r.end}`).join(", "));
  const parts = [];
  for (let i = 0; i < 7; i++) {
    if (!byDay[i]) continue;
    let j = i;
    while (j + 1 < 7 && byDay[j + 1] === byDay[i]) j++;
    const days = j === i ? DAYS[i].short : j === i + 1 ? `${DAYS[i].short}, ${DAYS[j].short}` : `${DAYS[i].short}–${DAYS[j].short}`;
    parts.push(`${days} ${byDay[i]}`);
    i = j;
  }
  return parts.join(" · ") || "No weekly hours";
}

/** [pill, "closes Mon 18:00"] for a schedule as the API describes it now. */
function statusOf(schedule) {
  const next = parse(schedule.next_change);
  const zone = knownZone(schedule.timezone) ? schedule.timezone : "UTC";
  return [
    h("span", { class: "status-pill", "data-status": schedule.open_now ? "open" : "closed" }, schedule.open_now ? "Open now" : "Closed now"),
    next ? h("span", { class: "status-next" }, `${schedule.open_now ? "closes" : "opens"} ${zonedLabel(next, zone)}`) : h("span", { class: "status-next" }, schedule.open_now ? "open for the foreseeable future" : "no opening ahead"),
  ];
}

export function createAutorepliesPage({ api, isAdmin }) {
  const page = $("page-autoreplies");
  const summary = $("autoreplies-summary");
  const els = {
    tzForm: $("tz-form"), tzInput: $("tz-input"), tzSave: $("tz-save"), tzNow: $("tz-now"), tzError: $("tz-error"), tzOptions: $("tz-options"),
    scheduleList: $("schedule-list"), scheduleEmpty: $("schedule-empty"), scheduleLoading: $("schedule-loading"),
    schedulesBody: $("schedules-body"), scheduleHost: $("schedule-editor"), scheduleNew: $("schedule-new"),
    ruleList: $("rule-list"), ruleEmpty: $("rule-empty"), ruleLoading: $("rule-loading"),
    rulesBody: $("rules-body"), ruleHost: $("rule-editor"), ruleNew: $("rule-new"),
  };
  const preview = createPreview({ api, host: $("preview-body"), draftBadge: $("preview-draft") });

  let siteId = null;
  let schedules = [];
  let rules = [];
  let segments = [];
  let loaded = false;
  let seq = 0;
  let scheduleEditor = null;
  let ruleEditor = null;
  let sitesFetched = false;

  $("ar-readonly").hidden = isAdmin;
  for (const el of page.querySelectorAll("[data-admin]")) el.hidden = !isAdmin;
  els.tzInput.readOnly = !isAdmin;
  els.tzSave.hidden = !isAdmin;
  bindSiteSelect($("autoreplies-site"));

  // ---------- loading ----------

  async function load() {
    const site = currentSite();
    if (!site) return;
    const mine = ++seq;
    if (siteId !== site.id) {
      closeScheduleEditor({ focus: false });
      closeRuleEditor({ focus: false });
      loaded = false;
    }
    siteId = site.id;
    renderTimezone();
    render();
    const [s, r, g] = await Promise.allSettled([
      api.get("/schedules", { site_id: site.id }),
      api.get("/autoreply-rules", { site_id: site.id }),
      api.get("/segments", { site_id: site.id }),
    ]);
    if (mine !== seq) return;
    for (const failed of [s, r].filter((x) => x.status === "rejected")) {
      toast(`Couldn't load auto-replies. ${failed.reason?.message || ""}`.trim(), { error: true });
    }
    schedules = s.status === "fulfilled" ? s.value : [];
    rules = r.status === "fulfilled" ? sortRules(r.value) : [];
    segments = g.status === "fulfilled" && Array.isArray(g.value) ? g.value : [];
    loaded = true;
    scheduleEditor?.setStatus?.(statusFor(scheduleEditor.scheduleId()));
    ruleEditor?.setSchedules(schedules);
    ruleEditor?.setSegments(segments);
    preview.setSite(site, segments);
    render();
  }

  async function reloadSchedules() {
    schedules = await api.get("/schedules", { site_id: siteId });
    ruleEditor?.setSchedules(schedules);
    render();
  }

  async function reloadRules() {
    rules = sortRules(await api.get("/autoreply-rules", { site_id: siteId }));
    render();
  }

  const sortRules = (list) => [...list].sort((a, b) => a.priority - b.priority || a.id - b.id);

  function statusFor(id) {
    const s = schedules.find((x) => x.id === id);
    return s ? statusOf(s) : [];
  }

  // ---------- time zone ----------

  let zonesFilled = false;
  function renderTimezone() {
    const site = currentSite();
    if (!site) return;
    if (!zonesFilled) {
      zonesFilled = true;
      els.tzOptions.replaceChildren(...timeZones().map((z) => h("option", { value: z })));
    }
    if (document.activeElement !== els.tzInput && els.tzInput.dataset.site !== String(site.id)) {
      els.tzInput.value = site.timezone || "UTC";
      els.tzInput.dataset.site = String(site.id);
    }
    els.tzSave.disabled = els.tzInput.value.trim() === (site.timezone || "UTC");
    renderTzNow();
  }

  function renderTzNow() {
    const zone = currentSite()?.timezone;
    els.tzNow.textContent = zone && knownZone(zone) ? `It's ${zonedLabel(new Date(), zone, { weekday: "long", withDate: false })} there now.` : "";
  }
  setInterval(() => {
    if (!page.hidden) renderTzNow();
  }, 30_000);

  function tzError(text) {
    els.tzError.textContent = text;
    els.tzError.hidden = !text;
    if (text) els.tzInput.setAttribute("aria-invalid", "true");
    else els.tzInput.removeAttribute("aria-invalid");
  }

  els.tzInput.addEventListener("input", () => {
    tzError("");
    els.tzSave.disabled = els.tzInput.value.trim() === (currentSite()?.timezone || "UTC");
  });
  els.tzForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const timezone = els.tzInput.value.trim();
    if (!isAdmin || els.tzSave.disabled) return;
    if (!timezone) return tzError("Choose a time zone, such as Europe/Berlin.");
    els.tzSave.setAttribute("aria-busy", "true");
    try {
      const site = await api.patch(`/sites/${siteId}`, { timezone });
      updateSite(site);
      els.tzInput.value = site.timezone;
      toast(`Time zone set to ${site.timezone}`);
      scheduleEditor?.setTimezone(site.timezone);
      renderTimezone();
      await reloadSchedules();
      preview.setSite(currentSite(), segments);
    } catch (error) {
      tzError(error.message || "Couldn't save the time zone.");
      els.tzInput.focus();
    } finally {
      els.tzSave.removeAttribute("aria-busy");
    }
  });

  // ---------- lists ----------

  function render() {
    const n = rules.length;
    summary.textContent = loaded ? `${n} ${n === 1 ? "rule" : "rules"} · ${schedules.length} ${schedules.length === 1 ? "schedule" : "schedules"}` : "";
    for (const [list, empty, loading, items, row] of [
      [els.scheduleList, els.scheduleEmpty, els.scheduleLoading, schedules, scheduleRow],
      [els.ruleList, els.ruleEmpty, els.ruleLoading, rules, ruleRow],
    ]) {
      const focusKey = list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
      list.replaceChildren(...items.map(row));
      if (focusKey) refocus(list, focusKey);
      loading.hidden = loaded;
      empty.hidden = !loaded || items.length > 0;
      list.hidden = !items.length;
    }
  }

  /** The keyboard stays on the redrawn control; a rule moved to an end keeps its other arrow. */
  function refocus(list, key) {
    const other = key.replace(/^(up|down)-/, (_, dir) => (dir === "up" ? "down-" : "up-"));
    const target = [key, other].map((k) => list.querySelector(`[data-key="${k}"]`)).find((el) => el && !el.disabled);
    target?.focus();
  }

  function scheduleRow(s) {
    const extras = [
      s.exceptions?.length ? `${s.exceptions.length} ${s.exceptions.length === 1 ? "date" : "dates"} with other hours` : null,
      s.holiday_country ? `closed on public holidays (${s.holiday_country})` : null,
      s.staffed ? null : "nobody works in these hours",
    ].filter(Boolean);
    const usedBy = rules.filter((r) => r.schedule_id === s.id).map((r) => r.name);
    return h("li", { class: "item", dataset: { schedule: s.id } },
      h("div", { class: "item-main" },
        h("div", { class: "item-top" }, h("span", { class: "item-title" }, s.name), ...statusOf(s)),
        h("p", { class: "item-sub" }, weeklySummary(s.weekly)),
        extras.length ? h("p", { class: "item-sub" }, extras.join(" · ")) : null,
        usedBy.length ? h("p", { class: "item-sub" }, `Used by ${usedBy.join(", ")}`) : null),
      h("div", { class: "item-actions" },
        h("button", { class: "btn btn-secondary btn-sm", type: "button", "data-key": `edit-s${s.id}`, "aria-label": `${isAdmin ? "Edit" : "View"} schedule ${s.name}`, onclick: () => openScheduleEditor(s) },
          isAdmin ? icon("pencil") : null, h("span", null, isAdmin ? "Edit" : "View"))));
  }

  function ruleLine(r) {
    const schedule = schedules.find((s) => s.id === r.schedule_id);
    const segment = segments.find((s) => s.id === r.segment_id);
    return [
      schedule ? `While “${schedule.name}” is open` : r.schedule_id ? "While its schedule is open" : "Any time",
      CONDITIONS[r.condition] || r.condition,
      afterText(r.timeout_seconds),
      r.segment_id ? (segment ? `segment “${segment.name}”` : "one segment") : "every visitor",
      r.ask_email ? "asks for the email" : null,
    ].filter(Boolean).join(" · ");
  }

  function ruleRow(r, index) {
    const langs = Object.keys(r.translations || {});
    return h("li", { class: `item rule-item${r.enabled ? "" : " is-off"}`, dataset: { rule: r.id } },
      h("span", { class: "rule-order", "aria-hidden": "true" }, String(index + 1)),
      h("div", { class: "item-main" },
        h("div", { class: "item-top" }, h("span", { class: "item-title" }, r.name), r.enabled ? null : h("span", { class: "status-pill" }, "Off")),
        h("p", { class: "item-sub" }, ruleLine(r)),
        h("p", { class: "item-quote" }, h("span", { class: "item-quote-text" }, r.text)),
        langs.length ? h("p", { class: "item-sub" }, `Also in ${langs.join(", ")}`) : null),
      h("div", { class: "item-actions" },
        isAdmin ? h("label", { class: "switch", title: r.enabled ? "On" : "Off" },
          h("input", { type: "checkbox", role: "switch", checked: r.enabled, "aria-label": `${r.name} enabled`, "data-key": `on-r${r.id}`, onchange: (event) => toggle(r, event.target) }),
          h("span", { class: "switch-track", "aria-hidden": "true" })) : null,
        isAdmin ? h("div", { class: "order-buttons" },
          h("button", { class: "icon-button icon-button-sm", type: "button", "aria-label": `Move ${r.name} up`, title: "Move up", "data-key": `up-r${r.id}`, disabled: index === 0, onclick: () => move(r, -1) }, icon("up")),
          h("button", { class: "icon-button icon-button-sm", type: "button", "aria-label": `Move ${r.name} down`, title: "Move down", "data-key": `down-r${r.id}`, disabled: index === rules.length - 1, onclick: () => move(r, 1) }, icon("down"))) : null,
        h("button", { class: "btn btn-secondary btn-sm", type: "button", "data-key": `edit-r${r.id}`, "aria-label": `${isAdmin ? "Edit" : "View"} rule ${r.name}`, onclick: () => openRuleEditor(r) },
          isAdmin ? icon("pencil") : null, h("span", null, isAdmin ? "Edit" : "View"))));
  }

  async function toggle(rule, input) {
    if (input.getAttribute("aria-busy") === "true") return;
    input.setAttribute("aria-busy", "true");
    try {
      const saved = await api.patch(`/autoreply-rules/${rule.id}`, { enabled: input.checked });
      rules = rules.map((r) => (r.id === saved.id ? saved : r));
      toast(`${saved.name} is ${saved.enabled ? "on" : "off"}`);
      render();
      preview.refresh();
    } catch (error) {
      input.checked = rule.enabled;
      input.removeAttribute("aria-busy");
      toast(error.message || "Couldn't change the rule.", { error: true });
    }
  }

  /** One place up or down: the two rules swap priorities (all renumbered when they tie). */
  async function move(rule, step) {
    const i = rules.indexOf(rule);
    const other = rules[i + step];
    if (!other) return;
    const order = [...rules];
    [order[i], order[i + step]] = [order[i + step], order[i]];
    const distinct = new Set(rules.map((r) => r.priority)).size === rules.length;
    const changes = distinct
      ? [[rule, other.priority], [other, rule.priority]]
      : order.map((r, k) => [r, (k + 1) * 10]).filter(([r, p]) => r.priority !== p);
    rules = order; // at once, so the keyboard follows the rule
    render();
    try {
      for (const [r, priority] of changes) await api.patch(`/autoreply-rules/${r.id}`, { priority });
    } catch (error) {
      toast(error.message || "Couldn't change the order.", { error: true });
    }
    try {
      await reloadRules();
    } catch {
      // The order on screen stays as moved; the next load corrects it.
    }
    preview.refresh();
  }

  // ---------- editors ----------

  function openScheduleEditor(schedule) {
    closeScheduleEditor({ focus: false });
    const site = currentSite();
    scheduleEditor = createScheduleEditor({
      schedule,
      timezone: site?.timezone,
      readOnly: !isAdmin,
      onCancel: () => closeScheduleEditor(),
      onSave: async (body) => {
        const saved = schedule
          ? await api.patch(`/schedules/${schedule.id}`, body)
          : await api.post("/schedules", { site_id: siteId, ...body });
        toast(schedule ? `${saved.name} saved` : `${saved.name} created`);
        schedules = schedule ? schedules.map((s) => (s.id === saved.id ? saved : s)) : [...schedules, saved];
        ruleEditor?.setSchedules(schedules);
        closeScheduleEditor({ focusId: saved.id });
        preview.refresh();
      },
      onDelete: async () => {
        await api.delete(`/schedules/${schedule.id}`);
        toast(`${schedule.name} deleted`);
        schedules = schedules.filter((s) => s.id !== schedule.id);
        ruleEditor?.setSchedules(schedules);
        closeScheduleEditor({ focusNew: true });
        preview.refresh();
      },
    });
    if (schedule) scheduleEditor.setStatus(statusOf(schedule));
    else scheduleEditor.setStatus([]);
    els.scheduleHost.replaceChildren(scheduleEditor.el);
    els.scheduleHost.hidden = false;
    els.schedulesBody.hidden = true;
    els.scheduleNew.hidden = true;
    scheduleEditor.focus();
  }

  function closeScheduleEditor({ focus = true, focusId = null, focusNew = false } = {}) {
    const id = scheduleEditor?.scheduleId() ?? null;
    if (!scheduleEditor) return;
    scheduleEditor = null;
    els.scheduleHost.replaceChildren();
    els.scheduleHost.hidden = true;
    els.schedulesBody.hidden = false;
    els.scheduleNew.hidden = !isAdmin;
    render();
    if (!focus) return;
    const target = focusId ?? id;
    const button = !focusNew && target !== null ? els.scheduleList.querySelector(`[data-key="edit-s${target}"]`) : null;
    (button || (isAdmin ? els.scheduleNew : els.scheduleList.querySelector("button")))?.focus();
  }

  function openRuleEditor(rule) {
    closeRuleEditor({ focus: false });
    ruleEditor = createRuleEditor({
      rule,
      schedules,
      segments,
      readOnly: !isAdmin,
      onChange: () => preview.changed(),
      onCancel: () => closeRuleEditor(),
      onSave: async (body) => {
        const saved = rule
          ? await api.patch(`/autoreply-rules/${rule.id}`, body)
          : await api.post("/autoreply-rules", { site_id: siteId, ...body });
        toast(rule ? `${saved.name} saved` : `${saved.name} created`);
        rules = sortRules(rule ? rules.map((r) => (r.id === saved.id ? saved : r)) : [...rules, saved]);
        closeRuleEditor({ focusId: saved.id });
      },
      onDelete: async () => {
        await api.delete(`/autoreply-rules/${rule.id}`);
        toast(`${rule.name} deleted`);
        rules = rules.filter((r) => r.id !== rule.id);
        closeRuleEditor({ focusNew: true });
      },
    });
    els.ruleHost.replaceChildren(ruleEditor.el);
    els.ruleHost.hidden = false;
    els.rulesBody.hidden = true;
    els.ruleNew.hidden = true;
    if (isAdmin) {
      preview.setDraft(() => {
        const draft = ruleEditor?.draft() ?? null;
        // A new rule is saved last: preview it there, behind the rules that come first.
        if (draft && draft.priority === undefined) draft.priority = Math.max(0, ...rules.map((r) => r.priority)) + 10;
        return draft;
      });
    }
    ruleEditor.focus();
  }

  function closeRuleEditor({ focus = true, focusId = null, focusNew = false } = {}) {
    if (!ruleEditor) return;
    const id = ruleEditor.ruleId();
    ruleEditor = null;
    preview.setDraft(null);
    els.ruleHost.replaceChildren();
    els.ruleHost.hidden = true;
    els.rulesBody.hidden = false;
    els.ruleNew.hidden = !isAdmin;
    render();
    if (!focus) return;
    const target = focusId ?? id;
    const button = !focusNew && target !== null ? els.ruleList.querySelector(`[data-key="edit-r${target}"]`) : null;
    (button || (isAdmin ? els.ruleNew : els.ruleList.querySelector("button")))?.focus();
  }

  els.scheduleNew.addEventListener("click", () => openScheduleEditor(null));
  els.ruleNew.addEventListener("click", () => openRuleEditor(null));

  store.on("site", () => {
    if (!page.hidden) load();
    else loaded = false;
  });

  return {
    async show() {
      if (!sitesFetched) {
        sitesFetched = true;
        try {
          await refreshSites(api);
        } catch {
          // The sites from the page's start-up data will do.
        }
      }
      if (!loaded || siteId !== currentSite()?.id) load();
      else {
        renderTimezone();
        render();
        preview.refresh();
      }
    },
  };
}
