"""A warm ``stepup check`` (course_kit/student/warm.py): the server a cold check leaves behind
answers the next checks with the same judge and submission process, sees every edit of an
exercise file, never answers for a kit that changed, and talks only through a folder of this
user's alone. Waits are for states, with deadlines far above what a busy machine needs."""

import json
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from course_kit.grading.engine import WarmJudge
from course_kit.grading.engine import check as cold_check
from course_kit.kit import KIT_ROOT
from course_kit.manifest import load_course
from course_kit.student import warm

COURSE = load_course()
BOOT_SECONDS = 120


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + BOOT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"after {BOOT_SECONDS} s: {what}"
        time.sleep(0.1)


def answering() -> bool:
    """A warm server takes connections (a connection that asks nothing changes nothing)."""
    private = warm.private_folder()
    assert private is not None
    for path in private.glob("check-*.sock"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            try:
                conn.connect(str(path))
                return True
            except OSError:
                continue
    return False


@pytest.fixture
def exercises(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The untouched stubs in a folder of their own, and a runtime folder of the test's own
    (short: a socket's path has at most 107 bytes)."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path_factory.mktemp("run")))
    folder = tmp_path_factory.mktemp("w") / "exercises"
    shutil.copytree(KIT_ROOT / "exercises", folder)
    yield folder
    warm.stop(folder, COURSE)


def points(result: tuple | None) -> list[int]:
    assert result is not None, "the warm server did not answer"
    return [t.earned for t in result[0].tasks]


def test_the_server_answers_as_a_cold_check_does_and_sees_every_edit(exercises: Path) -> None:
    assert warm.check(exercises, ["ex01"], COURSE) is None  # nobody to ask yet
    warm.start(exercises, COURSE)
    wait_until(answering, "the warm server never listened")
    cold = cold_check(exercises, ["ex01"], COURSE)
    assert points(warm.check(exercises, ["ex01"], COURSE)) == points(cold) == [0, 0, 0]
    solution = (KIT_ROOT / "solutions" / "ex01_email_change.py").read_text()
    (exercises / "ex01_email_change.py").write_text(solution)  # the student's next save
    assert points(warm.check(exercises, ["ex01"], COURSE)) == [2, 1, 2]
    (exercises / "ex01_email_change.py").write_text("def broken(:\n")
    result = warm.check(exercises, ["ex01"], COURSE)
    assert points(result) == [0, 0, 0]
    assert "syntax error" in str(result[0].tasks[0].first_failure), result


# (first version, its points, second version, its points): what an earlier version leaves in a
# process is its module (reachable through sys.modules) and whatever it changed in the kit.
SOLUTION = (KIT_ROOT / "solutions" / "ex01_email_change.py").read_text()
FOUND = (
    "import sys\n\n"
    "router = next(m.router for n, m in list(sys.modules.items())\n"
    "              if n.endswith('ex01_email_change') and m is not sys.modules[__name__])\n"
)
PATCH = "\nimport course_app.deps\n\ncourse_app.deps.is_recent = lambda *args: True\n"
LEFTOVERS = {
    "an earlier module": (SOLUTION, [2, 1, 2], FOUND, [0, 0, 0]),
    "a patched kit module": (SOLUTION + PATCH, [0, 1, 2], SOLUTION, [2, 1, 2]),
}


@pytest.mark.parametrize("leftover", list(LEFTOVERS))
def test_nothing_of_an_earlier_version_reaches_the_next_check(
    exercises: Path, leftover: str
) -> None:
    """Each warm check meets a fresh submission process (booted while the student edited),
    so it says what a cold check says, whatever the file's earlier versions did."""
    first, earned_first, second, earned_second = LEFTOVERS[leftover]
    ex01 = exercises / "ex01_email_change.py"
    warm.start(exercises, COURSE)
    wait_until(answering, "the warm server never listened")
    ex01.write_text(first)
    assert points(warm.check(exercises, ["ex01"], COURSE)) == earned_first
    ex01.write_text(second)
    after = warm.check(exercises, ["ex01"], COURSE)
    assert points(after) == points(cold_check(exercises, ["ex01"], COURSE)) == earned_second


def test_a_changed_kit_is_never_judged_by_the_old_server(
    exercises: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm.start(exercises, COURSE)
    wait_until(answering, "the warm server never listened")
    assert warm.check(exercises, ["ex04"], COURSE) is not None
    monkeypatch.setattr(warm, "kit_fingerprint", lambda course: "edited since")
    assert warm.check(exercises, ["ex04"], COURSE) is None  # the caller runs it cold
    wait_until(lambda: not answering(), "the old server stayed")


@pytest.mark.parametrize(
    "nonsense",
    [b"[" * 100_000 + b"\n", b'{"run": "ex01", "kit": KIT}\n', b"\xff\xfe\n", b""],
    ids=["deeply nested", "a string for a list", "not UTF-8", "nothing"],
)
def test_nonsense_on_the_socket_changes_nothing(exercises: Path, nonsense: bytes) -> None:
    warm.start(exercises, COURSE)
    wait_until(answering, "the warm server never listened")
    private = warm.private_folder()
    assert private is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(next(private.glob("check-*.sock"))))
        kit = json.dumps(warm.kit_fingerprint(COURSE)).encode()  # this kit: not a "stop"
        conn.sendall(nonsense.replace(b"KIT", kit))
    assert points(warm.check(exercises, ["ex04"], COURSE)) == [0]


def test_a_judge_that_died_leaves_nothing_behind(exercises: Path) -> None:
    judge = WarmJudge(exercises, COURSE)
    try:
        judge.check(["ex04"])
        assert judge.judge is not None and judge.grading is not None
        first = judge.grading.private
        os.killpg(judge.judge.pid, signal.SIGKILL)
        judge.judge.wait()
        assert points(judge.check(["ex04"])) == [0]  # a fresh judge answers
        assert not first.exists(), "the dead judge's folder was left behind"
    finally:
        judge.close()


def test_a_folder_others_may_enter_is_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    planted = tmp_path / f"stepup-{os.getuid()}"
    planted.mkdir(mode=0o777)
    planted.chmod(0o777)
    assert warm.private_folder() is None
    planted.chmod(0o700)
    assert warm.private_folder() == planted
