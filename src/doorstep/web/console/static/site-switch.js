// The site the Auto-replies and Leads pages are about. With one site there is nothing to
// choose; with several, each page shows a "Site" list, and the choice (kept in this browser)
// follows from one page to the other.

import { h } from "./dom.js";
import * as store from "./store.js";

const { state } = store;
const KEY = "doorstep.site";
const selects = new Set();
let chosen = null;

function remembered() {
  try {
    return Number(localStorage.getItem(KEY)) || null;
  } catch {
    return null;
  }
}

/** The chosen site's id: the last one chosen here when it is still ours, else the first. */
export function currentSiteId() {
  if (chosen !== null && state.sites.has(chosen)) return chosen;
  const kept = remembered();
  chosen = kept !== null && state.sites.has(kept) ? kept : state.sites.keys().next().value ?? null;
  return chosen;
}

export function currentSite() {
  const id = currentSiteId();
  return id === null ? null : state.sites.get(id);
}

function choose(id) {
  chosen = id;
  try {
    localStorage.setItem(KEY, String(id));
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  syncSelects();
  store.emit("site");
}

function syncSelects() {
  const many = state.sites.size > 1;
  for (const select of selects) {
    const wanted = [...state.sites.values()].map((s) => `${s.id}:${s.name}`).join("|");
    if (select.dataset.sig !== wanted) {
      select.replaceChildren(...[...state.sites.values()].map((s) => h("option", { value: s.id }, s.name)));
      select.dataset.sig = wanted;
    }
    select.value = String(currentSiteId() ?? "");
    select.closest("[data-site-switch]").hidden = !many;
  }
}

/** A page's "Site" list; `store.on("site", …)` hears every change of site. */
export function bindSiteSelect(select) {
  selects.add(select);
  select.addEventListener("change", () => choose(Number(select.value)));
  syncSelects();
}

/** Sites fresh from the server (GET /sites), e.g. after a time zone changed elsewhere. */
export async function refreshSites(api) {
  const sites = await api.get("/sites");
  if (!Array.isArray(sites)) return;
  state.sites.clear();
  for (const site of sites) state.sites.set(site.id, site);
  syncSelects();
}

export function updateSite(site) {
  state.sites.set(site.id, { ...state.sites.get(site.id), ...site });
  syncSelects();
}
