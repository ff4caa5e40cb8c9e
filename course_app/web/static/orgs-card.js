// The account page's organizations: each with its API keys (owners and admins only) and a
// link to its members page, a form to create one, and the invitations waiting for you.
import { api, reword } from "./api.js";
import { $, attempt, h, onSubmit, when } from "./ui.js";
import { plural } from "./words.js";

const MANAGERS = ["owner", "admin"]; // the roles the server lets manage API keys
const NOT_ALLOWED = "Forbidden: only owners and admins can manage this organization's API keys.";
const explain = (error) => Promise.reject(reword(error, "forbidden", NOT_ALLOWED));

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
        await api("DELETE", `/orgs/${org.id}/api-keys/${key.id}`, undefined, purpose).catch(explain);
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

function orgHead(org) {
  const members = h("a", { href: `/organizations/${org.id}/members` }, "Members");
  members.setAttribute("aria-label", `Members of ${org.name}`);
  return h(
    "div",
    { class: "org-head" },
    h("h3", {}, org.name),
    h("span", { class: "badge badge-muted" }, org.role),
    members,
  );
}

function orgBlock(org) {
  if (!MANAGERS.includes(org.role)) {
    // A member can neither list nor create keys: say so instead of a form that can only fail.
    const note = `Only owners and admins of ${org.name} see and manage its API keys; you're a ${org.role}.`;
    return h("article", { class: "org", "aria-label": org.name }, orgHead(org), h("p", { class: "muted" }, note));
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
      keys.replaceChildren(h("li", { class: "item empty" }, reword(error, "forbidden", NOT_ALLOWED).message));
    }
  }

  onSubmit(form, status, async ({ name }) => {
    const purpose = `create an API key for ${org.name}`;
    const key = await api("POST", `/orgs/${org.id}/api-keys`, { name: name.trim() }, purpose).catch(explain);
    form.reset();
    secret.replaceChildren(...secretBox(key));
    secret.hidden = false;
    await refresh();
    return `API key "${key.name}" created.`;
  });

  refresh();
  return h("article", { class: "org", "aria-label": org.name }, orgHead(org), keys, form, secret, status);
}

/** Invitations to this account's address, if any (an unverified address sees none). */
async function loadInvitations() {
  const note = $("#invitations-note");
  const invitations = await api("GET", "/me/invitations").catch(() => []);
  note.hidden = !invitations.length;
  if (invitations.length) {
    const count = plural(invitations.length, "invitation");
    note.replaceChildren(`You have ${count} to join an organization. `, h("a", { href: "/invitations" }, "Review invitations"));
  }
}

/** Wire the card; returns the function that (re)loads it. */
export function orgsCard(status) {
  async function loadOrgs() {
    const [orgs] = await Promise.all([api("GET", "/orgs"), loadInvitations()]);
    $("#org-list").replaceChildren(...orgs.map(orgBlock));
    if (!orgs.length) $("#org-list").append(h("p", { class: "empty" }, "You're not in any organization yet."));
  }

  onSubmit($("#org-form"), status, async ({ name }, form) => {
    const org = await api("POST", "/orgs", { name: name.trim() }, "create an organization");
    form.reset();
    await loadOrgs();
    return `Organization "${org.name}" created.`;
  });

  return loadOrgs;
}
