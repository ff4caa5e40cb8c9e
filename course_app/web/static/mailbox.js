// The dev mailbox: messages from GET /dev/mail. Verification links are opened in place
// (the API answers JSON), other links navigate to their page.
import { api } from "./api.js";
import { $, attempt, h, say, when } from "./ui.js";

const list = $("#mail-list");
const filter = $("#mail-filter");
const status = $("#mail-status");

function openLink(link, button, result) {
  const url = new URL(link, window.location.origin);
  if (url.pathname !== "/verify-email") {
    window.location.assign(url.pathname + url.search);
    return;
  }
  if (button.getAttribute("aria-disabled") === "true") return;
  attempt(result, button, async () => {
    const answer = await api("GET", url.pathname + url.search);
    return answer.message;
  }).then((opened) => {
    if (!opened) return;
    // Done once: shown as done, yet still focusable so the keyboard focus stays put.
    button.textContent = "Opened";
    button.setAttribute("aria-disabled", "true");
  });
}

function message(mail) {
  const result = h("p", { class: "status", role: "status" });
  const actions = [];
  if (mail.link) {
    const path = new URL(mail.link, window.location.origin).pathname;
    const label = path === "/verify-email" ? "Verify email address" : "Open link";
    const button = h("button", { class: "btn btn-primary btn-small", type: "button" }, label);
    button.addEventListener("click", () => openLink(mail.link, button, result));
    actions.push(button);
  }
  return h(
    "li",
    { class: "mail card" },
    h(
      "div",
      { class: "mail-head" },
      h("h2", { class: "mail-subject" }, mail.subject),
      h("time", { datetime: mail.created_at, class: "muted" }, when(mail.created_at)),
    ),
    h("p", { class: "mail-to muted" }, "To ", h("strong", {}, mail.to_addr)),
    h("pre", { class: "mail-body" }, mail.body),
    actions.length ? h("div", { class: "mail-actions" }, actions, result) : null,
  );
}

async function load() {
  const to = $("#mail-to").value.trim();
  try {
    const mails = await api("GET", to ? `/dev/mail?to=${encodeURIComponent(to)}` : "/dev/mail");
    list.replaceChildren(...mails.map(message));
    $("#mail-empty").hidden = mails.length > 0;
    say(status, "");
  } catch (error) {
    say(status, error.message, "error");
  }
}

filter.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
load();
