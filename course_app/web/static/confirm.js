// The "Confirm your identity" dialog. It names the account and the action, opens on the
// method this browser confirmed with last (of those the server's 403 listed) and offers the
// others behind "Use another method", posts the answer to /auth/confirm (or the passkey
// endpoints), and stays open on a wrong answer. Resolves with the server's answer
// ({expires_at, …}) once confirmed, or null when the person cancels (button or Escape).
import { send, toSignIn } from "./http.js";
import { getPasskey, passkeysSupported } from "./webauthn.js";

const FIELDS = { password: "password", totp: "code", recovery_code: "recovery_code" };
const EMPTY = {
  password: "Enter your password.",
  totp: "Enter the 6-digit code from your authenticator app.",
  recovery_code: "Enter one of your recovery codes.",
};
const LAST_METHOD = "stepup.lastMethod";

let pending = null;

/** Ask once, even if several requests hit the 403 at the same time. `purpose` completes
 * "To …, confirm it's you" (e.g. "change your email address"). */
export function confirmIdentity(challenge, purpose) {
  pending ??= ask(challenge, purpose).finally(() => {
    pending = null;
  });
  return pending;
}

/** Remember how this browser last proved who it is (sign-in or confirmation), so the next
 * dialog opens on it. Recovery codes are a last resort: never the default. */
export function rememberMethod(method) {
  if (method === "recovery_code") return;
  try {
    localStorage.setItem(LAST_METHOD, method);
  } catch {
    // Storage refused (private mode): the dialog falls back to the server's order.
  }
}

function lastMethod() {
  try {
    return localStorage.getItem(LAST_METHOD);
  } catch {
    return null;
  }
}

function duration(seconds) {
  if (seconds % 60 === 0 && seconds >= 60) {
    const minutes = seconds / 60;
    return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  }
  return seconds === 1 ? "1 second" : `${seconds} seconds`;
}

/** What the server's 401 says, with the attempts left when few are. */
function failureMessage(data) {
  const message = data?.error || "That did not work. Try again.";
  const left = data?.attempts_left;
  if (data?.code !== "invalid_credentials" || !(left <= 2)) return message;
  const attempts = left === 1 ? "1 attempt" : `${left} attempts`;
  return `${message.replace(/\.$/, "")}. ${attempts} left before this session is signed out.`;
}

/** The elements Tab reaches, in order: of a radio group, only its checked radio. */
function tabbables(root) {
  return [...root.querySelectorAll("button, input, a[href], select, textarea")].filter((el) => {
    if (el.disabled || el.tabIndex < 0 || !el.getClientRects().length) return false;
    if (el.type !== "radio") return true;
    const group = [...root.querySelectorAll(`input[type=radio][name="${el.name}"]`)];
    const checked = group.find((radio) => radio.checked && radio.getClientRects().length);
    return checked ? el === checked : el === group.find((radio) => radio.getClientRects().length);
  });
}

async function confirmWithPasskey() {
  const options = await send("POST", "/auth/confirm/passkey/options");
  if (!options.ok) return options;
  let credential;
  try {
    credential = await getPasskey(options.data);
  } catch (error) {
    return { ok: false, status: 0, data: { error: error.message } };
  }
  return send("POST", "/auth/confirm/passkey", { credential });
}

function ask(challenge, purpose) {
  const dialog = document.getElementById("confirm-dialog");
  const $ = (selector) => dialog.querySelector(selector);
  const form = $("#confirm-form");
  const picker = $("#confirm-methods");
  const other = $("#confirm-other");
  const error = $("#confirm-error");
  const submit = $("#confirm-submit");
  const cancel = $("#confirm-cancel");
  const opener = document.activeElement;
  const account = document.body.dataset.account || "";
  const methods = (challenge.methods || []).filter(
    (m) => m in FIELDS || (m === "passkey" && passkeysSupported()),
  );
  const remembered = lastMethod();
  let method = methods.includes(remembered)
    ? remembered
    : methods.find((m) => m !== "recovery_code") || methods[0];

  $("#confirm-why").textContent = purpose
    ? `To ${purpose}, confirm it's you.`
    : "This is a sensitive action. Confirm it's you to continue.";
  $("#confirm-window").textContent = duration(challenge.max_age || 300);
  $("#confirm-account").textContent = account;
  $("#confirm-who").hidden = !account;
  $("#confirm-username").value = account;
  $("#confirm-lost-device").hidden = methods.length > 1;
  picker.hidden = true;
  other.hidden = methods.length < 2;
  for (const label of picker.querySelectorAll("label[data-method]")) {
    label.hidden = !methods.includes(label.dataset.method);
    label.querySelector("input").checked = label.dataset.method === method;
  }

  const input = () => $(`[data-panel="${method}"] input`);
  const showError = (message) => {
    error.textContent = message;
    error.hidden = !message;
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
  const setBusy = (busy) => {
    form.setAttribute("aria-busy", String(busy));
    submit.disabled = busy;
    submit.textContent = busy ? "Checking…" : method === "passkey" ? "Use passkey" : "Confirm";
    for (const field of dialog.querySelectorAll("[data-panel] input")) field.readOnly = busy;
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

  return new Promise((resolve) => {
    let busy = false;
    const listening = new AbortController();
    const finish = (answer) => {
      listening.abort();
      form.reset();
      showError("");
      dialog.close();
      if (opener && typeof opener.focus === "function") opener.focus();
      if (answer) document.dispatchEvent(new CustomEvent("stepup:confirmed", { detail: answer }));
      resolve(answer);
    };
    const onPick = (event) => choose(event.target.value, false);
    const onOther = () => {
      picker.hidden = false;
      other.hidden = true;
      picker.querySelector("input:checked")?.focus();
    };
    const onCancel = () => finish(null);
    const onEscape = (event) => {
      event.preventDefault(); // close through finish(), so the promise settles once
      finish(null);
    };
    const trapFocus = (event) => {
      if (event.key !== "Tab") return;
      const items = tabbables(dialog);
      const at = items.indexOf(document.activeElement);
      if (!items.length) return;
      if (event.shiftKey && at <= 0) {
        event.preventDefault();
        items[items.length - 1].focus();
      } else if (!event.shiftKey && (at === -1 || at === items.length - 1)) {
        event.preventDefault();
        items[0].focus();
      }
    };
    async function onSubmit(event) {
      event.preventDefault();
      if (busy || !method) return;
      let answer;
      if (method !== "passkey" && !input().value.trim()) {
        showError(EMPTY[method]);
        input().focus();
        return;
      }
      busy = true;
      setBusy(true);
      if (method === "passkey") {
        answer = await confirmWithPasskey();
      } else {
        answer = await send("POST", "/auth/confirm", { [FIELDS[method]]: input().value.trim() });
      }
      busy = false;
      setBusy(false);
      if (answer.ok) {
        rememberMethod(method);
        finish(answer.data || {});
        return;
      }
      const code = answer.data?.code;
      if (code === "session_revoked" || code === "not_authenticated") {
        finish(null);
        toSignIn(code === "session_revoked" ? "locked" : "signed_out");
        return;
      }
      const field = input();
      if (field) field.value = "";
      showError(failureMessage(answer.data));
      (field || submit).focus();
    }

    const { signal } = listening;
    form.addEventListener("submit", onSubmit, { signal });
    picker.addEventListener("change", onPick, { signal });
    other.addEventListener("click", onOther, { signal });
    cancel.addEventListener("click", onCancel, { signal });
    dialog.addEventListener("cancel", onEscape, { signal });
    dialog.addEventListener("keydown", trapFocus, { signal });
    dialog.showModal();
    if (methods.length) {
      choose(method, true);
    } else {
      for (const panel of dialog.querySelectorAll("[data-panel]")) panel.hidden = true;
      submit.disabled = true;
      showError("This browser cannot use any of the ways this account can confirm.");
      cancel.focus();
    }
  });
}
