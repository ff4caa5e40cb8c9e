// The "Confirm your identity" dialog. It offers only the methods the server's 403 listed,
// posts the answer to /auth/confirm (or the passkey endpoints), and stays open on a wrong
// answer. Resolves true once confirmed, false when the person cancels (button or Escape).
import { send, toSignIn } from "./http.js";
import { getPasskey, passkeysSupported } from "./webauthn.js";

const FIELDS = { password: "password", totp: "code", recovery_code: "recovery_code" };
const EMPTY = {
  password: "Enter your password.",
  totp: "Enter the 6-digit code from your authenticator app.",
  recovery_code: "Enter one of your recovery codes.",
};
const FOCUSABLE = "button, input, select, textarea, a[href], [tabindex]:not([tabindex='-1'])";

let pending = null;

/** Ask once, even if several requests hit the 403 at the same time. */
export function confirmIdentity(challenge) {
  pending ??= ask(challenge).finally(() => {
    pending = null;
  });
  return pending;
}

function duration(seconds) {
  if (seconds % 60 === 0 && seconds >= 60) {
    const minutes = seconds / 60;
    return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  }
  return seconds === 1 ? "1 second" : `${seconds} seconds`;
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

function ask(challenge) {
  const dialog = document.getElementById("confirm-dialog");
  const form = dialog.querySelector("#confirm-form");
  const picker = dialog.querySelector("#confirm-methods");
  const error = dialog.querySelector("#confirm-error");
  const submit = dialog.querySelector("#confirm-submit");
  const cancel = dialog.querySelector("#confirm-cancel");
  const opener = document.activeElement;
  const methods = (challenge.methods || []).filter(
    (m) => m in FIELDS || (m === "passkey" && passkeysSupported()),
  );
  let method = methods[0];

  dialog.querySelector("#confirm-window").textContent = duration(challenge.max_age || 300);
  picker.hidden = methods.length < 2;
  for (const label of picker.querySelectorAll("label[data-method]")) {
    label.hidden = !methods.includes(label.dataset.method);
    label.querySelector("input").checked = label.dataset.method === method;
  }

  const showError = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };
  const input = () => dialog.querySelector(`[data-panel="${method}"] input`);
  const choose = (next) => {
    method = next;
    for (const panel of dialog.querySelectorAll("[data-panel]")) {
      panel.hidden = panel.dataset.panel !== method;
    }
    submit.textContent = method === "passkey" ? "Use passkey" : "Confirm";
    submit.disabled = !method;
    showError("");
    (input() || submit).focus();
  };

  return new Promise((resolve) => {
    let busy = false;
    const listening = new AbortController();
    const finish = (confirmed) => {
      listening.abort();
      form.reset();
      dialog.close();
      if (opener && typeof opener.focus === "function") opener.focus();
      resolve(confirmed);
    };
    const onPick = (event) => choose(event.target.value);
    const onCancel = () => finish(false);
    const onEscape = (event) => {
      event.preventDefault(); // close through finish(), so the promise settles once
      finish(false);
    };
    const trapFocus = (event) => {
      if (event.key !== "Tab") return;
      const items = [...dialog.querySelectorAll(FOCUSABLE)].filter(
        (el) => !el.disabled && el.offsetParent !== null,
      );
      const first = items[0];
      const last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    };
    async function onSubmit(event) {
      event.preventDefault();
      if (busy || !method) return;
      let answer;
      if (method === "passkey") {
        busy = true;
        submit.disabled = true;
        answer = await confirmWithPasskey();
      } else {
        const value = input().value.trim();
        if (!value) {
          showError(EMPTY[method]);
          input().focus();
          return;
        }
        busy = true;
        submit.disabled = true;
        answer = await send("POST", "/auth/confirm", { [FIELDS[method]]: value });
      }
      busy = false;
      submit.disabled = false;
      if (answer.ok) {
        finish(true);
        return;
      }
      const code = answer.data?.code;
      if (code === "session_revoked" || code === "not_authenticated") {
        finish(false);
        toSignIn(code === "session_revoked" ? "locked" : "signed_out");
        return;
      }
      showError(answer.data?.error || "That did not work. Try again.");
      const field = input();
      if (field) {
        field.value = "";
        field.focus();
      }
    }

    const { signal } = listening;
    form.addEventListener("submit", onSubmit, { signal });
    picker.addEventListener("change", onPick, { signal });
    cancel.addEventListener("click", onCancel, { signal });
    dialog.addEventListener("cancel", onEscape, { signal });
    dialog.addEventListener("keydown", trapFocus, { signal });
    dialog.showModal();
    if (methods.length) {
      choose(method);
    } else {
      for (const panel of dialog.querySelectorAll("[data-panel]")) panel.hidden = true;
      submit.disabled = true;
      showError("This browser cannot use any of the ways this account can confirm.");
      cancel.focus();
    }
  });
}
