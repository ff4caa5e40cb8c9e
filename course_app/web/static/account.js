// The account page. Every action is one api() call: when the server wants a fresh
// confirmation, api.js opens the dialog and retries; this file never checks the window itself.
import { api, ApiError } from "./api.js";
import { $, attempt, h, onSubmit, say, when } from "./ui.js";
import { createPasskey, passkeysSupported } from "./webauthn.js";

let me = null;
let countdown = null;
let windowOpen = null; // null until the first showWindow(): nothing to announce on load
const statusOf = (cardId) => $(`#${cardId} [data-status]`);

function badge(node, text, kind) {
  node.textContent = text;
  node.className = `badge badge-${kind}`;
}

function clock(seconds) {
  const m = Math.floor(seconds / 60);
  return `${m}:${String(seconds % 60).padStart(2, "0")}`;
}

// The pill only informs; the server decides whether the next action asks. It follows the
// server's word: GET /me on load, and the `expires_at` of every confirmation (the dialog's
// "stepup:confirmed" event), whatever the retried request then answered.
function showWindow(expiresAt) {
  const pill = $("#window-status");
  const ends = expiresAt ? Date.parse(expiresAt) : 0;
  clearInterval(countdown);
  const tick = () => {
    const left = Math.round((ends - Date.now()) / 1000);
    const open = left > 0;
    pill.textContent = open
      ? `Identity confirmed · ${clock(left)} left`
      : "Sensitive actions will ask you to confirm";
    pill.dataset.state = open ? "open" : "closed";
    if (!open) clearInterval(countdown);
    announceWindow(open, left);
  };
  tick();
  if (ends) countdown = setInterval(tick, 1000);
}

// Screen readers hear the window open and close, not every second of the countdown.
function announceWindow(open, left) {
  if (open === windowOpen) return;
  const first = windowOpen === null;
  windowOpen = open;
  if (first) return;
  $("#window-announce").textContent = open
    ? `Identity confirmed. Sensitive actions won't ask again for about ${Math.ceil(left / 60)} minutes.`
    : "The confirmation window has closed: sensitive actions will ask you to confirm again.";
}

document.addEventListener("stepup:confirmed", (event) => showWindow(event.detail.expires_at));

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
  badge($("#twofa-state"), me.two_factor_enabled ? "On" : "Off", me.two_factor_enabled ? "success" : "muted");
  $("#twofa-off").hidden = me.two_factor_enabled || !$("#twofa-enrol").hidden;
  $("#twofa-disable-form").hidden = !me.two_factor_enabled;
  showWindow(me.reauth.recent ? me.reauth.expires_at : null);
}

// Email and password ------------------------------------------------------------------------

onSubmit($("#email-form"), statusOf("email-card"), async ({ email }, form) => {
  const result = await api("PUT", "/me/email", { email: email.trim() }, "change your email address");
  form.reset();
  await loadMe();
  return result.message;
});

onSubmit($("#password-form"), statusOf("password-card"), async ({ new_password }, form) => {
  const purpose = me?.methods.includes("password") ? "change your password" : "set a password";
  const result = await api("PUT", "/me/password", { new_password }, purpose);
  form.reset();
  await Promise.all([loadMe(), loadSessions()]);
  return result.message;
});

// Going passkey-only is one click away from being locked out with a lost phone: say so first.
function showRemoveWarning(show) {
  $("#remove-password-warning").hidden = !show;
  $("#remove-password").setAttribute("aria-expanded", String(show));
}

$("#remove-password").addEventListener("click", () => {
  const count = $("#passkey-list").querySelectorAll(".item:not(.empty)").length;
  $("#remove-password-passkeys").textContent =
    count === 1 ? "your one passkey" : `your ${count} passkeys`;
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

// Passkeys ------------------------------------------------------------------------------------

async function loadPasskeys() {
  const passkeys = await api("GET", "/me/passkeys");
  const list = $("#passkey-list");
  list.replaceChildren(
    ...passkeys.map((p) => {
      const remove = h("button", { class: "btn btn-secondary btn-small", type: "button" }, "Remove");
      remove.setAttribute("aria-label", `Remove passkey ${p.name}`);
      remove.addEventListener("click", () =>
        attempt(statusOf("passkeys-card"), remove, async () => {
          await api("DELETE", `/me/passkeys/${p.id}`, undefined, `remove the passkey "${p.name}"`);
          await Promise.all([loadPasskeys(), loadMe()]);
          return `Passkey "${p.name}" removed.`;
        }),
      );
      return h(
        "li",
        { class: "item" },
        h("div", {}, h("p", { class: "item-title" }, p.name),
          h("p", { class: "item-meta" }, `Added ${when(p.created_at)} · Last used ${when(p.last_used_at)}`)),
        remove,
      );
    }),
  );
  if (!passkeys.length) list.append(h("li", { class: "item empty" }, "No passkeys yet."));
}

if (!passkeysSupported()) {
  $("#passkey-form button").disabled = true;
  say(statusOf("passkeys-card"), "This browser does not support passkeys.", "muted");
}

onSubmit($("#passkey-form"), statusOf("passkeys-card"), async ({ name }, form) => {
  const purpose = "add a passkey";
  const credential = await createPasskey(
    await api("POST", "/me/passkeys/options", undefined, purpose),
  );
  const body = { credential, name: name.trim() || "Passkey" };
  const result = await api("POST", "/me/passkeys", body, purpose);
  form.reset();
  await Promise.all([loadPasskeys(), loadMe()]);
  return result.message;
});

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

onSubmit($("#twofa-disable-form"), statusOf("twofa-card"), async ({ code }, form) => {
  const value = code.trim();
  const body = /^[0-9]{6}$/.test(value) ? { code: value } : { recovery_code: value };
  const result = await api("POST", "/me/2fa/disable", body, "turn off two-factor authentication");
  form.reset();
  $("#twofa-codes").hidden = true;
  await loadMe();
  return result.message;
});

// Organizations and API keys --------------------------------------------------------------------

const MANAGERS = ["owner", "admin"]; // the roles the server lets manage API keys
const NOT_ALLOWED = "Forbidden: only owners and admins can manage this organization's API keys.";
const explain = (error) =>
  error instanceof ApiError && error.code === "forbidden" ? new Error(NOT_ALLOWED) : error;

function keyItem(org, key, refresh, status) {
  const meta = `${key.prefix}… · created ${when(key.created_at)} · last used ${when(key.last_used_at)}`;
  let action;
  if (key.revoked_at) {
    action = h("span", { class: "badge badge-muted" }, "Revoked");
  } else {
    action = h("button", { class: "btn btn-secondary btn-small", type: "button" }, "Revoke");
    action.setAttribute("aria-label", `Revoke API key ${key.name}`);
    action.addEventListener("click", () =>
      attempt(status, action, async () => {
        const purpose = `revoke the API key "${key.name}"`;
        await api("DELETE", `/orgs/${org.id}/api-keys/${key.id}`, undefined, purpose).catch((e) =>
          Promise.reject(explain(e)),
        );
        await refresh();
        return `API key "${key.name}" revoked.`;
      }),
    );
  }
  return h("li", { class: "item" }, h("div", {}, h("p", { class: "item-title" }, key.name), h("p", { class: "item-meta" }, meta)), action);
}

/** The new key, shown once, with a button that copies it. */
function secretBox(key) {
  const copy = h("button", { class: "btn btn-secondary btn-small", type: "button" }, "Copy key");
  const copied = h("span", { class: "copied", role: "status" });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(key.key);
      copied.textContent = "Copied.";
    } catch {
      copied.textContent = "Could not copy: select the key and copy it by hand.";
    }
  });
  return [
    h("p", {}, `New key "${key.name}". Copy it now: it will not be shown again.`),
    h("code", { class: "wrap" }, key.key),
    h("div", { class: "button-row" }, copy, copied),
  ];
}

function orgBlock(org) {
  const head = h("div", { class: "org-head" }, h("h3", {}, org.name), h("span", { class: "badge badge-muted" }, org.role));
  if (!MANAGERS.includes(org.role)) {
    // A member can neither list nor create keys: say so instead of a form that can only fail.
    const note = `Only owners and admins of ${org.name} see and manage its API keys; you're a ${org.role}.`;
    return h("article", { class: "org", "aria-label": org.name }, head, h("p", { class: "muted" }, note));
  }
  const keys = h("ul", { class: "item-list", "aria-label": `API keys of ${org.name}` });
  const status = h("p", { class: "status", role: "status" });
  const secret = h("div", { class: "secret-box", hidden: true });
  const input = h("input", { id: `key-name-${org.id}`, name: "name", maxlength: "100", required: true, placeholder: "e.g. CI deploys" });
  const form = h(
    "form",
    { class: "inline-form", novalidate: true, "data-org": org.id },
    h("div", { class: "field grow" }, h("label", { for: input.id }, "New API key name"), input),
    h("button", { class: "btn btn-primary", type: "submit" }, "Create API key"),
  );

  async function refresh() {
    try {
      const list = await api("GET", `/orgs/${org.id}/api-keys`);
      keys.replaceChildren(...list.map((k) => keyItem(org, k, refresh, status)));
      if (!list.length) keys.append(h("li", { class: "item empty" }, "No API keys yet."));
    } catch (error) {
      keys.replaceChildren(h("li", { class: "item empty" }, explain(error).message));
    }
  }

  onSubmit(form, status, async ({ name }) => {
    const purpose = `create an API key for ${org.name}`;
    const key = await api("POST", `/orgs/${org.id}/api-keys`, { name: name.trim() }, purpose).catch(
      (e) => Promise.reject(explain(e)),
    );
    form.reset();
    secret.replaceChildren(...secretBox(key));
    secret.hidden = false;
    await refresh();
    return `API key "${key.name}" created.`;
  });

  refresh();
  return h("article", { class: "org", "aria-label": org.name }, head, keys, form, secret, status);
}

async function loadOrgs() {
  const orgs = await api("GET", "/orgs");
  $("#org-list").replaceChildren(...orgs.map(orgBlock));
  if (!orgs.length) $("#org-list").append(h("p", { class: "empty" }, "You're not in any organization yet."));
}

onSubmit($("#org-form"), statusOf("orgs-card"), async ({ name }, form) => {
  const org = await api("POST", "/orgs", { name: name.trim() });
  form.reset();
  await loadOrgs();
  return `Organization "${org.name}" created.`;
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
  if (!sure) throw new Error("Tick the box to confirm you want to delete your account.");
  await api("DELETE", "/me", undefined, "delete your account");
  window.location.assign("/signin?deleted=1");
  return "";
});

$("#sign-out").addEventListener("click", async () => {
  await api("POST", "/auth/logout").catch(() => null);
  window.location.assign("/signin?signed_out=1");
});

Promise.all([loadMe(), loadPasskeys(), loadOrgs(), loadSessions()]).catch((error) => {
  say(statusOf("email-card"), error.message, "error");
});
