"""The notebook helpers (course_kit.notebook) on their own: the app follows the student's edits,
the routes tour finds every guard, the check table never raises, a frozen clock never outlives
its cell, Jupyter stays lazy."""

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

import course_kit.notebook as nb
from course_kit.kit import KIT_ROOT
from course_kit.notebook.__main__ import KERNELSPEC, run

pytestmark = pytest.mark.notebook


def copy_of(folder: str, tmp_path: Path) -> Path:
    target = tmp_path / "submission"
    shutil.copytree(KIT_ROOT / folder, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_the_lab_follows_edits_to_the_exercise_files(tmp_path: Path) -> None:
    folder = copy_of("solutions", tmp_path)
    lab = nb.start(str(folder))
    alice = lab.person("alice@example.com")
    r = alice.put("/me/email", json={"email": "alice@new.example"})
    assert r.status_code == 403, r.text
    ex01 = folder / "ex01_email_change.py"
    guarded = ex01.read_text(encoding="utf-8")
    ex01.write_text(guarded.replace("    _: RecentAuth,", "", 1), encoding="utf-8")
    r = alice.put("/me/email", json={"email": "alice@new.example"})
    assert r.status_code == 200, f"the lab still runs the old file: {r.text}"
    assert lab.app.builds == 2
    lab.close()


def test_a_crash_in_a_route_shows_as_one_readable_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = copy_of("solutions", tmp_path)
    ex01 = folder / "ex01_email_change.py"
    lines = ex01.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(n for n, line in enumerate(lines) if "new_email = check_new_email(" in line)
    lines.insert(at, "        raise ValueError('oops')\n")
    ex01.write_text("".join(lines), encoding="utf-8")
    lab = nb.start(str(folder))
    alice = lab.person("alice@example.com")
    lab.confirm(alice)
    r = alice.put("/me/email", json={"email": "alice@new.example"})
    raised = f"submission/ex01_email_change.py:{at + 1} raised ValueError: oops"
    assert r.status_code == 500, r.text
    assert nb.describe(r) == f"500 — {raised} ← PUT /me/email"
    row = nb.outcomes([("change", "200", r)]).rows[0]
    assert row[2:] == ["500 internal", "✗", raised], row
    assert not [rec for rec in caplog.records if rec.exc_info], "a traceback was logged"
    ex01.write_text("".join(lines[:at]), encoding="utf-8")  # cut off mid-function
    r = alice.put("/me/email", json={"email": "alice@new.example"})
    assert r.status_code == 500, r.text
    assert "submission/ex01_email_change.py has a syntax error" in nb.describe(r), r.text
    lab.close()


def test_a_person_asked_for_again_comes_back_as_first_made(tmp_path: Path) -> None:
    lab = nb.start("solutions")
    erin = lab.person("erin@example.com")
    lab.confirm(erin)
    r = erin.put("/me/email", json={"email": "erin@new.example"})
    assert r.status_code == 200, r.text
    r = erin.put("/me/password", json={"new_password": "erin's new passphrase"})
    assert r.status_code == 200, r.text
    again = lab.person("erin@example.com")  # the cell runs a second time
    me = again.get("/me").json()
    assert (me["email"], me["email_verified"]) == ("erin@example.com", True), me
    assert len(lab.query("SELECT id FROM users")) == 1, "a second Erin was made"
    lab.confirm(again)
    r = again.put("/me/email", json={"email": "erin@new.example"})
    assert r.status_code == 200, r.text
    lab.close()


def test_the_check_table_never_raises(tmp_path: Path) -> None:
    folder = copy_of("exercises", tmp_path)
    (folder / "ex04_why_reset_email_verified.py").write_text("ANSWERS = {\n", encoding="utf-8")
    table = nb.check("ex04", str(folder))
    assert table.attrs["data-passed"] == "0"
    assert "has a syntax error on line" in str(table.rows[0][4]), table.rows
    nowhere = nb.check("ex04", str(tmp_path / "no-such-folder"))
    assert nowhere.attrs["data-passed"] == "0"
    assert "the check could not run" in nowhere.footer


def test_the_routes_tour_lists_every_route_that_needs_a_session() -> None:
    lab = nb.start("solutions")
    guards = {(row[0], row[1]): row[2:5] for row in lab.routes().rows}
    # Guarded by CurrentSession alone, with no CurrentUser in front of it.
    assert guards[("GET", "/me/sessions")] == ["session", "", ""], guards
    assert guards[("POST", "/auth/logout")] == ["session", "", ""], guards
    assert guards[("PUT", "/me/email")] == ["session", "", "yes"], guards
    assert guards[("POST", "/orgs/{org_id}/api-keys")] == ["session", "org:settings", "yes"]
    assert guards[("GET", "/api/org")] == ["API key", "", ""], guards
    lab.close()


def test_time_travel_moves_a_frozen_clock_and_lets_go() -> None:
    with nb.time_travel() as clock:
        clock.tick(minutes=4, seconds=59)
        assert clock.elapsed == 299
        assert nb.mmss(clock.elapsed) == "+4:59"
    assert abs((datetime.now(UTC) - clock.start).total_seconds()) < 60, "the clock stayed frozen"


def test_a_frozen_clock_never_outlives_its_cell(tmp_path: Path) -> None:
    cells = [
        "from datetime import UTC, datetime\n"
        "import course_kit.notebook as nb\n"
        "trip = nb.time_travel(datetime(2001, 1, 1, tzinfo=UTC))\n"
        "clock = trip.__enter__()  # left open on purpose\n"
        "datetime.now().year",
        "datetime.now().year",
    ]
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"c{n}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for n, source in enumerate(cells)
        ],
        "metadata": {"kernelspec": KERNELSPEC},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "trip.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    done = run(path, "solutions")
    assert done.error is None, done.error
    years = [
        output["data"]["text/plain"]
        for cell in done.notebook.cells
        for output in cell.outputs
        if output.get("output_type") == "execute_result"
    ]
    assert years[0] == "2001"
    assert years[1] != "2001", "the frozen clock was still frozen in the next cell"


def test_outcomes_and_attempt_show_what_happened() -> None:
    def stub() -> None:
        raise NotImplementedError("task 1: recognise a step-up challenge")

    shown = nb.attempt(stub)
    assert isinstance(shown, nb.NotYet)
    assert repr(shown) == "not implemented yet (task 1: recognise a step-up challenge)"
    request = httpx.Request("PUT", "http://localhost:8000/me/email")
    refused = httpx.Response(403, json={"code": "reauth_required"}, request=request)
    table = nb.outcomes(
        [
            ("exact code", "403 reauth_required", refused),
            ("any 403", "403", refused),
            ("wrong code", "403 forbidden", refused),
            ("not a bool", True, shown),
        ]
    )
    assert [row[3] for row in table.rows] == ["✓", "✓", "✗", "✗"]
    assert nb.describe(refused).startswith("403 Forbidden ← PUT /me/email")


def test_jupyter_stays_out_of_the_import_path() -> None:
    heavy = (
        "nbformat",
        "nbclient",
        "jupyter_client",
        "matplotlib",
        "IPython",
        "course_kit.notebook.__main__",  # the command line: CI only, never a kernel
    )
    code = f"import sys, course_kit.notebook; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=KIT_ROOT
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_timeline_marks_where_each_window_closes() -> None:
    lab = nb.start("solutions")
    walked = nb.walk(lab, lab.exercise("ex03").StepUpClient)
    figure = walked.plot().figure
    panels = [ax for ax in figure.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == [
        "the whole walk",
        "around +5:00, second by second",
    ]
    texts = {t.get_text() for ax in panels for t in ax.texts}
    assert {"closes +5:00 ", " opens +5:01", "closes +10:01 "} <= texts, texts
    assert {"+4:59\n200", "+5:01\n200"} <= texts, texts
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "a click that went through, no dialog" in labels, labels
    lab.close()
