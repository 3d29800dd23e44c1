// The contact side panel beside a conversation: the contact card (contact-card.js), inline on
// wide screens (the choice is remembered), an overlay otherwise.

import { createContactCard } from "./contact-card.js";

const PREF_KEY = "doorstep.contactPanel";
const wide = window.matchMedia("(min-width: 1100px)");

export function createContactPanel({ onOpenConversation, onOpenContact }) {
  const shell = document.getElementById("shell");
  const pane = document.getElementById("contact-panel");
  const body = document.getElementById("contact-body");
  const toggle = document.getElementById("contact-toggle");
  const closeButton = document.getElementById("contact-close");
  const scrim = document.getElementById("scrim");

  let conversationId = null;
  let overlayOpen = false;

  const card = createContactCard({
    mode: "panel",
    onOpenConversation: (id) => {
      if (!wide.matches) setOpen(false, { focus: false });
      onOpenConversation(id);
    },
    onOpenContact: (id) => {
      if (!wide.matches) setOpen(false, { focus: false });
      onOpenContact(id);
    },
  });
  body.append(card.el);

  function isOpen() {
    if (conversationId === null) return false;
    return wide.matches ? localStorage.getItem(PREF_KEY) !== "closed" : overlayOpen;
  }

  function applyOpen() {
    const open = isOpen();
    pane.dataset.open = String(open);
    shell.dataset.contactOpen = String(open && !wide.matches);
    scrim.hidden = !(open && !wide.matches);
    toggle.setAttribute("aria-expanded", String(open));
  }

  function setOpen(open, { focus = true } = {}) {
    if (wide.matches) localStorage.setItem(PREF_KEY, open ? "open" : "closed");
    else overlayOpen = open;
    applyOpen();
    if (!focus) return;
    if (open && !wide.matches) closeButton.focus();
    if (!open) toggle.focus();
  }

  toggle.addEventListener("click", () => setOpen(!isOpen()));
  closeButton.addEventListener("click", () => setOpen(false));
  scrim.addEventListener("click", () => setOpen(false));
  pane.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !wide.matches && !event.defaultPrevented) {
      event.stopPropagation();
      setOpen(false);
    }
  });
  wide.addEventListener("change", applyOpen);

  return {
    /** The conversation on screen and its contact (null, null: none). */
    show(convId, contactId, hint = null) {
      if (convId !== conversationId) {
        overlayOpen = false;
        body.scrollTop = 0;
      }
      conversationId = convId;
      applyOpen();
      card.show(contactId, { conversationId: convId, hint });
    },
    /** The contact id on screen, after merges. */
    contactId: () => card.contactId(),
  };
}
