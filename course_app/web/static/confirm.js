// The "Confirm your identity" dialog. It names the account and the action, opens on the
// method this browser confirmed with last (of those the server's 403 listed: the ones strong
// enough for the action, and says why when the password is not among them) and offers the
// others behind "Use another method", posts the answer to /auth/confirm (or the passkey
// endpoints), and stays open on a wrong answer. Resolves with the server's answer
// ({expires_in, …}) once confirmed, or null when the person cancels (button or Escape).
//
// Each opening is its own conversation: once it has ended (confirmed or cancelled), an
// answer that arrives late never touches the dialog again, which may already be asking for
// the next action.
import { trapFocus } from "./focus-trap.js";
import { sendSession as send, toSignIn } from "./http.js";
import { FIELDS, TRANSPORT, failureMessage, preferred, rememberMethod, usable } from "./methods.js";
import { hear, tell } from "./tabs.js";
import { getPasskey } from "./webauthn.js";
import { duration, listing } from "./words.js";

const EMPTY = {
  password: "Enter your password.",
  totp: "Enter the 6-digit code from your authenticator app.",
  recovery_code: "Enter one of your recovery codes.",
};
const FACTOR_NAMES = { totp: "authenticator code", recovery_code: "recovery code" };
// How the line that says why a password will not do names each way (policy.py's levels).
const WAY_NAMES = {
  password: "your password",
  totp: "your authenticator code",
  recovery_code: "a recovery code",
  passkey: "a passkey",
};
const LEVELS = ["any_factor", "second_factor", "phishing_resistant"];

let open = null; // the dialog on screen, shared by every request that needs it meanwhile

/** Ask once, even if several requests hit the 403 at the same time: each one's `purpose`
 * completes "To …, confirm it's you" (e.g. "change your email address"); `carried` lists
 * the factors a request holds itself, which the dialog must not spend first. */
export function confirmIdentity(challenge, purpose, carried = []) {
  if (open) open.join(challenge, purpose, carried);
  else open = ask(challenge, purpose, carried);
  return open.answer;
}

/** What one dialog must satisfy for every request waiting on it: the methods all of their
 * 403s list, the shortest max_age, and the actions that need more than any factor. */
function combined(asked) {
  const [first, ...others] = asked.map((entry) => entry.challenge);
  return {
    methods: (first.methods || []).filter((m) => others.every((c) => (c.methods || []).includes(m))),
    max_age: Math.min(...asked.map((entry) => entry.challenge.max_age || 300)),
    strong: asked.filter((entry) => LEVELS.indexOf(entry.challenge.level) > 0),
  };
}

/** One line on why the password is not offered: "A password is not enough to turn off
 * two-factor authentication: use a recovery code or a passkey." Empty when it would be. */
function levelLine(strong, methods) {
  if (!strong.length || !methods.length) return "";
  const what = listing(strong.map((entry) => entry.purpose).filter(Boolean)) || "do this";
  const passkeyOnly = strong.some((entry) => entry.challenge.level === "phishing_resistant");
  if (passkeyOnly) return `Only a passkey is enough to ${what}: it cannot be phished.`;
  return `A password is not enough to ${what}: use ${listing(methods.map((m) => WAY_NAMES[m]), "or")}.`;
}

// Another tab confirmed, and all tabs share one session: a dialog waiting here has nothing
// left to ask.
hear((news) => {
  if (news === "confirmed") open?.confirmedElsewhere();
});

async function confirmWithPasskey() {
  const options = await send("POST", "/auth/confirm/passkey/options");
  if (!options.ok) return options;
  let credential;
  try {
    credential = await getPasskey(options.data);
  } catch (error) {
    return { ok: false, status: 0, data: { error: error.message }, failure: null };
  }
  return send("POST", "/auth/confirm/passkey", { credential });
}

/** The window opened: the page's pill follows (when the answer says for how long), and so
 * do the other tabs (when it opened here). */
function announce(answer, here) {
  if (here) tell("confirmed");
  if (answer.expires_in !== undefined) {
    document.dispatchEvent(new CustomEvent("stepup:confirmed", { detail: answer }));
  }
}

function ask(challenge, purpose, carried) {
  const dialog = document.getElementById("confirm-dialog");
  const $ = (selector) => dialog.querySelector(selector);
  const form = $("#confirm-form");
  const picker = $("#confirm-methods");
  const other = $("#confirm-other");
  const error = $("#confirm-error");
  const submit = $("#confirm-submit");
  const opener = document.activeElement;
  const account = document.body.dataset.account || "";
  const purposes = purpose ? [purpose] : [];
  const asked = [{ challenge, purpose }]; // every request waiting on this dialog
  const excluded = new Set(carried);
  const listening = new AbortController();
  let method = null;
  let busy = false;
  let settled = false;
  let resolve;

  const input = () => $(`[data-panel="${method}"] input`);
  const showError = (message) => {
    error.textContent = message;
    // The error belongs to the field it is about: screen readers read it with the field.
    for (const field of dialog.querySelectorAll("[data-panel] input")) {
      if (message && field === input()) {
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", error.id);
      } else {
        field.removeAttribute("aria-invalid");
        field.removeAttribute("aria-describedby");
      }
    }
  };
  const setBusy = (value) => {
    busy = value;
    form.setAttribute("aria-busy", String(value));
    // aria-disabled, not disabled: disabling the focused button would drop focus to <body>.
    submit.setAttribute("aria-disabled", String(value));
    submit.textContent = value ? "Checking…" : method === "passkey" ? "Use passkey" : "Confirm";
    $("#confirm-progress").textContent = value ? "Checking…" : "";
    for (const field of dialog.querySelectorAll("[data-panel] input")) field.readOnly = value;
  };
  // Picking a method shows its field; the focus moves there only when asked (an arrow key
  // on the radios keeps it on the radios).
  const choose = (next, focus) => {
    method = next;
    for (const panel of dialog.querySelectorAll("[data-panel]")) {
      panel.hidden = panel.dataset.panel !== method;
    }
    setBusy(false);
    showError("");
    if (focus) (input() || submit).focus();
  };

  // What the dialog says and offers follows every request waiting on it.
  const render = (focus) => {
    $("#confirm-why").textContent = purposes.length
      ? `To ${listing(purposes)}, confirm it's you.`
      : "This is a sensitive action. Confirm it's you to continue.";
    const needed = combined(asked);
    const held = needed.methods.filter((m) => excluded.has(m));
    $("#confirm-carried").textContent = held.length
      ? `This action already takes your ${listing(held.map((m) => FACTOR_NAMES[m]))}, so confirm another way.`
      : "";
    $("#confirm-carried").hidden = !held.length;
    $("#confirm-window").textContent = duration(needed.max_age);
    if (busy) return; // the method being checked stays as it is
    const methods = usable(needed.methods, excluded);
    $("#confirm-level").textContent = levelLine(needed.strong, methods);
    $("#confirm-level").hidden = !$("#confirm-level").textContent;
    const next = methods.includes(method) ? method : preferred(methods);
    other.hidden = methods.length < 2 || !picker.hidden;
    $("#confirm-lost-device").hidden = methods.length > 1;
    for (const label of picker.querySelectorAll("label[data-method]")) {
      label.hidden = !methods.includes(label.dataset.method);
      label.querySelector("input").checked = label.dataset.method === next;
    }
    submit.disabled = !methods.length;
    if (methods.length) {
      if (next !== method || focus) choose(next, focus);
      return;
    }
    method = null;
    for (const panel of dialog.querySelectorAll("[data-panel]")) panel.hidden = true;
    showError("This browser cannot use any of the ways this account can confirm.");
    $("#confirm-cancel").focus();
  };

  const finish = (answer, here = true) => {
    if (settled) return;
    settled = true;
    if (open === session) open = null;
    listening.abort();
    form.reset();
    setBusy(false);
    showError("");
    dialog.close();
    if (opener?.isConnected && typeof opener.focus === "function") opener.focus();
    if (answer) announce(answer, here);
    resolve(answer);
  };
  // The person cancelled while the server was checking: the action stays cancelled, but what
  // the server did still holds. A confirmation opened the window (the pill says so, and a
  // dialog opened since for another action has nothing left to ask); a lockout signed the
  // session out.
  const afterwards = (answer, used) => {
    if (answer.ok) {
      rememberMethod(used);
      announce(answer.data || {}, true);
      open?.confirmedElsewhere();
    } else if (answer.data?.code === "session_revoked") {
      tell("signed-out");
      toSignIn("locked");
    }
  };

  async function onSubmit(event) {
    event.preventDefault();
    if (busy || !method) return;
    if (method !== "passkey" && !input().value.trim()) {
      showError(EMPTY[method]);
      input().focus();
      return;
    }
    const used = method;
    setBusy(true);
    const answer =
      used === "passkey"
        ? await confirmWithPasskey()
        : await send("POST", "/auth/confirm", { [FIELDS[used]]: input().value.trim() });
    if (settled) {
      afterwards(answer, used);
      return;
    }
    setBusy(false);
    if (answer.ok) {
      rememberMethod(used);
      finish(answer.data || {});
      return;
    }
    if (answer.failure) {
      // Nothing was checked (or we cannot know): keep what was typed, so trying again is
      // one press of Confirm once the server answers.
      showError(TRANSPORT[answer.failure]);
      (input() || submit).focus();
      return;
    }
    const code = answer.data?.code;
    if (code === "session_revoked" || code === "not_authenticated") {
      finish(null);
      tell("signed-out"); // one session for every tab: they are all signed out
      toSignIn(code === "session_revoked" ? "locked" : "signed_out");
      return;
    }
    const field = input();
    if (field) field.value = "";
    showError(failureMessage(answer.data));
    (field || submit).focus();
  }

  const session = {
    answer: new Promise((settle) => {
      resolve = settle;
    }),
    join(next, another, factors) {
      asked.push({ challenge: next, purpose: another });
      if (another && !purposes.includes(another)) purposes.push(another);
      for (const factor of factors) excluded.add(factor);
      render(false);
    },
    confirmedElsewhere() {
      if (!busy) finish({}, false); // when busy, this tab's own answer is on its way
    },
  };

  $("#confirm-account").textContent = account;
  $("#confirm-who").hidden = !account;
  $("#confirm-username").value = account;
  picker.hidden = true;
  const { signal } = listening;
  form.addEventListener("submit", onSubmit, { signal });
  picker.addEventListener("change", (event) => choose(event.target.value, false), { signal });
  other.addEventListener(
    "click",
    () => {
      picker.hidden = false;
      other.hidden = true;
      picker.querySelector("input:checked")?.focus();
    },
    { signal },
  );
  $("#confirm-cancel").addEventListener("click", () => finish(null), { signal });
  dialog.addEventListener(
    "cancel",
    (event) => {
      event.preventDefault(); // close through finish(), so the promise settles once
      finish(null);
    },
    { signal },
  );
  dialog.addEventListener("keydown", trapFocus(dialog), { signal });
  dialog.showModal();
  render(true);
  return session;
}
