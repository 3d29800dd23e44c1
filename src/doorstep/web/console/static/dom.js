// DOM helpers. Data from the server only ever becomes text nodes: there is no innerHTML
// anywhere in the console, so a visitor's "<img onerror=…>" is shown as the characters it is.

/**
 * h("a", {class: "x", href: "/y", onclick: fn, dataset: {id: 1}}, "text", childNode, [more])
 * Attribute values are set with setAttribute; children that are strings become text nodes.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) setProps(el, props);
  append(el, children);
  return el;
}

function setProps(el, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
// Icon outlines (24x24, stroked). Fixed strings from this file, never data.
const ICONS = {
  reply: ["M9 14 4 9l5-5", "M4 9h10a6 6 0 0 1 6 6v4"],
  lock: ["M7 11V8a5 5 0 0 1 10 0v3", "M5 11h14v9H5z"],
  check: ["M5 12.5l4.5 4.5L19 7.5"],
  checks: ["M2.5 12.5 6.5 16.5 14 8.5", "M10.5 15l1.5 1.5L21.5 7"],
  clock: ["M12 7v5l3 2", "M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0z"],
  alert: ["M12 8v5", "M12 16.5v.5", "M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0z"],
  pencil: ["M4 20h4L19 9l-4-4L4 16z", "M13.5 6.5l4 4"],
  x: ["M6 6l12 12M18 6 6 18"],
  plus: ["M12 5v14M5 12h14"],
  trash: ["M4 7h16", "M9 7V4.5h6V7", "M6.5 7l1 13h9l1-13"],
  external: ["M14 4h6v6", "M20 4l-9 9", "M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"],
  mobile: ["M8 3h8a1 1 0 0 1 1 1v16a1 1 0 0 1-1 1H8a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1z", "M11 18h2"],
  tablet: ["M6 3h12a1 1 0 0 1 1 1v16a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1z", "M11 18h2"],
  desktop: ["M4 5h16a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z", "M9 20h6", "M12 16v4"],
  globe: ["M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0z", "M3.5 9h17M3.5 15h17", "M12 3a14 14 0 0 1 0 18", "M12 3a14 14 0 0 0 0 18"],
  pin: ["M12 21s-7-6.2-7-11.5a7 7 0 0 1 14 0C19 14.8 12 21 12 21z", "M12 12a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z"],
  message: ["M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"],
  download: ["M12 4v11", "M7 10.5l5 5 5-5", "M5 20h14"],
  back: ["M15 5l-7 7 7 7"],
  chevron: ["M9 5l7 7-7 7"],
  expand: ["M14 4h6v6", "M10 20H4v-6", "M20 4l-7 7", "M4 20l7-7"],
  bolt: ["M13 3 5 14h6l-1 7 8-11h-6z"],
  page: ["M7 3h7l5 5v12a1 1 0 0 1-1 1H7a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1z", "M14 3v5h5"],
  cart: ["M3 4h2l2.4 11h10.2L20 7H6.2", "M9.5 20h.01", "M16.5 20h.01"],
  moon: ["M20 14.5A8 8 0 1 1 9.5 4a6.5 6.5 0 0 0 10.5 10.5z"],
  up: ["M6 15l6-6 6 6"],
  down: ["M6 9l6 6 6-6"],
  calendar: ["M5 5h14a1 1 0 0 1 1 1v13a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z", "M4 10h16", "M8 3v4M16 3v4"],
  mail: ["M5 5.5h14a1.5 1.5 0 0 1 1.5 1.5v10a1.5 1.5 0 0 1-1.5 1.5H5A1.5 1.5 0 0 1 3.5 17V7A1.5 1.5 0 0 1 5 5.5z", "m4 7.5 8 5.5 8-5.5"],
};

export function icon(name, cls = "icon") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/** Make `parent`'s children exactly `nodes`, in order, moving only what is out of place. */
export function reconcile(parent, nodes) {
  const wanted = new Set(nodes);
  for (const child of [...parent.children]) if (!wanted.has(child)) child.remove();
  let cursor = parent.firstElementChild;
  for (const node of nodes) {
    if (node === cursor) {
      cursor = cursor.nextElementSibling;
    } else {
      parent.insertBefore(node, cursor);
    }
  }
}

/** A stable colour (0–7) for an avatar, from an id-like seed. */
export function hue(seed) {
  let n = 0;
  for (const ch of String(seed)) n = (n * 31 + ch.charCodeAt(0)) >>> 0;
  return n % 8;
}

export function initial(name) {
  const trimmed = String(name || "").trim();
  if (!trimmed) return "?";
  const first = [...trimmed][0];
  return /[#\d]/.test(first) ? "#" : first.toUpperCase();
}

/** An avatar: the image when the URL is https/relative, else the initial on a stable colour. */
export function avatar(name, seed, size = "md", url = null) {
  const el = h("span", { class: `avatar avatar-${size}`, "aria-hidden": "true", "data-hue": hue(seed) });
  if (url && /^(https:\/\/|\/)/.test(url)) {
    el.append(h("img", { src: url, alt: "", loading: "lazy", referrerpolicy: "no-referrer" }));
  } else {
    el.textContent = initial(name);
  }
  return el;
}

export function setAvatar(el, name, seed, url = null) {
  el.dataset.hue = hue(seed);
  if (url && /^(https:\/\/|\/)/.test(url)) {
    el.replaceChildren(h("img", { src: url, alt: "", referrerpolicy: "no-referrer" }));
  } else {
    el.textContent = initial(name);
  }
}

/** Short-lived message at the bottom of the screen. */
export function toast(text, { error = false, timeout = 4000 } = {}) {
  const host = document.getElementById("toasts");
  if (!host) return;
  const el = h("div", { class: error ? "toast is-error" : "toast", role: error ? "alert" : "status" }, text);
  host.append(el);
  setTimeout(() => el.remove(), timeout);
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Plain-HTTP deployments are not a secure context; getRandomValues still works there.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((n) => n.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** A plain left click: modified clicks (new tab, new window) are left to the browser. */
export function plainClick(event) {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

export const isTouch = () => window.matchMedia("(pointer: coarse)").matches;
export const isPhone = () => window.matchMedia("(max-width: 767px)").matches;
