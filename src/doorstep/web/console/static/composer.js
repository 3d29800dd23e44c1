// The reply box: Enter sends, Shift+Enter makes a new line, an "Internal note" switch,
// per-conversation drafts and throttled typing signals (never for internal notes: the
// visitor would see "typing…" for a note they can't read).

const TYPING_REFRESH = 4000; // re-announce while typing so the other side's timeout never fires
const TYPING_IDLE = 3000; // stop after this long without a keystroke

export function createComposer({ onSend, onTyping, onEscape }) {
  const form = document.getElementById("composer");
  const box = document.getElementById("composer-box");
  const textarea = document.getElementById("reply");
  const toggle = document.getElementById("internal-toggle");
  const banner = document.getElementById("note-banner");

  const drafts = new Map(); // conversation id -> {text, internal}
  let conversationId = null;
  let typing = false;
  let typingSentAt = 0;
  let idleTimer = null;

  function resize() {
    textarea.style.height = "auto";
    textarea.style.height = `${Math.min(textarea.scrollHeight + 2, Math.round(window.innerHeight * 0.4))}px`;
  }

  function applyMode() {
    const note = toggle.checked;
    box.classList.toggle("is-note", note);
    banner.hidden = !note;
    textarea.placeholder = note ? "Write an internal note…" : "Write a reply…";
  }

  function stopTyping() {
    clearTimeout(idleTimer);
    idleTimer = null;
    if (typing && conversationId !== null) onTyping(conversationId, false);
    typing = false;
  }

  function noteTyping() {
    if (conversationId === null) return;
    if (toggle.checked || !textarea.value.trim()) {
      stopTyping();
      return;
    }
    const now = Date.now();
    if (!typing || now - typingSentAt > TYPING_REFRESH) {
      onTyping(conversationId, true);
      typing = true;
      typingSentAt = now;
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stopTyping, TYPING_IDLE);
  }

  function saveDraft() {
    if (conversationId === null) return;
    if (textarea.value || toggle.checked) drafts.set(conversationId, { text: textarea.value, internal: toggle.checked });
    else drafts.delete(conversationId);
  }

  function submit() {
    const text = textarea.value;
    if (!text.trim() || conversationId === null) return;
    stopTyping();
    onSend(conversationId, text, toggle.checked);
    textarea.value = "";
    drafts.delete(conversationId);
    resize();
    textarea.focus();
  }

  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
      if (event.isComposing || event.keyCode === 229) return; // an IME is choosing characters
      event.preventDefault();
      submit();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit();
    } else if (event.key === "Escape") {
      onEscape?.();
    }
  });
  textarea.addEventListener("input", () => {
    resize();
    noteTyping();
  });
  textarea.addEventListener("blur", () => {
    saveDraft();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  toggle.addEventListener("change", () => {
    applyMode();
    if (toggle.checked) stopTyping();
    saveDraft();
    textarea.focus();
  });
  window.addEventListener("resize", resize);

  return {
    setConversation(id) {
      if (id === conversationId) return;
      stopTyping();
      saveDraft();
      conversationId = id;
      const draft = id === null ? null : drafts.get(id);
      textarea.value = draft?.text || "";
      toggle.checked = Boolean(draft?.internal);
      applyMode();
      resize();
    },
    focus() {
      textarea.focus();
    },
    stopTyping,
  };
}
