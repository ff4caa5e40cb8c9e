// Sign in: password (then a TOTP or recovery code when 2FA is on), or a passkey.
import { api } from "./api.js";
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
const toAccount = () => window.location.assign("/account");

const params = new URLSearchParams(window.location.search);
const notice = Object.keys(NOTICES).find((key) => params.has(key));
if (notice) say($("#signin-notice"), NOTICES[notice], "muted");

onSubmit(passwordForm, $("[data-error]", passwordForm), async ({ email, password }) => {
  if (!email || !password) throw new Error("Enter your email and password.");
  const result = await api("POST", "/auth/login", { email, password });
  if (!result.two_factor_required) return toAccount();
  passwordForm.hidden = true;
  factorForm.hidden = false;
  $("#login-code").focus();
  return "";
});

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
  await api("POST", "/auth/login/2fa", body);
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
    return toAccount();
  }),
);
