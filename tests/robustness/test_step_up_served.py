"""The step-up policy on a real ``stepup serve`` (issue 20's "done when"): Carol, the demo
account with TOTP on, confirms with her password alone and is refused every second-factor
action, with ``methods`` that leave the password out and an RFC 9470 challenge a standard
parser reads; confirming with her authenticator code then lets them through.

No clock is frozen here (a real server reads the real one), so nothing waits for a TOTP step:
she signs in with a recovery code, which leaves the current step's code unspent."""

from pathlib import Path

import httpx
import pyotp
from server_process import running
from werkzeug.datastructures import WWWAuthenticate

from course_app.seed import CAROL_RECOVERY_CODES, CAROL_TOTP_SECRET

CAROL = {"email": "carol@example.com", "password": "carol-demo-pass"}
SECOND_FACTOR_ACTIONS = [
    ("POST", "/me/2fa/disable", {"recovery_code": CAROL_RECOVERY_CODES[1]}),
    ("DELETE", "/me", None),
    ("POST", "/me/passkeys/options", None),
    ("POST", "/me/2fa/setup", None),
]


def refused_for_its_level(r: httpx.Response) -> None:
    assert r.status_code == 403, r.text
    body = r.json()
    assert body["code"] == "reauth_required" and body["level"] == "second_factor", r.text
    assert "password" not in body["methods"] and body["methods"], r.text
    parsed = WWWAuthenticate.from_header(r.headers["www-authenticate"])
    assert parsed is not None and parsed.type == "bearer", r.headers
    assert parsed.parameters["error"] == "insufficient_user_authentication"
    assert parsed.parameters["acr_values"].split()[0] == "urn:stepup-lab:acr:second-factor"
    assert parsed.parameters["max_age"] == str(body["max_age"])


def test_carol_on_a_real_server(tmp_path: Path) -> None:
    with running(tmp_path, "--dev") as served, served.client() as carol:
        r = carol.post("/auth/login", json=CAROL)
        assert r.status_code == 200 and r.json()["two_factor_required"], r.text
        r = carol.post("/auth/login/2fa", json={"recovery_code": CAROL_RECOVERY_CODES[0]})
        assert r.status_code == 200, r.text

        r = carol.post("/auth/confirm", json={"password": CAROL["password"]})
        assert r.status_code == 200, r.text
        for method, path, body in SECOND_FACTOR_ACTIONS:
            refused_for_its_level(carol.request(method, path, json=body))
        assert carol.put("/orgs/999999/verified-domain", json={"domain": None}).status_code == 404

        code = pyotp.TOTP(CAROL_TOTP_SECRET).now()
        r = carol.post("/auth/confirm", json={"code": code})
        assert r.status_code == 200, r.text
        r = carol.post("/me/passkeys/options")
        assert r.status_code == 200, r.text
        r = carol.post("/me/2fa/disable", json={"recovery_code": CAROL_RECOVERY_CODES[1]})
        assert r.status_code == 200, r.text
