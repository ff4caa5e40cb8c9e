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
from course_kit.impl import ImplementationError
from course_kit.kit import KIT_ROOT
from course_kit.manifest import load_course
from course_kit.markup import escape
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


def test_a_broken_exercise_file_breaks_only_its_own_routes(tmp_path: Path) -> None:
    folder = copy_of("solutions", tmp_path)
    ex05 = folder / "ex05_password_change.py"
    ex05.write_text(ex05.read_text(encoding="utf-8") + "def broken(:\n", encoding="utf-8")
    lab = nb.start(str(folder))
    alice = lab.person("alice@example.com")  # sign-in needs no exercise router
    assert alice.get("/me").status_code == 200
    lab.confirm(alice)
    r = alice.put("/me/email", json={"email": "alice@new.example"})  # exercise 1: untouched
    assert r.status_code == 200, r.text
    r = alice.put("/me/password", json={"new_password": "a long new passphrase"})
    why = "submission/ex05_password_change.py has a syntax error on line"
    assert r.status_code == 500, r.text
    assert nb.describe(r).startswith(f"500 — {why}"), nb.describe(r)
    assert "\n" not in nb.describe(r)
    with pytest.raises(ImplementationError) as raised:
        lab.exercise("ex05")
    assert raised.value._render_traceback_() == [str(raised.value)]  # one line in a notebook
    assert str(raised.value).startswith(why)
    lab.close()


def test_a_broken_exercise_shows_in_one_line_in_a_kernel(tmp_path: Path) -> None:
    folder = copy_of("exercises", tmp_path)
    ex05 = folder / "ex05_password_change.py"
    ex05.write_text(ex05.read_text(encoding="utf-8") + "def broken(:\n", encoding="utf-8")
    path = notebook_of(
        tmp_path,
        "import course_kit.notebook as nb\nlab = nb.start()",
        'alice = lab.person("alice@example.com")\nalice.get("/me").status_code',
        'alice.put("/me/password", json={"new_password": "a long new passphrase"})',
        'lab.exercise("ex05")',
    )
    done = run(path, str(folder))
    outputs = [cell.outputs for cell in done.notebook.cells]
    assert outputs[1][0]["data"]["text/plain"] == "200", outputs[1]
    answer = outputs[2][0]["data"]["text/plain"]
    why = "submission/ex05_password_change.py has a syntax error on line"
    assert answer.startswith(f"500 — {why}") and answer.endswith("← PUT /me/password"), answer
    assert done.error is not None, "lab.exercise() of a broken file did not say so"
    (error,) = outputs[3]
    assert error["output_type"] == "error" and len(error["traceback"]) == 1, error
    assert error["traceback"][0].startswith(why), error["traceback"]


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
    (folder / "ex05_password_change.py").write_text("def change_password(:\n", encoding="utf-8")
    table = nb.check("ex05", str(folder))
    assert table.attrs["data-passed"] == "0"
    # Why the file cannot be used, once; the other tasks wait for it.
    assert "has a syntax error on line 1" in str(table.rows[0][4]), table.rows
    assert [row[4] for row in table.rows[1:]] == ["not checked until the file can be used"] * 2
    # The footer is Markdown: code in HTML, the words alone in text.
    assert "All hints: <code>stepup hint ex05</code>" in table._repr_html_()
    assert "All hints: stepup hint ex05 in the lab's Terminal." in repr(table)
    nowhere = nb.check("ex04", str(tmp_path / "no-such-folder"))
    assert nowhere.attrs["data-passed"] == "0"
    assert "! the check could not run: ImplementationError: --impl" in str(nowhere.footer)


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


def notebook_of(folder: Path, *cells: str) -> Path:
    """A notebook of these code cells, in ``folder``."""
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
    path = folder / "cells.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def test_a_frozen_clock_never_outlives_its_cell(tmp_path: Path) -> None:
    path = notebook_of(
        tmp_path,
        "from datetime import UTC, datetime\n"
        "import course_kit.notebook as nb\n"
        "trip = nb.time_travel(datetime(2001, 1, 1, tzinfo=UTC))\n"
        "clock = trip.__enter__()  # left open on purpose\n"
        "datetime.now().year",
        "datetime.now().year",
    )
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


def test_untouched_tasks_get_their_own_hints() -> None:
    table = nb.check("ex03", "exercises")
    tasks = load_course().exercise("ex03").tasks
    assert [row[4] for row in table.rows] == ["not started yet"] * len(tasks), table.rows
    for task, row in zip(tasks, table.rows, strict=True):
        assert row[5].text in (*task.hints, *task.hint_for.values()), row


def test_hints_show_as_html_in_a_notebook_and_as_words_in_text() -> None:
    hints = nb.hints("ex01")
    shown = hints._repr_html_()
    assert "a parameter named <code>_</code>." in shown, shown
    assert "`" not in shown
    words = str(hints.rows[0][2])  # as text (the table's text form cuts long cells)
    assert words.endswith("a parameter named _.") and "`" not in words, words
    emphasis = nb.Markdown("a confirmation of *this* session <b>")
    assert nb.table(["hint"], [[emphasis]])._repr_html_().count("<em>this</em> session &lt;b&gt;")
    assert str(emphasis) == "a confirmation of this session <b>"
    written = "! exercises/*.py: `x` <b>"
    assert str(nb.Markdown(escape(written))) == written


def test_an_empty_table_says_so_and_long_words_wrap() -> None:
    lab = nb.start("solutions")
    inbox = lab.inbox("nobody@example.com")
    assert "empty: no mail was sent to this address" in inbox._repr_html_()
    assert repr(inbox).splitlines()[-1] == "empty: no mail was sent to this address"
    cell = nb.table(["link"], [["http://localhost:8000/" + "x" * 200]])._repr_html_()
    assert "overflow-wrap:anywhere" in cell, cell
    lab.close()


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


def test_a_row_that_cannot_repeat_says_which_cell_to_run_first(tmp_path: Path) -> None:
    """Run a second time, a cell whose outcome cannot repeat (the key it revokes is gone) shows
    ↻ and what to run first, not a ✗ that blames the student's code; the first run is judged
    as any other."""
    revoke = (
        "gone = len(spent) > 0\nspent.append(1)\n"
        'nb.outcomes([("revoke the key", True, not gone)], again="run the cell above first")'
    )
    path = notebook_of(tmp_path, "import course_kit.notebook as nb\nspent = []", revoke)
    done = run(path, "solutions", again=lambda notebook: [[1]])
    assert done.error is None and done.again_error is None, done.error or done.again_error
    first, second = (
        cell.outputs[0]["data"]["text/html"] for cell in [done.notebook.cells[1], *done.again[0]]
    )
    assert ">✓</td>" in first and "↻" not in first
    assert ">↻</td>" in second and "run the cell above first" in second and "✗" not in second
