// An organization's members page: who is in it and with which role, inviting by email,
// changing a role and removing someone. Every change is a step-up action: api.js opens the
// same "Confirm your identity" dialog as the account page. The page offers only what the
// server would allow (an admin sees no owner controls), and shows the server's refusal when
// that changed meanwhile.
import { ApiError, api, reword } from "./api.js";
import { showWindow } from "./pill.js";
import { signedInPage } from "./signed-in.js";
import { $, FieldError, attempt, h, onSubmit, when } from "./ui.js";
import { plural } from "./words.js";

const orgId = Number(window.location.pathname.split("/")[2]);
const ROLES = ["member", "admin", "owner"];
const MANAGERS = ["owner", "admin"];
const a = (role) => (role === "member" ? `a ${role}` : `an ${role}`);
const statusOf = (cardId) => $(`#${cardId} [data-status]`);
let me = null;
let org = null;

const NOT_ALLOWED = () =>
  `Forbidden: only owners and admins manage the members of ${org.name}, and only an owner changes an owner's role.`;
const explain = (error) => Promise.reject(reword(error, "forbidden", NOT_ALLOWED()));

/** May I (my role) give `target` the role `role` (null: remove them)? The server's rule,
 * mirrored so the page shows no control that can only fail. */
function mayManage(target, role) {
  if (!MANAGERS.includes(org.role)) return false;
  return org.role === "owner" || (target.role !== "owner" && role !== "owner");
}

function roleControls(member) {
  const select = h(
    "select",
    { id: `role-${member.user_id}` },
    ROLES.filter((role) => mayManage(member, role)).map((role) =>
      h("option", { value: role, selected: role === member.role }, role[0].toUpperCase() + role.slice(1)),
    ),
  );
  const label = h("label", { for: select.id, class: "visually-hidden" }, `Role of ${member.email}`);
  const change = h("button", { class: "btn btn-secondary btn-small", type: "button" }, "Change role");
  change.setAttribute("aria-label", `Change the role of ${member.email}`);
  change.addEventListener("click", () =>
    attempt(statusOf("members-card"), change, async () => {
      const role = select.value;
      if (role === member.role) throw new FieldError(select, `${member.email} is already ${a(role)}: choose another role first.`);
      const purpose = `make ${member.email} ${a(role)} of ${org.name}`;
      await api("PATCH", `/orgs/${orgId}/members/${member.user_id}`, { role }, purpose).catch(explain);
      await load(true);
      return `${member.email} is now ${a(role)}.`;
    }),
  );
  return [label, select, change];
}

function removeButton(member) {
  const remove = h("button", { class: "btn btn-danger-outline btn-small", type: "button" }, "Remove");
  remove.setAttribute("aria-label", `Remove ${member.email}`);
  remove.addEventListener("click", () =>
    attempt(statusOf("members-card"), remove, async () => {
      const purpose = `remove ${member.email} from ${org.name}`;
      await api("DELETE", `/orgs/${orgId}/members/${member.user_id}`, undefined, purpose).catch(explain);
      await load(true);
      return `${member.email} was removed from ${org.name}.`;
    }),
  );
  return remove;
}

function memberItem(member) {
  const self = member.user_id === me.id;
  const title = h("p", { class: "item-title" }, member.email, self ? h("span", { class: "badge badge-success" }, "You") : null);
  const controls = [];
  if (mayManage(member, member.role)) controls.push(...roleControls(member));
  if (!self && mayManage(member, null)) controls.push(removeButton(member));
  const role = h("p", { class: "item-meta" }, `Role: ${member.role}`);
  return h(
    "li",
    { class: "item member" },
    h("div", {}, title, role),
    controls.length ? h("div", { class: "member-actions" }, controls) : null,
  );
}

function invitationItem(invitation) {
  const meta = `Invited as ${invitation.role} · until ${when(invitation.expires_at)}`;
  const revoke = h("button", { class: "btn btn-secondary btn-small", type: "button" }, "Revoke");
  revoke.setAttribute("aria-label", `Revoke the invitation for ${invitation.email}`);
  revoke.addEventListener("click", () =>
    attempt(statusOf("invite-card"), revoke, async () => {
      const purpose = `revoke the invitation for ${invitation.email}`;
      await api("DELETE", `/orgs/${orgId}/invitations/${invitation.id}`, undefined, purpose).catch(explain);
      await load(true);
      return `The invitation for ${invitation.email} was revoked.`;
    }),
  );
  const mine = invitation.role !== "owner" || org.role === "owner";
  return h(
    "li",
    { class: "item" },
    h("div", {}, h("p", { class: "item-title" }, invitation.email), h("p", { class: "item-meta" }, meta)),
    mine ? revoke : null,
  );
}

/** The members and invitations, for owners and admins; a plain member is told who may. */
async function loadMembers() {
  const list = $("#member-list");
  if (!MANAGERS.includes(org.role)) {
    const note = `Only owners and admins of ${org.name} see and manage its members; you're ${a(org.role)}.`;
    list.replaceChildren(h("li", { class: "item empty" }, note));
    $("#invite-card").hidden = true;
    return;
  }
  const { members, invitations } = await api("GET", `/orgs/${orgId}/members`).catch((error) =>
    Promise.reject(reword(error, "forbidden", NOT_ALLOWED())),
  );
  $("#members-count").textContent = `${org.name} has ${plural(members.length, "member")}.`;
  list.replaceChildren(...members.map(memberItem));
  $("#invitation-list").replaceChildren(...invitations.map(invitationItem));
  if (!invitations.length) $("#invitation-list").append(h("li", { class: "item empty" }, "No pending invitations."));
  $("#invite-role").replaceChildren(
    ...ROLES.filter((role) => mayManage({ role: "member" }, role)).map((role) =>
      h("option", { value: role }, role[0].toUpperCase() + role.slice(1)),
    ),
  );
  $("#invite-card").hidden = false;
}

async function load(everything) {
  const [mine, details] = await Promise.all([api("GET", "/me"), api("GET", `/orgs/${orgId}`)]);
  me = mine;
  org = details;
  $("#nav-email").textContent = me.email;
  $("#org-title").textContent = `Members of ${org.name}`;
  $("#org-role").textContent = `You're ${a(org.role)} of ${org.name}.`;
  document.title = `Members of ${org.name} · Step-Up Auth Lab`;
  showWindow(me.reauth.recent ? me.reauth.expires_in : null);
  $("#leave-card").hidden = false;
  if (everything) await loadMembers();
}

/** Reload; a page for an org you're not in (or no longer in) says so. */
function refresh(everything) {
  const work = async () => {
    try {
      await load(everything);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      for (const card of document.querySelectorAll(".card")) card.hidden = true;
      $("#org-title").textContent = "Organization not found";
      $("#org-role").textContent = "It does not exist, or you're not one of its members.";
    }
    return "";
  };
  return attempt($("#page-status"), null, work, "");
}

onSubmit(
  $("#invite-form"),
  statusOf("invite-card"),
  async ({ email, role }, form) => {
    if (!email.trim()) throw new FieldError($("#invite-email"), "Enter the email address to invite.");
    const purpose = `invite ${email.trim()} to ${org.name}`;
    const result = await api("POST", `/orgs/${orgId}/members`, { email: email.trim(), role }, purpose).catch(explain);
    form.reset();
    await load(true);
    return result.message;
  },
  "Sending the invitation…",
);

$("#leave").addEventListener("click", (event) =>
  attempt(statusOf("leave-card"), event.currentTarget, async () => {
    await api("DELETE", `/orgs/${orgId}/members/${me.id}`, undefined, `leave ${org.name}`);
    window.location.assign("/account");
    return `You left ${org.name}.`;
  }),
);

signedInPage(refresh);
