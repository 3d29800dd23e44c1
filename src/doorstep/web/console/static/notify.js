// Telling the operator something happened: the tab title, a soft two-note chime made with
// WebAudio (no audio files) and desktop notifications. Permission is asked for on the
// operator's first click, never on page load, because browsers (rightly) punish that.

const SOUND_KEY = "doorstep.sound";
let audio = null;
let lastChime = 0;

export function soundEnabled() {
  return localStorage.getItem(SOUND_KEY) !== "off";
}

export function setSoundEnabled(on) {
  localStorage.setItem(SOUND_KEY, on ? "on" : "off");
}

function audioContext() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  if (!audio) audio = new Ctx();
  if (audio.state === "suspended") audio.resume().catch(() => {});
  return audio;
}

/** Two short sine notes, a fifth apart, with soft attack and release. */
export function chime() {
  if (!soundEnabled()) return;
  const now = Date.now();
  if (now - lastChime < 1500) return; // a burst of messages gets one chime
  lastChime = now;
  const ctx = audioContext();
  if (!ctx || ctx.state !== "running") return;
  const start = ctx.currentTime + 0.01;
  [
    [659.25, 0], // E5
    [987.77, 0.13], // B5
  ].forEach(([freq, offset]) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    const t = start + offset;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.09, t + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.22);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(t + 0.25);
  });
}

export function notificationState() {
  if (!("Notification" in window) || !window.isSecureContext) return "unsupported";
  return Notification.permission; // "default" | "granted" | "denied"
}

export async function askPermission() {
  if (notificationState() !== "default") return notificationState();
  try {
    return await Notification.requestPermission();
  } catch {
    return notificationState();
  }
}

/** Call once: the first click unlocks audio and asks for notification permission. */
export function primeOnFirstClick(onChange) {
  const handler = async () => {
    document.removeEventListener("pointerdown", handler, true);
    document.removeEventListener("keydown", handler, true);
    audioContext();
    await askPermission();
    onChange?.();
  };
  document.addEventListener("pointerdown", handler, true);
  document.addEventListener("keydown", handler, true);
}

/** A desktop notification; clicking it focuses the console and calls onClick. */
export function desktop({ title, body, tag, onClick }) {
  if (notificationState() !== "granted") return;
  try {
    const n = new Notification(title, { body, tag, renotify: true, icon: "/console/static/favicon.svg" });
    n.onclick = () => {
      window.focus();
      onClick?.();
      n.close();
    };
    setTimeout(() => n.close(), 15_000);
  } catch {
    // Some platforms only allow notifications from a service worker; the chime still plays.
  }
}

export function setTitle(unread, page = "Inbox") {
  const title = `${unread > 0 ? `(${unread > 99 ? "99+" : unread}) ` : ""}${page} · Doorstep`;
  if (document.title !== title) document.title = title;
}
