// The account menu: presence (online / away), the notification sound and desktop
// notifications. Signing out is a plain form post in app.html, so it works without scripts.

import { hue } from "./dom.js";
import { on, state } from "./store.js";
import { askPermission, notificationState, setSoundEnabled, soundEnabled } from "./notify.js";

export function createAccountMenu({ onPresence }) {
  const radios = [...document.querySelectorAll('input[name="presence"]')];
  const dots = [...document.querySelectorAll("[data-my-presence]")];
  const accountButtons = [...document.querySelectorAll("[popovertarget='account-menu']")];
  const sound = document.getElementById("sound-toggle");
  const notifyState = document.getElementById("notify-state");
  const notifyButton = document.getElementById("notify-enable");

  for (const el of document.querySelectorAll("[data-avatar-seed]")) el.dataset.hue = hue(el.dataset.avatarSeed);

  function renderPresence() {
    const status = state.me.status === "online" ? "online" : "away";
    for (const radio of radios) radio.checked = radio.value === status;
    for (const dot of dots) dot.dataset.myPresence = status;
    for (const button of accountButtons) {
      button.setAttribute("aria-label", `${state.me.name}, ${status === "online" ? "online" : "away"}: account and status`);
      button.title = `${state.me.name} · ${status === "online" ? "Online" : "Away"}`;
    }
  }

  function renderNotifications() {
    const s = notificationState();
    notifyButton.hidden = s !== "default";
    notifyState.textContent =
      s === "granted"
        ? "Desktop notifications are on."
        : s === "denied"
          ? "Desktop notifications are blocked in this browser's site settings."
          : s === "unsupported"
            ? "Desktop notifications need HTTPS (or localhost)."
            : "";
  }

  for (const radio of radios) {
    radio.addEventListener("change", () => {
      if (radio.checked) onPresence(radio.value);
    });
  }
  sound.checked = soundEnabled();
  sound.addEventListener("change", () => setSoundEnabled(sound.checked));
  notifyButton.addEventListener("click", async () => {
    await askPermission();
    renderNotifications();
  });

  on("me", renderPresence);
  renderPresence();
  renderNotifications();
  return { renderPresence, renderNotifications };
}
