// The account page. Every action is one api() call: when the server wants a fresh
// confirmation, api.js opens the dialog and retries; this file never checks the window itself.
import { api } from "./api.js";
import { orgsCard } from "./orgs-card.js";
import { passkeysCard } from "./passkeys-card.js";
import { showWindow } from "./pill.js";
import { signedInPage, signedOut } from "./signed-in.js";
import { $, FieldError, attempt, h, onSubmit, when } from "./ui.js";
import { plural } from "./words.js";

let me = null;
const statusOf = (cardId) => $(`#${cardId} [data-status]`);
const loadPasskeys = passkeysCard(statusOf("passkeys-card"), () => loadMe());
const loadOrgs = orgsCard(statusOf("orgs-card"));

function badge(node, text, kind) {
  node.textContent = text;
  node.className = `badge badge-${kind}`;
}

async function loadMe() {
  me = await api("GET", "/me");
  const hasPassword = me.methods.includes("password");
  const hasPasskey = me.methods.includes("passkey");
  $("#nav-email").textContent = me.email;
  $("#current-email").textContent = me.email;
  if (me.email_verified) badge($("#email-badge"), "Verified", "success");
  else badge($("#email-badge"), "Not verified: check your inbox", "warn");
  $("#password-summary").textContent = hasPassword
    ? "Changing it signs out your other sessions."
    : "This account has no password: it signs in with passkeys only. You can set one here.";
  $("#password-submit").textContent = hasPassword ? "Change password" : "Set a password";
  $("#remove-password").hidden = !(hasPassword && hasPasskey);
  if ($("#remove-password").hidden) showRemoveWarning(false);
  const on = me.two_factor_enabled;
  badge($("#twofa-state"), on ? "On" : "Off", on ? "success" : "muted");
  $("#twofa-off").hidden = on || !$("#twofa-enrol").hidden;
  $("#twofa-disable-form").hidden = !on;
  showWindow(me.reauth.recent ? me.reauth.expires_in : null);
}

// Email and password ------------------------------------------------------------------------

onSubmit(
  $("#email-form"),
  statusOf("email-card"),
  async ({ email }, form) => {
    const result = await api("PUT", "/me/email", { email: email.trim() }, "change your email address");
    form.reset();
    await loadMe();
    return result.message;
  },
  "Changing your email address…",
);

onSubmit(
  $("#password-form"),
  statusOf("password-card"),
  async ({ new_password }, form) => {
    const purpose = me?.methods.includes("password") ? "change your password" : "set a password";
    const result = await api("PUT", "/me/password", { new_password }, purpose);
    form.reset();
    await Promise.all([loadMe(), loadSessions()]);
    return result.message;
  },
  "Saving your password…",
);

// Going passkey-only is one click away from being locked out with a lost phone: say so first.
function showRemoveWarning(show) {
  $("#remove-password-warning").hidden = !show;
  $("#remove-password").setAttribute("aria-expanded", String(show));
}

$("#remove-password").addEventListener("click", () => {
  const count = $("#passkey-list").querySelectorAll(".item:not(.empty)").length;
  $("#remove-password-passkeys").textContent =
    count === 1 ? "your one passkey" : `your ${plural(count, "passkey")}`;
  showRemoveWarning(true);
  $("#remove-password-warning").focus();
});

$("#remove-password-keep").addEventListener("click", () => {
  showRemoveWarning(false);
  $("#remove-password").focus();
});

$("#remove-password-confirm").addEventListener("click", (event) =>
  attempt(statusOf("password-card"), event.currentTarget, async () => {
    const result = await api("DELETE", "/me/password", undefined, "remove your password");
    showRemoveWarning(false);
    await loadMe();
    $("#password-form input").focus();
    return result.message;
  }),
);

// Two-factor authentication -------------------------------------------------------------------

$("#twofa-setup").addEventListener("click", (event) =>
  attempt(statusOf("twofa-card"), event.currentTarget, async () => {
    const setup = await api("POST", "/me/2fa/setup", undefined, "set up two-factor authentication");
    $("#twofa-secret").textContent = setup.secret;
    $("#twofa-uri").textContent = setup.otpauth_uri;
    $("#twofa-off").hidden = true;
    $("#twofa-enrol").hidden = false;
    $("#twofa-enable-code").focus();
    return "";
  }),
);

onSubmit($("#twofa-enable-form"), statusOf("twofa-card"), async ({ code }, form) => {
  const purpose = "turn on two-factor authentication";
  const result = await api("POST", "/me/2fa/enable", { code: code.trim() }, purpose);
  form.reset();
  $("#twofa-enrol").hidden = true;
  $("#twofa-code-list").replaceChildren(...result.recovery_codes.map((c) => h("li", {}, h("code", {}, c))));
  $("#twofa-codes").hidden = false;
  await loadMe();
  return result.message;
});

// The code typed here is spent by this request; api.js keeps the dialog from asking for it.
onSubmit($("#twofa-disable-form"), statusOf("twofa-card"), async ({ code }, form) => {
  const value = code.trim();
  if (!value) throw new FieldError($("#twofa-disable-code"), "Enter an authenticator code or a recovery code.");
  const body = /^[0-9]{6}$/.test(value) ? { code: value } : { recovery_code: value };
  const result = await api("POST", "/me/2fa/disable", body, "turn off two-factor authentication");
  form.reset();
  $("#twofa-codes").hidden = true;
  await loadMe();
  return result.message;
});

// Sessions ------------------------------------------------------------------------------------

function device(agent) {
  if (!agent) return "Unknown device";
  const browser = ["Edg", "Firefox", "Chrome", "Safari"].find((b) => agent.includes(b));
  const system = ["Android", "iPhone", "Windows", "Mac OS", "Linux"].find((s) => agent.includes(s));
  if (!browser) return agent.slice(0, 60);
  const name = browser === "Edg" ? "Edge" : browser;
  return system ? `${name} on ${system === "Mac OS" ? "macOS" : system}` : name;
}

async function loadSessions() {
  const sessions = await api("GET", "/me/sessions");
  $("#session-list").replaceChildren(
    ...sessions.map((s) => {
      let action = null;
      if (!s.current) {
        action = h("button", { class: "btn btn-secondary btn-small", type: "button" }, "Revoke");
        action.setAttribute("aria-label", `Revoke session ${s.id}`);
        action.addEventListener("click", () =>
          attempt(statusOf("sessions-card"), action, async () => {
            await api("DELETE", `/me/sessions/${s.id}`, undefined, "sign out another browser");
            await loadSessions();
            return "Session revoked: that browser is signed out.";
          }),
        );
      }
      const title = h("p", { class: "item-title" }, device(s.user_agent), s.current ? h("span", { class: "badge badge-success" }, "This browser") : null);
      const meta = `Signed in ${when(s.created_at)} · last active ${when(s.last_seen_at)}`;
      return h("li", { class: "item" }, h("div", {}, title, h("p", { class: "item-meta" }, meta)), action);
    }),
  );
}

// Deleting the account and signing out ----------------------------------------------------------

onSubmit($("#delete-form"), statusOf("delete-card"), async ({ sure }) => {
  if (!sure) throw new FieldError($("#delete-sure"), "Tick the box to confirm you want to delete your account.");
  await api("DELETE", "/me", undefined, "delete your account");
  signedOut("deleted");
  return "";
});

// Loading, and keeping up with the other tabs ---------------------------------------------------

/** Load the page's state (everything, or just GET /me); a failure says so, with a retry. */
function refresh(everything) {
  const parts = everything ? [loadMe, loadPasskeys, loadOrgs, loadSessions] : [loadMe];
  const work = async () => {
    await Promise.all(parts.map((load) => load()));
    return "";
  };
  return attempt($("#page-status"), null, work, "");
}

signedInPage(refresh);
