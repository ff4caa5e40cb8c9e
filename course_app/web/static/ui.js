// Small DOM helpers shared by the pages. Text always goes in as textContent, never HTML.
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

/** Show `message` in a status or alert element; kind is ok | error | muted. */
export function say(node, message, kind = "ok") {
  node.textContent = message || "";
  node.dataset.kind = kind;
  node.hidden = !message;
}

export const values = (form) => Object.fromEntries(new FormData(form));

/** Run one action: controls disabled meanwhile, its message or error shown in `status`,
 * and the focus back where it was (disabling a focused button, or a dialog, drops it). */
export async function attempt(status, controls, work) {
  const buttons = controls.tagName === "FORM" ? [...controls.querySelectorAll("button")] : [controls];
  const focused = document.activeElement;
  for (const button of buttons) button.disabled = true;
  say(status, "");
  try {
    const message = await work();
    if (message) say(status, message, "ok");
    return true;
  } catch (error) {
    say(status, error.message, error instanceof Cancelled ? "muted" : "error");
    return false;
  } finally {
    for (const button of buttons) button.disabled = false;
    const now = document.activeElement;
    const lost = !now || now === document.body || now.closest("dialog:not([open])");
    if (lost && focused?.isConnected) focused.focus();
  }
}

/** Wire a form: `work(values, form)` returns the message to show on success. */
export function onSubmit(form, status, work) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(status, form, () => work(values(form), form));
  });
}

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
export const when = (iso) => (iso ? DATE.format(new Date(iso)) : "never");
