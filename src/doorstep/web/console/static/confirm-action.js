// A button that asks once in place ("Question?  Confirm  Cancel") before it acts: the pattern of
// delete-confirm.js, for actions that are not deletions (merging contacts, signing out browsers,
// rotating a secret). `onConfirm` may throw: its message then shows under the button, as an alert.
// `ready()`, when given, is asked first: false keeps the question closed (e.g. a field is invalid).

import { h, icon } from "./dom.js";

let uid = 0;

export function confirmAction({ label, question, confirm, onConfirm, ready = null, danger = false, describedBy = null, iconName = null }) {
  const id = `confirm${++uid}`;
  const el = h("div", { class: "confirm-area" });
  let asking = false;
  let error = "";

  function render() {
    const problem = error ? h("p", { class: "field-error confirm-error", role: "alert" }, error) : null;
    if (!asking) {
      el.replaceChildren(
        h("button", { class: "btn btn-secondary btn-xs", type: "button", "aria-describedby": describedBy, onclick: () => ask(true) },
          iconName ? icon(iconName) : null, h("span", null, label)),
        ...(problem ? [problem] : []));
      return;
    }
    el.replaceChildren(
      h("span", { class: "confirm-question", id: `${id}-q` }, question()),
      h("span", { class: "confirm-buttons" },
        h("button", { class: `btn ${danger ? "btn-danger" : "btn-primary"} btn-xs`, type: "button", "data-confirm": "",
          "aria-describedby": `${id}-q`, onclick: act }, confirm),
        h("button", { class: "btn btn-ghost btn-xs", type: "button", onclick: () => ask(false) }, "Cancel")));
  }

  function ask(on) {
    if (on && ready && !ready()) return;
    asking = on;
    error = "";
    render();
    el.querySelector(on ? "[data-confirm]" : "button")?.focus();
  }

  async function act() {
    const button = el.querySelector("[data-confirm]");
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    const hadFocus = el.contains(document.activeElement);
    try {
      await onConfirm();
      error = "";
    } catch (problem) {
      error = problem.message || "That didn't work. Please try again.";
    }
    asking = false;
    render();
    if (hadFocus && el.isConnected) el.querySelector("button")?.focus();
  }

  render();
  return el;
}
