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

export const isTouch = () => window.matchMedia("(pointer: coarse)").matches;
export const isPhone = () => window.matchMedia("(max-width: 767px)").matches;
