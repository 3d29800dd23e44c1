// The operator socket (docs/websocket.md): reconnects with exponential backoff and jitter,
// pings every 25 s and gives up on a silent connection, so a dead network is noticed.
//
// Events: "frame" (detail: the frame), "up" (a `ready` frame arrived), "down" (the socket
// closed; it retries by itself), "unauthorized" (the session ended: sign in again).

const PING_EVERY = 25_000;
const PONG_WAIT = 10_000;
const BACKOFF_BASE = 500;
const BACKOFF_MAX = 30_000;

export class OperatorSocket extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.ready = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.stopped = false;
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && !this.ws) this.reconnectNow();
    });
  }

  get isOpen() {
    return this.ready && this.ws?.readyState === WebSocket.OPEN;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.addEventListener("message", (event) => this.onMessage(ws, event));
    ws.addEventListener("close", (event) => this.onClose(ws, event));
    ws.addEventListener("open", () => this.startPings(ws));
  }

  onMessage(ws, event) {
    if (ws !== this.ws) return;
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    if (frame.type === "ready") {
      this.ready = true;
      this.attempt = 0;
      this.dispatchEvent(new CustomEvent("up", { detail: frame }));
    }
    if (frame.type !== "pong") this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
  }

  onClose(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    const wasReady = this.ready;
    this.ready = false;
    this.stopPings();
    if (event.code === 4401) {
      this.stopped = true;
      this.dispatchEvent(new CustomEvent("unauthorized"));
      return;
    }
    this.dispatchEvent(new CustomEvent("down", { detail: { code: event.code, wasReady } }));
    if (!this.stopped) this.scheduleRetry();
  }

  scheduleRetry() {
    if (this.retryTimer || this.stopped) return;
    const ceiling = Math.min(BACKOFF_MAX, BACKOFF_BASE * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // "equal jitter"
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  /** Skip the wait, e.g. when the network comes back or the tab becomes visible. */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    this.attempt = 0;
    this.connect();
  }

  startPings(ws) {
    this.stopPings();
    this.pingTimer = setInterval(() => {
      if (ws !== this.ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send('{"type":"ping"}');
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => {
        // No answer at all: the connection is dead even if the browser has not noticed.
        if (ws === this.ws) ws.close(4000, "no pong");
        this.onClose(ws, { code: 4000 });
      }, PONG_WAIT);
    }, PING_EVERY);
  }

  stopPings() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = this.pongTimer = null;
  }

  /** Send a frame now; false when the socket is not up (the caller queues and retries). */
  send(frame) {
    if (!this.isOpen) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }
}

export function socketUrl(path = "/console/ws") {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}
