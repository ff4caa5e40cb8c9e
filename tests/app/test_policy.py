"""The step-up policy (``course_app/policy.py``), black box: every row over HTTP, for an account
with a second factor and for one with a password only; the rules of levels and windows; and the
RFC 9470 challenge of every ``reauth_required`` 403, read by a standard parser (werkzeug's)."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from app_helpers import PASSWORD, confirm
from fastapi.testclient import TestClient
from freezegun.api import FrozenDateTimeFactory
from test_guard_order import api_routes, calls
from werkzeug.datastructures import WWWAuthenticate

from course_app import deps
from course_app.app import create_app
from course_app.errors import ReauthRequired
from course_app.policy import (
    ACR_VALUES,
    ACTIONS,
    POLICY,
    BadPolicyRow,
    Level,
    Requirement,
    level_of,
    required_level,
)
from course_kit.impl import resolve
from course_kit.lab import Lab
from course_kit.manifest import load_course
from course_kit.people import lab_settings

CAROL, DAVE = "carol@example.com", "dave@example.com"
ANY, SECOND = "any_factor", "second_factor"


@dataclass
class World:
    """Carol (two-factor on, or a password only) owns an org with Dave in it."""

    lab: Lab
    carol: TestClient
    org: int
    dave: int
    codes: list[str]

    def send(self, method: str, path: str, body: Any) -> httpx.Response:
        url = path.format(org=self.org, dave=self.dave)
        return self.carol.request(method, url, json=body)


def world(lab: Lab, two_factor: bool) -> World:
    carol = lab.person(CAROL, PASSWORD, two_factor=two_factor)
    org = lab.create_org(carol, "Carol's shop")
    lab.person(DAVE, PASSWORD)
    lab.add_member(carol, org, DAVE)
    codes = lab.recovery_codes(CAROL) if two_factor else []
    return World(lab, carol, org, int(lab.user(DAVE)["id"]), codes)


# (action, its level, a request that stands for it). The answer once let through varies (a
# 404 for an id nobody has, a 409 for a state the action needs): the guard is what is tested.
ROWS = [
    ("change_email", ANY, "PUT", "/me/email", {"email": "carol@new.example"}),
    ("change_password", ANY, "PUT", "/me/password", {"new_password": "a brand new phrase"}),
    ("remove_password", ANY, "DELETE", "/me/password", None),
    ("revoke_session", ANY, "DELETE", "/me/sessions/999999", None),
    ("delete_account", SECOND, "DELETE", "/me", None),
    ("setup_two_factor", SECOND, "POST", "/me/2fa/setup", None),
    ("disable_two_factor", SECOND, "POST", "/me/2fa/disable", {"code": "000000"}),
    ("add_passkey", SECOND, "POST", "/me/passkeys/options", None),
    ("create_api_key", ANY, "POST", "/orgs/{org}/api-keys", {"name": "ci"}),
    ("revoke_api_key", ANY, "DELETE", "/orgs/{org}/api-keys/999999", None),
    ("invite_member", ANY, "POST", "/orgs/{org}/members", {"email": "erin@example.com"}),
    ("grant_owner", SECOND, "POST", "/orgs/{org}/members", {"email": "e@x.test", "role": "owner"}),
    ("grant_owner", SECOND, "PATCH", "/orgs/{org}/members/{dave}", {"role": "owner"}),
    ("change_role", ANY, "PATCH", "/orgs/{org}/members/{dave}", {"role": "admin"}),
    ("revoke_invitation", ANY, "DELETE", "/orgs/{org}/invitations/999999", None),
    ("remove_member", ANY, "DELETE", "/orgs/{org}/members/{dave}", None),
    ("set_verified_domain", ANY, "PUT", "/orgs/{org}/verified-domain", {"domain": None}),
]
PASSKEY_ROWS = {"remove_passkey", "remove_last_passkey"}  # test_passkeys.py and below
ROW_IDS = [f"{row[0]}:{row[2]}" for row in ROWS]


def let_through(r: httpx.Response) -> None:
    """Past the guards: whatever the route then answers (2FA off with a wrong code is its
    own 401 ``invalid_credentials``), it is not the guards' 401 or 403."""
    assert r.status_code < 500, r.text
    code = r.json().get("code") if r.content else None
    assert code not in ("not_authenticated", "forbidden", "reauth_required"), r.text


def challenge_of(r: httpx.Response) -> WWWAuthenticate:
    """The 403's challenge, as a standard parser reads it, and checked against the body."""
    assert r.status_code == 403, r.text
    body = r.json()
    assert body["code"] == "reauth_required", r.text
    parsed = WWWAuthenticate.from_header(r.headers["www-authenticate"])
    assert parsed is not None, r.headers
    assert parsed.type == "bearer"
    params = parsed.parameters
    assert params["error"] == "insufficient_user_authentication"
    assert params["max_age"] == str(body["max_age"])
    level = Level[body["level"].upper()]
    assert params["acr_values"].split() == [ACR_VALUES[at] for at in Level if at >= level]
    assert ACTIONS[body["action"]] in params["error_description"]
    return parsed


@pytest.mark.parametrize(("action", "level", "method", "path", "body"), ROWS, ids=ROW_IDS)
def test_each_row_with_a_second_factor(
    lab: Lab,
    clock: FrozenDateTimeFactory,
    action: str,
    level: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    w = world(lab, two_factor=True)
    confirm(w.carol)  # the password: all a phishing page needs to relay
    r = w.send(method, path, body)
    if level == ANY:
        let_through(r)
        return
    challenge_of(r)
    assert r.json() | {"error": ""} == {
        "error": "",
        "code": "reauth_required",
        "max_age": 300,
        "methods": ["totp", "recovery_code"],  # never the password
        "level": SECOND,
        "action": action,
    }
    confirm(w.carol, recovery_code=w.codes[0])
    let_through(w.send(method, path, body))


@pytest.mark.parametrize(("action", "level", "method", "path", "body"), ROWS, ids=ROW_IDS)
def test_each_row_with_a_password_only(
    lab: Lab, action: str, level: str, method: str, path: str, body: Any
) -> None:
    """A required level never exceeds what the account has: the password does everything."""
    w = world(lab, two_factor=False)
    r = w.send(method, path, body)
    assert challenge_of(r).parameters["acr_values"].startswith(ACR_VALUES[Level.ANY_FACTOR])
    assert r.json()["methods"] == ["password"], r.text
    confirm(w.carol)
    let_through(w.send(method, path, body))


def test_the_rows_cover_every_action_and_every_guarded_route(lab: Lab) -> None:
    guarded = {
        route.name
        for route in api_routes(lab.app.routes)
        if deps.require_recent_auth in calls(route.dependant, [])
    }
    asked_by_routes = {"grant_owner", "remove_last_passkey"}  # StepUp.require, by name
    assert guarded | asked_by_routes == set(ACTIONS) == set(POLICY)
    assert {row[0] for row in ROWS} | PASSKEY_ROWS == set(ACTIONS)


def test_every_action_is_explained_in_the_docs() -> None:
    text = (Path(__file__).parents[2] / "docs" / "reference-app.md").read_text(encoding="utf-8")
    missing = [action for action in ACTIONS if f"`{action}`" not in text]
    assert not missing, f"docs/reference-app.md does not explain {missing}"


# The rules ------------------------------------------------------------------------------------


def test_a_level_refusal_does_not_restart_or_close_the_window(
    lab: Lab, clock: FrozenDateTimeFactory
) -> None:
    """Only the level is short: the password's stamp is left as it was. It still opens the
    any-factor actions, until it expires at +300 s exactly as it would have."""
    w = world(lab, two_factor=True)
    confirm(w.carol)
    clock.tick(100)
    assert w.carol.delete("/me").json()["code"] == "reauth_required"
    reauth = w.carol.get("/me").json()["reauth"]
    assert (reauth["method"], reauth["level"], reauth["expires_in"]) == ("password", ANY, 200)
    clock.tick(200)
    let_through(w.carol.delete("/me/sessions/999999"))
    clock.tick(1)
    r = w.carol.delete("/me/sessions/999999")
    assert r.status_code == 403 and r.json()["level"] == ANY, r.text


def test_the_latest_confirmation_decides_even_a_weaker_one(
    lab: Lab, clock: FrozenDateTimeFactory
) -> None:
    """Each confirmation stamps the session with its own time and method: a password after a
    recovery code restarts the window at the password's level."""
    w = world(lab, two_factor=True)
    confirm(w.carol, recovery_code=w.codes[0])
    assert w.carol.get("/me").json()["reauth"]["level"] == SECOND
    clock.tick(10)
    confirm(w.carol)
    assert w.carol.delete("/me").json()["level"] == SECOND
    assert w.carol.get("/me").json()["reauth"]["expires_in"] == 300
    confirm(w.carol, recovery_code=w.codes[1])
    let_through(w.carol.delete("/me"))


def test_a_confirmation_in_another_session_does_not_count(
    lab: Lab, clock: FrozenDateTimeFactory
) -> None:
    w = world(lab, two_factor=True)
    clock.tick(30)  # the second sign-in needs a code of its own
    other = lab.client()
    lab.login(other, CAROL, PASSWORD)
    confirm(other, recovery_code=w.codes[0])
    confirm(w.carol)
    assert w.carol.delete("/me").json()["code"] == "reauth_required"


def custom_lab(tmp_path: Path, rows: dict[str, Any]) -> Lab:
    """The reference app with ``rows`` laid over its policy, as an exercise's are."""
    settings = lab_settings(tmp_path)
    exercises = load_course().exercises
    routers = resolve("solutions").routers(exercises)
    return Lab(settings, create_app(settings, routers, rows))


def test_a_row_with_its_own_max_age(tmp_path: Path, clock: FrozenDateTimeFactory) -> None:
    lab = custom_lab(tmp_path, {"revoke_session": Requirement(max_age=60)})
    try:
        alice = lab.person("alice@example.com")
        org = lab.create_org(alice, "Acme")
        confirm(alice)
        clock.tick(60)
        let_through(alice.delete("/me/sessions/999999"))
        clock.tick(1)
        r = alice.delete("/me/sessions/999999")
        assert challenge_of(r).parameters["max_age"] == "60"
        assert r.json()["max_age"] == 60
        r = alice.put(f"/orgs/{org}/verified-domain", json={"domain": None})  # 300 s
        assert r.status_code == 200, r.text
    finally:
        lab.close()


def test_a_phishing_resistant_row_asks_for_a_passkey_only_of_those_who_have_one(
    tmp_path: Path,
) -> None:
    lab = custom_lab(tmp_path, {"revoke_session": Requirement(Level.PHISHING_RESISTANT)})
    try:
        carol = lab.person(CAROL, two_factor=True)
        codes = lab.recovery_codes(CAROL)
        confirm(carol, recovery_code=codes[0])
        let_through(carol.delete("/me/sessions/999999"))  # no passkey: a code is her best
        user_id = lab.user(CAROL)["id"]
        lab.execute(
            "INSERT INTO passkeys (user_id, credential_id, public_key, name, created_at)"
            " VALUES (?, 'k', x'00', 'Phone', '2026-01-15T09:00:00Z')",
            user_id,
        )
        r = carol.delete("/me/sessions/999999")
        assert r.json()["methods"] == ["passkey"], r.text
        assert challenge_of(r).parameters["acr_values"] == "phr"
    finally:
        lab.close()


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ({"delete_acount": Requirement()}, "no action is called 'delete_acount'"),
        ({"delete_account": "second_factor"}, "is not a Requirement"),
        ({"delete_account": Requirement(0)}, "level 0 is not a Level"),  # type: ignore[arg-type]
        ({"delete_account": Requirement(max_age=0)}, "max_age 0 is not whole seconds"),
        ({"delete_account": Requirement(max_age=-5)}, "max_age -5 is not whole seconds"),
        ({"delete_account": Requirement(max_age=2.5)}, "max_age 2.5"),  # type: ignore[arg-type]
        ({"delete_account": Requirement(max_age=True)}, "max_age True"),
        ({"add_passkey": Requirement()}, "asks any_factor, less than the app's second_factor"),
        ({"disable_two_factor": Requirement()}, "a row may only make an action stricter"),
    ],
    ids=[
        "unknown action",
        "not a Requirement",
        "a plain int for a level",
        "max_age 0",
        "a negative max_age",
        "a fraction of a second",
        "a bool for seconds",
        "a weaker add_passkey",
        "a weaker disable_two_factor",
    ],
)
def test_a_bad_row_stops_the_app_from_being_built(
    tmp_path: Path, rows: dict[str, Any], said: str
) -> None:
    """A row the guard could not honour, or one that undoes a defence (a phished password
    enrolling the attacker's passkey), is an error at start-up: never a 500 at the first
    request, never a silently weaker app."""
    with pytest.raises(BadPolicyRow, match=re.escape(said)):
        create_app(lab_settings(tmp_path), (), rows)


def test_a_row_shortens_the_window_but_never_lengthens_it(
    tmp_path: Path, clock: FrozenDateTimeFactory
) -> None:
    lab = custom_lab(tmp_path, {"revoke_session": Requirement(max_age=10**14)})
    try:
        alice = lab.person("alice@example.com")
        confirm(alice)
        clock.tick(301)
        r = alice.delete("/me/sessions/999999")
        assert r.status_code == 403, r.text
        assert r.json()["max_age"] == 300 and challenge_of(r).parameters["max_age"] == "300"
    finally:
        lab.close()


def test_the_challenge_is_plain_ascii_without_quotes_inside() -> None:
    """RFC 6750 allows no other characters in error_description."""
    for action in ACTIONS:
        for level in Level:
            header = ReauthRequired(300, [], level, action).headers or {}
            value = header["WWW-Authenticate"]
            inner = value.split('error_description="', 1)[1].split('"', 1)[0]
            assert inner.isascii() and "\\" not in inner, value
            parsed = WWWAuthenticate.from_header(value)
            assert parsed is not None and parsed.parameters["error_description"] == inner


def test_what_each_method_proves() -> None:
    assert [level_of(m) for m in ("password", "totp", "recovery_code", "passkey")] == [
        Level.ANY_FACTOR,
        Level.SECOND_FACTOR,
        Level.SECOND_FACTOR,
        Level.PHISHING_RESISTANT,
    ]
    assert level_of(None) == Level.ANY_FACTOR
    assert required_level(Level.PHISHING_RESISTANT, ["password", "totp"]) == Level.SECOND_FACTOR
