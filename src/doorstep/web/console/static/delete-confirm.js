// A "Delete …" button that asks once in place ("Delete X?  Delete  Keep") before acting.
// Used by the schedule and rule editors; `onDelete` may throw, and the question closes again.

import { h, icon } from "./dom.js";

export function deleteWithConfirm({ noun, name, onDelete, onError, hidden = false }) {
  const el = h("div", { class: "delete-area" });
  let confirming = false;

  function render() {
    if (hidden) return el.replaceChildren();
    if (!confirming) {
      el.replaceChildren(
        h("button", { class: "btn btn-ghost btn-danger-text", type: "button", onclick: () => ask(true) },
          icon("trash"), h("span", null, `Delete ${noun}`)),
      );
      return;
    }
    el.replaceChildren(
      h("span", { class: "confirm-text" }, `Delete ${name()}?`),
      h("button", { class: "btn btn-danger btn-sm", type: "button", "data-confirm": true, onclick: remove }, "Delete"),
      h("button", { class: "btn btn-ghost btn-sm", type: "button", onclick: () => ask(false) }, "Keep"),
    );
  }

  function ask(on) {
    confirming = on;
    render();
    el.querySelector(on ? "[data-confirm]" : "button")?.focus();
  }

  async function remove() {
    el.querySelector("[data-confirm]")?.setAttribute("aria-busy", "true");
    try {
      await onDelete();
    } catch (error) {
      confirming = false;
      render();
      onError(error.message || `Couldn't delete the ${noun}.`);
    }
  }

  render();
  return el;
}
