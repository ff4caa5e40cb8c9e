"""The page states the accessibility and reflow tests walk through: every page signed out;
then signed in with something in every list (an org with an API key, a member and a pending
invitation; an invitation waiting), with two-factor authentication off and on; the members
page as an owner and as a member; the invitations page; and the dialog open on its methods
with an error."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from browser_helpers import (
    PASSWORD,
    TotpDevice,
    account_loaded,
    change_email,
    dialog,
    sign_in_with_totp,
    signed_in,
    with_totp,
)
from playwright.sync_api import Page, expect

from course_kit.lab import Lab

PUBLIC_PAGES = {
    "/signin": "Sign in",
    "/signup": "Create your account",
    "/forgot-password": "Reset your password",
    "/reset-password?token=x": "Choose a new password",
    "/verify-email?token=x": "This link does not work",  # the notice page
    "/dev/mailbox": "Dev mailbox",
}


@dataclass
class Cast:
    """Ally: owner of Ally Labs (an API key, a member, a pending invitation), invited to
    Other Labs. Carol: TOTP on, a member of Ally Labs."""

    ally: str
    carol: str
    carol_device: TotpDevice
    org_id: int


def cast(live: Lab, new_email: Callable[[str], str]) -> Cast:
    ally, carol, olga = new_email("ally"), new_email("carol"), new_email("olga")
    owner = live.person(ally)
    org_id = live.create_org(owner, "Ally Labs")
    assert live.confirm(owner).status_code == 200
    r = owner.post(f"/orgs/{org_id}/api-keys", json={"name": "deploys"})
    assert r.status_code == 201, r.text
    r = owner.post(f"/orgs/{org_id}/members", json={"email": new_email("dave"), "role": "admin"})
    assert r.status_code == 202, r.text
    other = live.person(olga)
    other_id = live.create_org(other, "Other Labs")
    assert live.confirm(other).status_code == 200
    r = other.post(f"/orgs/{other_id}/members", json={"email": ally, "role": "member"})
    assert r.status_code == 202, r.text
    device = with_totp(live, carol)
    live.add_member(owner, org_id, carol)
    return Cast(ally, carol, device, org_id)


def page_states(page: Page, live: Lab, new_email: Callable[[str], str]) -> Iterator[str]:
    """Bring ``page`` into each state in turn; yields the state's name."""
    for path, heading in PUBLIC_PAGES.items():
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        yield path

    people = cast(live, new_email)
    signed_in(page, people.ally)
    keys = page.get_by_role("list", name="API keys of Ally Labs")
    expect(keys.locator(".item-title")).to_have_text(["deploys"])
    expect(page.locator("#invitations-note")).to_contain_text("1 invitation")
    expect(page.locator("#session-list .item")).not_to_have_count(0)
    yield "/account, two-factor off"

    page.goto(f"/organizations/{people.org_id}/members")
    expect(page.get_by_role("list", name="Pending invitations")).to_contain_text("dave")
    expect(page.get_by_role("list", name="Members").get_by_role("listitem")).to_have_count(2)
    yield "the members page, as an owner"

    page.goto("/invitations")
    expect(page.get_by_role("list", name="Your invitations")).to_contain_text("Other Labs")
    yield "/invitations"

    page.context.clear_cookies()
    sign_in_with_totp(page, people.carol, people.carol_device.code())
    expect(page.locator("#twofa-state")).to_have_text("On")
    yield "/account, two-factor on"

    page.goto(f"/organizations/{people.org_id}/members")
    expect(page.locator("#member-list")).to_contain_text("you're a member")
    yield "the members page, as a member"

    page.goto("/account")
    account_loaded(page, people.carol)
    change_email(page, new_email("carol.new"))
    dialog(page).get_by_role("button", name="Use another method").click()
    page.locator("#confirm-methods").get_by_label("Password").check()
    dialog(page).get_by_label("Your password").fill(f"not {PASSWORD}")
    dialog(page).get_by_role("button", name="Confirm").click()
    expect(dialog(page).get_by_role("alert")).to_contain_text("Invalid credentials")
    yield "the dialog, with its methods and an error"
