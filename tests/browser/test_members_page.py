"""The members page: members with their roles, inviting by email, accepting from the mail's
link, changing a role and removing someone through the same "Confirm your identity" dialog,
and the server's refusals shown when the person may not."""

from collections.abc import Callable

import pytest
from browser_helpers import (
    PASSWORD,
    account_loaded,
    arrived,
    confirm_with_password,
    dialog,
    dialog_opens,
    expire_window,
    screenshot,
    signed_in,
)
from playwright.sync_api import Page, expect

from course_kit.lab import Lab

pytestmark = pytest.mark.browser

NewEmail = Callable[[str], str]


def role_of(live: Lab, org_id: int, email: str) -> str | None:
    rows = live.query(
        "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id"
        " WHERE m.org_id = ? AND u.email = ?",
        org_id,
        email,
    )
    return rows[0][0] if rows else None


def test_an_owner_invites_changes_a_role_and_removes_someone(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    alice, bob, dave = new_email("alice"), new_email("bob"), new_email("dave")
    owner = live.person(alice)
    org_id = live.create_org(owner, "Acme")
    live.person(bob)
    live.add_member(owner, org_id, bob, "member")
    signed_in(page, alice)

    page.get_by_role("link", name="Members of Acme").click()
    expect(page).to_have_url(f"/organizations/{org_id}/members")
    expect(page.get_by_role("heading", level=1)).to_have_text("Members of Acme")
    expect(page.locator("#org-role")).to_have_text("You're an owner of Acme.")
    expect(page.locator("#members-count")).to_have_text("Acme has 2 members.")
    members = page.get_by_role("list", name="Members")
    expect(members.locator(".item-title")).to_have_text([f"{alice}You", bob])
    expect(members.locator(".item-meta")).to_have_text(["Role: owner", "Role: member"])
    status = page.locator("#members-card [data-status]")

    page.get_by_label("Email address to invite").fill(dave)
    page.get_by_label("Role", exact=True).select_option("admin")
    page.get_by_role("button", name="Send invitation").click()
    expect(dialog(page)).to_contain_text(f"To invite {dave} to Acme, confirm it's you.")
    confirm_with_password(page)
    expect(page.locator("#invite-card [data-status]")).to_have_text(f"Invitation sent to {dave}.")
    invitations = page.get_by_role("list", name="Pending invitations")
    expect(invitations).to_contain_text(dave)
    expect(invitations).to_contain_text("Invited as admin")

    # Inside the window: no dialog for the role change.
    page.get_by_label(f"Role of {bob}", exact=True).select_option("admin")
    page.get_by_role("button", name=f"Change the role of {bob}").click()
    expect(status).to_have_text(f"{bob} is now an admin.")
    assert role_of(live, org_id, bob) == "admin"
    page.mouse.move(0, 0)
    screenshot(page, "members.png", full_page=True)

    # The last owner cannot step down: the server's refusal, and nothing changed.
    page.get_by_label(f"Role of {alice}", exact=True).select_option("admin")
    page.get_by_role("button", name=f"Change the role of {alice}").click()
    expect(status).to_have_text(
        "An organization needs an owner: make someone else an owner first. Nothing was changed."
    )
    assert role_of(live, org_id, alice) == "owner"

    # The window closed: removing asks again, through the same dialog.
    expire_window(live, alice)
    page.get_by_role("button", name=f"Remove {bob}").click()
    expect(dialog(page)).to_contain_text(f"To remove {bob} from Acme, confirm it's you.")
    confirm_with_password(page)
    expect(status).to_have_text(f"{bob} was removed from Acme.")
    expect(members.get_by_role("listitem")).to_have_count(1)
    expect(page.locator("#members-count")).to_have_text("Acme has 1 member.")
    assert role_of(live, org_id, bob) is None
    assert dialog_opens(page) == 2


def test_accepting_an_invitation_from_the_mail_link(
    page: Page, live: Lab, new_email: NewEmail
) -> None:
    alice, dave = new_email("alice"), new_email("dave")
    owner = live.person(alice)
    org_id = live.create_org(owner, "Hopper Labs")
    live.enroll(dave)
    assert live.confirm(owner).status_code == 200
    r = owner.post(f"/orgs/{org_id}/members", json={"email": dave, "role": "admin"})
    assert r.status_code == 202, r.text

    page.goto("/dev/mailbox")
    page.get_by_placeholder("Filter by recipient").fill(dave)
    page.get_by_role("button", name="Filter").click()
    mail = page.locator(".mail").filter(has_text="You are invited to join an organization")
    expect(mail).to_have_count(1)
    expect(mail).to_contain_text(dave)
    mail.get_by_role("button", name="Open link").click()
    arrived(page, "/signin?next=%2Finvitations")  # sign in first, then come back
    sign_in_form = page.locator("#password-form")
    sign_in_form.get_by_label("Email").fill(dave)
    sign_in_form.get_by_label("Password").fill(PASSWORD)
    sign_in_form.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url("/invitations")
    invitation = page.get_by_role("list", name="Your invitations").get_by_role("listitem")
    expect(invitation).to_contain_text("Hopper Labs")
    expect(invitation).to_contain_text("As an admin")
    screenshot(page, "invitations.png")
    page.get_by_role("button", name="Accept the invitation to Hopper Labs").click()
    expect(page.locator("#invitations-card [data-status]")).to_have_text(
        "You joined Hopper Labs as an admin."
    )
    assert role_of(live, org_id, dave) == "admin"
    expect(invitation).to_contain_text(f"No pending invitations for {dave}")


def test_what_an_admin_and_a_member_may_not_do(page: Page, live: Lab, new_email: NewEmail) -> None:
    """Bob, an admin, sees no control over the owner. Demoted to member while the page is
    open, his role change is refused ("forbidden", before any dialog) and the page says so;
    reloaded, it shows a member's view, from which he may only leave."""
    alice, bob, carol = new_email("alice"), new_email("bob"), new_email("carol")
    owner = live.person(alice)
    org_id = live.create_org(owner, "Acme")
    for email, role in ((bob, "admin"), (carol, "member")):
        live.person(email)
        live.add_member(owner, org_id, email, role)
    signed_in(page, bob)
    page.goto(f"/organizations/{org_id}/members")

    expect(page.get_by_label(f"Role of {carol}", exact=True)).to_be_visible()
    expect(page.get_by_label(f"Role of {alice}", exact=True)).to_have_count(
        0
    )  # an owner: not his to change
    expect(page.get_by_role("button", name=f"Remove {alice}")).to_have_count(0)
    expect(page.get_by_label("Role", exact=True).locator("option")).to_have_text(
        ["Member", "Admin"]
    )

    with live.db() as conn:
        conn.execute(
            "UPDATE memberships SET role = 'member' WHERE org_id = ? AND user_id ="
            " (SELECT id FROM users WHERE email = ?)",
            (org_id, bob),
        )
    page.get_by_label(f"Role of {carol}", exact=True).select_option("admin")
    page.get_by_role("button", name=f"Change the role of {carol}").click()
    expect(page.locator("#members-card [data-status]")).to_have_text(
        "Forbidden: only owners and admins manage the members of Acme, and only an owner"
        " changes an owner's role. Nothing was changed."
    )
    assert dialog_opens(page) == 0
    assert role_of(live, org_id, carol) == "member"

    page.reload()
    expect(page.locator("#member-list")).to_have_text(
        "Only owners and admins of Acme see and manage its members; you're a member."
    )
    expect(page.locator("#invite-card")).to_be_hidden()
    page.get_by_role("button", name="Leave the organization").click()
    confirm_with_password(page)
    account_loaded(page, bob)
    expect(page.get_by_role("article", name="Acme")).to_have_count(0)
    assert role_of(live, org_id, bob) is None
