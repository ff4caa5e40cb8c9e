// Sign in: password (then a TOTP or recovery code when 2FA is on), or a passkey.
import { api, ApiError } from "./api.js";
import { rememberMethod } from "./methods.js";
import { $, attempt, onSubmit, say } from "./ui.js";
import { getPasskey, passkeysSupported } from "./webauthn.js";

const NOTICES = {
  signed_out: "You're signed out.",
  locked: "Too many failed confirmations: that session was signed out. Sign in again.",
  deleted: "Your account was deleted.",
  reset: "Password changed. Sign in with your new password.",
};

const passwordForm = $("#password-form");
const factorForm = $("#second-factor-form");
const params = new URLSearchParams(window.location.search);

/** Where a page that needed a session sent us from (`?next=/invitations`): a path on this
 * site only, never another site's address. */
function destination() {
  const next = params.get("next") || "";
  return /^\/(?![/\\])/.test(next) ? next : "/account";
}
const toAccount = () => window.location.assign(destination());

const notice = Object.keys(NOTICES).find((key) => params.has(key));
if (notice) say($("#signin-notice"), NOTICES[notice], "muted");

onSubmit(passwordForm, $("[data-error]", passwordForm), async ({ email, password }) => {
  if (!email || !password) throw new Error("Enter your email and password.");
  const result = await api("POST", "/auth/login", { email, password });
  if (!result.two_factor_required) {
    rememberMethod("password");
    return toAccount();
  }
  passwordForm.hidden = true;
  factorForm.hidden = false;
  $("#login-code").focus();
  return "";
});

/** A wrong code with few attempts left says how many (the fifth sends you back to the
 * password step). */
function withAttemptsLeft(error) {
  const left = error instanceof ApiError ? error.body?.attempts_left : undefined;
  if (error.code !== "invalid_credentials" || !(left <= 2)) return error;
  const attempts = left === 1 ? "1 attempt" : `${left} attempts`;
  return new Error(`${error.message}. ${attempts} left.`);
}

let useRecovery = false;
$("#toggle-recovery").addEventListener("click", (event) => {
  useRecovery = !useRecovery;
  $('[data-factor="code"]', factorForm).hidden = useRecovery;
  $('[data-factor="recovery_code"]', factorForm).hidden = !useRecovery;
  event.target.textContent = useRecovery
    ? "Use a code from your authenticator app"
    : "Use a recovery code instead";
  $(useRecovery ? "#login-recovery" : "#login-code").focus();
});

onSubmit(factorForm, $("[data-error]", factorForm), async ({ code, recovery_code }) => {
  const body = useRecovery ? { recovery_code } : { code };
  if (!Object.values(body)[0]) throw new Error("Enter the code.");
  try {
    await api("POST", "/auth/login/2fa", body);
  } catch (error) {
    if (error.code === "no_pending_login" || error.body?.attempts_left === 0) {
      // The password step has to be done again: go back to it and say why.
      factorForm.hidden = true;
      passwordForm.hidden = false;
      say($("[data-error]", passwordForm), "Too many wrong codes, or too long: sign in again.", "error");
      $("#password").focus();
      return "";
    }
    throw withAttemptsLeft(error);
  }
  rememberMethod(useRecovery ? "recovery_code" : "totp");
  return toAccount();
});

const passkeyButton = $("#passkey-signin");
const passkeyError = $("#passkey-error");
if (!passkeysSupported()) {
  passkeyButton.disabled = true;
  say(passkeyError, "This browser does not support passkeys.", "muted");
}
passkeyButton.addEventListener("click", () =>
  attempt(passkeyError, passkeyButton, async () => {
    const credential = await getPasskey(await api("POST", "/auth/passkey/options"));
    await api("POST", "/auth/passkey", { credential });
    rememberMethod("passkey");
    return toAccount();
  }),
);
