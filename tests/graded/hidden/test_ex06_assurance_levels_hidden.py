"""Hidden graded tests for exercise 6: run when graded, never shipped.

Other inputs to the same rules: a recovery code is a second factor, the window still applies,
and challenges written by other servers (any case, tokens, escapes, no spaces).
"""

import pytest

from course_kit.testing import Lab, expect, expect_let_through, expect_status, task

CAROL = "carol@example.com"


@task("ex06", 1)
def test_a_recovery_code_is_a_second_factor_too(make_lab) -> None:
    lab: Lab = make_lab("ex06")
    carol = lab.person(CAROL, two_factor=True)
    code = lab.recovery_codes(CAROL)[0]
    expect_status(lab.confirm(carol), 200, "POST /auth/confirm with the password")
    body = expect_status(carol.delete("/me"), 403, "DELETE /me, password", "reauth_required")
    expect(
        body.get("methods") == ["totp", "recovery_code"], f"the 403 listed {body.get('methods')}"
    )
    expect_status(lab.confirm(carol, recovery_code=code), 200, "POST /auth/confirm, recovery code")
    expect_let_through(carol.delete("/me"), "DELETE /me after a recovery code")


@task("ex06", 1)
def test_a_strong_confirmation_still_expires(make_lab, clock) -> None:
    lab: Lab = make_lab("ex06")
    carol = lab.person(CAROL, two_factor=True)
    clock.tick(30)
    expect_status(lab.confirm(carol, code=lab.totp(CAROL)), 200, "POST /auth/confirm, code")
    clock.tick(301)
    r = carol.delete("/me")
    expect_status(r, 403, "DELETE /me 301 s after confirming with the code", "reauth_required")


@task("ex06", 2)
@pytest.mark.parametrize(
    ("header", "wanted"),
    [
        (
            'bearer ERROR=insufficient_user_authentication,max_age=120,ACR_VALUES="phr"',
            {"acr_values": ["phr"], "max_age": 120, "description": ""},
        ),
        (
            'Bearer  error="insufficient_user_authentication" , error_description="Say'
            ' \\"yes\\", then go"',
            {"acr_values": [], "max_age": None, "description": 'Say "yes", then go'},
        ),
        (  # an escaped backslash is one backslash: unescaping twice loses it
            'Bearer error=insufficient_user_authentication, error_description="Files in'
            ' C:\\\\new, \\"now\\""',
            {"acr_values": [], "max_age": None, "description": 'Files in C:\\new, "now"'},
        ),
    ],
)
def test_challenges_written_another_way(student_of, header: str, wanted: dict) -> None:
    got = student_of("ex06").call("read_challenge", header)
    expect(got == wanted, f"read_challenge({header!r}) returned {got!r}, expected {wanted}")


@task("ex06", 3)
def test_the_persons_order_is_kept_and_unknown_ways_left_out(student_of) -> None:
    challenge = {"acr_values": ["phr", "urn:stepup-lab:acr:second-factor"], "max_age": 60}
    got = student_of("ex06").call("ways_to_confirm", challenge, ["passkey", "sms", "totp"])
    expect(got == ["passkey", "totp"], f"ways_to_confirm returned {got!r}, expected passkey, totp")
