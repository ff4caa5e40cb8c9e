// Small DOM helpers shared by the pages, and attempt(): one action from click to outcome.
// Text always goes in as textContent, never HTML.
import { Cancelled } from "./api.js";

export const $ = (selector, root = document) => root.querySelector(selector);

/** h("li", {class: "item"}, "text", child…) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

/** Show `message` in a status or alert element; kind is ok | error | muted. The element stays
 * in the page when empty (CSS folds it away), so screen readers announce what arrives. */
export function say(node, message, kind = "ok") {
  node.textContent = message || "";
  node.dataset.kind = kind;
}

export const values = (form) => Object.fromEntries(new FormData(form));

/** A mistake in one field, found before anything was sent: the message is tied to it. */
export class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

let ids = 0;
const idOf = (node) => node.id || (node.id = `status-${++ids}`);

function tie(field, status) {
  field.setAttribute("aria-invalid", "true");
  field.setAttribute("aria-describedby", idOf(status));
  field.focus();
  const untie = () => {
    field.removeAttribute("aria-invalid");
    field.removeAttribute("aria-describedby");
  };
  field.addEventListener("change", untie, { once: true });
  field.addEventListener("input", untie, { once: true });
}

/** A "Try again" button after `status`, for an outcome nobody could know; `first` is where
 * the focus goes back to before trying. */
function offerRetry(status, first, again) {
  const button = h("button", { class: "btn btn-secondary btn-small retry", type: "button" }, "Try again");
  button.addEventListener("click", () => {
    if (first.isConnected) first.focus();
    button.remove();
    again();
  });
  status.after(button);
}

const running = new WeakSet();

/** Run one action: said to be under way in `status` ("Working…", announced), its controls
 * refusing a second press meanwhile, then its message or error in `status`, with a retry
 * when the outcome is unknown. The focus stays where it was: the controls are marked
 * aria-disabled, not disabled, since disabling the focused button drops focus to <body>. */
export async function attempt(status, controls, work, busy = "Working…") {
  const key = controls || status; // no controls: a load the page started itself
  if (running.has(key)) return false; // a second press while the first is under way
  running.add(key);
  const buttons = !controls ? [] : controls.tagName === "FORM" ? [...controls.querySelectorAll("button")] : [controls];
  const before = buttons.map((button) => button.getAttribute("aria-disabled"));
  const focused = document.activeElement;
  for (const button of buttons) button.setAttribute("aria-disabled", "true");
  if (status.nextElementSibling?.matches(".retry")) status.nextElementSibling.remove();
  say(status, busy, "muted");
  try {
    say(status, await work(), "ok");
    return true;
  } catch (error) {
    say(status, error.message, error instanceof Cancelled ? "muted" : "error");
    if (error.field) tie(error.field, status);
    if (error.retry) {
      const first = buttons[buttons.length - 1] || status;
      offerRetry(status, first, () => attempt(status, controls, work, busy));
    }
    return false;
  } finally {
    buttons.forEach((button, i) => {
      if (before[i] === null) button.removeAttribute("aria-disabled");
      else button.setAttribute("aria-disabled", before[i]);
    });
    running.delete(key);
    const now = document.activeElement;
    const lost = !now || now === document.body || now.closest("dialog:not([open])");
    if (lost && focused?.isConnected) focused.focus();
  }
}

/** Wire a form: `work(values, form)` returns the message to show on success. */
export function onSubmit(form, status, work, busy) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(status, form, () => work(values(form), form), busy);
  });
}

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
export const when = (iso) => (iso ? DATE.format(new Date(iso)) : "never");
