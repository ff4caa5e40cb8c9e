// Where the invitation mail's link lands: the invitations to the signed-in address, each to
// accept or decline. Accepting needs no confirmation (it only gives you something); it needs
// the address verified, which proves the mail was yours to read.
import { ApiError, api } from "./api.js";
import { signedInPage } from "./signed-in.js";
import { $, attempt, h, when } from "./ui.js";

const status = $("#invitations-card [data-status]");
const a = (role) => (role === "member" ? `a ${role}` : `an ${role}`);
let email = document.body.dataset.account || "";

function answerButton(invitation, verb, primary) {
  const button = h("button", { class: `btn btn-small ${primary ? "btn-primary" : "btn-secondary"}`, type: "button" }, verb);
  button.setAttribute("aria-label", `${verb} the invitation to ${invitation.org_name}`);
  button.addEventListener("click", () =>
    attempt(status, button, async () => {
      await api("POST", `/me/invitations/${invitation.id}/${verb.toLowerCase()}`, undefined, `${verb.toLowerCase()} the invitation to ${invitation.org_name}`);
      await loadInvitations();
      return verb === "Accept"
        ? `You joined ${invitation.org_name} as ${a(invitation.role)}.`
        : `You declined the invitation to ${invitation.org_name}.`;
    }),
  );
  return button;
}

function invitationItem(invitation) {
  const meta = `As ${a(invitation.role)} · answer by ${when(invitation.expires_at)}`;
  return h(
    "li",
    { class: "item" },
    h("div", {}, h("p", { class: "item-title" }, invitation.org_name), h("p", { class: "item-meta" }, meta)),
    h("div", { class: "button-row" }, answerButton(invitation, "Accept", true), answerButton(invitation, "Decline", false)),
  );
}

async function loadInvitations() {
  const list = $("#invitation-list");
  let invitations;
  try {
    invitations = await api("GET", "/me/invitations");
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "email_unverified") throw error;
    // Only the person who reads the invited inbox may join: the address must be proven first.
    list.replaceChildren(h("li", { class: "item empty" }, `${error.message}. Then open this page again.`));
    return;
  }
  list.replaceChildren(...invitations.map(invitationItem));
  if (!invitations.length) {
    const none = `No pending invitations for ${email}. An invitation is for the address it was mailed to: sign in with that one to answer it.`;
    list.append(h("li", { class: "item empty" }, none, " ", h("a", { href: "/account" }, "Back to your account")));
  }
}

function refresh() {
  const work = async () => {
    const me = await api("GET", "/me");
    email = me.email;
    $("#nav-email").textContent = email;
    $("#invitations-for").textContent = email;
    await loadInvitations();
    return "";
  };
  return attempt($("#page-status"), null, work, "");
}

signedInPage(refresh);
