"""The grader's parts, one at a time: how the submission process is confined, what a broken
control channel costs, and how a submission is taken in (links, sizes, damaged or Windows-made
zips, names that are not UTF-8, free text read without running it)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from grader_helpers import COURSE, FAST

from course_kit.grading.engine import run_graded
from course_kit.grading.judge.failures import SubjectError
from course_kit.grading.judge.subject import Subject
from course_kit.grading.outcome import score
from course_kit.grading.sandbox.confine import Confinement, Layout, Uid, processes_of
from course_kit.kit import KIT_ROOT
from course_kit.source import free_text
from course_kit.teach.grade.intake import SubmissionError, read_submission
from course_kit.text import printable

LAYOUT = Layout(KIT_ROOT, KIT_ROOT / "exercises", Path("/tmp/scratch"), Path("/tmp/shared"))


def mounts(argv: list[str]) -> dict[str, str]:
    """bwrap's binds: inside path → (kind, host path)."""
    found = {}
    for index, word in enumerate(argv):
        if word in ("--bind", "--ro-bind", "--ro-bind-try"):
            found[argv[index + 2]] = f"{word} {argv[index + 1]}"
    return found


def test_bubblewrap_sees_only_what_the_submission_needs() -> None:
    argv, inside = Confinement("bwrap").command(LAYOUT, [sys.executable, "-c", "pass"])
    binds = mounts(argv)
    assert "/scratch" not in binds  # its one writable folder is a tmpfs of its own
    scratch = argv.index("/scratch")
    assert argv[scratch - 3 : scratch + 1] == [
        "--size",
        str(256 << 20),
        "--tmpfs",
        "/scratch",
    ]
    assert binds["/submission/exercises"].startswith("--ro-bind")
    assert binds["/kit/course_app"] == f"--ro-bind {KIT_ROOT / 'course_app'}"
    assert not any("solutions" in host or "tests" in host for host in binds.values())
    assert all(kind.startswith("--ro-bind") for inside, kind in binds.items() if inside != "/judge")
    for flag in ("--unshare-pid", "--unshare-net", "--die-with-parent", "--new-session"):
        assert flag in argv
    # a fresh /tmp mounted after the binds would hide a kit or virtualenv that lives in /tmp
    first_bind = min(i for i, word in enumerate(argv) if word.startswith("--ro-bind"))
    assert argv.index("/tmp") < first_bind
    tail = argv[argv.index("--") + 1 :]
    assert tail[0] == "setpriv" and "--reuid=65534" in tail and "--no-new-privs" in tail
    assert inside.scratch == Path("/scratch")


def test_each_submission_process_gets_a_uid_of_its_own() -> None:
    """Process limits count per uid: classmates graded side by side must not share one."""
    first, second = Uid(), Uid()
    try:
        assert first.uid != second.uid
        argv, _ = Confinement("bwrap").command(
            Layout(KIT_ROOT, KIT_ROOT / "exercises", Path("/x"), uid=first.uid), ["python"]
        )
        assert f"--reuid={first.uid}" in argv
    finally:
        first.release()
        second.release()


def test_without_confinement_the_command_is_unchanged() -> None:
    argv, inside = Confinement("none").command(LAYOUT, ["python", "-m", "x"])
    assert argv == ["python", "-m", "x"] and inside == LAYOUT


def test_a_submission_that_forges_the_control_channel_is_caught(tmp_path: Path) -> None:
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "ex04_why_reset_email_verified.py").write_text(
        "import os\nfor fd in range(20):\n    try:\n        os.write(fd, b'not json\\n')\n"
        "    except OSError:\n        pass\nANSWERS = {}\n"
    )
    subject = Subject(folder, ["ex04"], FAST)
    try:
        subject.usable()
        assert "ex04" in subject.broken
        assert subject.violations == [("ex04", "a line that is not JSON on the control channel")]
    finally:
        subject.close()


def test_an_answer_too_big_to_pass_back_is_a_mistake_not_tampering(tmp_path: Path) -> None:
    """A string of 2 MiB, or an int longer than Python prints, is the student's error on the
    tests that met it: never a line out of bounds, never a flag."""
    folder = tmp_path / "exercises"
    folder.mkdir()
    solution = (KIT_ROOT / "solutions" / "ex06_assurance_levels.py").read_text()
    (folder / "ex06_assurance_levels.py").write_text(
        solution
        + "\n\ndef read_challenge(header):\n    return 'x' * (2 << 20)\n"
        + "\n\ndef ways_to_confirm(challenge, methods):\n    return 10 ** 5000\n"
    )
    outcome = run_graded(folder, ["ex06"], COURSE, limits=FAST)
    assert outcome.flags == [], outcome.flags
    tasks = {t.task.n: t for t in score(outcome.results, COURSE, ["ex06"]).tasks}
    assert tasks[1].passed and not tasks[2].passed and not tasks[3].passed
    for n in (2, 3):
        failure = tasks[n].first_failure
        assert failure is not None and "too large to pass back" in failure.message, failure


def test_a_submission_that_cannot_start_says_so(tmp_path: Path) -> None:
    subject = Subject(tmp_path, [], FAST, code_root=tmp_path)  # no course_app there
    try:
        with pytest.raises(SubjectError, match="did not start"):
            subject.usable()
    finally:
        subject.close()


def test_intake_does_not_follow_links(tmp_path: Path) -> None:
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "ex01_email_change.py").symlink_to(
        KIT_ROOT / "solutions" / "ex01_email_change.py"
    )
    with pytest.raises(SubmissionError, match="no exercise files"):
        read_submission(tmp_path, COURSE)


def test_intake_refuses_huge_files(tmp_path: Path) -> None:
    (tmp_path / "ex01_email_change.py").write_bytes(b"#" * (2 << 20))
    (tmp_path / "ex04_why_reset_email_verified.py").write_text("ANSWERS = {}\n")
    intake = read_submission(tmp_path, COURSE)
    assert list(intake.files) == ["ex04_why_reset_email_verified.py"]
    assert "larger than" in intake.notes[0]


def test_a_damaged_zip_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("exercises/ex01_email_change.py", "x = 1\n" * 500)
    data = bytearray(good.read_bytes())
    data[60:90] = b"\xff" * 30  # inside the compressed member
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    try:
        intake = read_submission(damaged, COURSE)
    except SubmissionError as exc:
        assert "cannot be read" in str(exc) or "no exercise files" in str(exc)
    else:
        assert intake.files == {} or "could not be read" in " ".join(intake.notes)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good.read_bytes()[:-30])  # the central directory is gone
    with pytest.raises(SubmissionError):
        read_submission(cut, COURSE)


def test_windows_zips_with_backslashes_are_folders(tmp_path: Path) -> None:
    archive_path = tmp_path / "win.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("kit\\exercises\\ex01_email_change.py", "A = 1\n")
        archive.writestr("kit\\notes\\ex01_email_change.py", "B = 2\n")
    intake = read_submission(archive_path, COURSE)
    assert intake.files == {"ex01_email_change.py": b"A = 1\n"}  # exercises/ preferred


def test_names_that_are_not_utf8_become_escaped_text(tmp_path: Path) -> None:
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9"))
    (folder / "exercises").mkdir(parents=True)
    (folder / "exercises" / "ex04_why_reset_email_verified.py").write_text("ANSWERS = {}\n")
    intake = read_submission(folder, COURSE)
    assert intake.name == "caf\\xe9"
    assert printable("plain") == "plain"


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ('EXPLANATION = """  Because.  """\n', "Because."),
        ('EXPLANATION: str = "typed"\n', "typed"),
        ('EXPLANATION = "one"\nEXPLANATION = "two"\n', "two"),
        ('EXPLANATION = open("/etc/passwd").read()\n', None),  # not a literal: not evaluated
        ("EXPLANATION = 42\n", None),
        ("def broken(:\n", None),
    ],
)
def test_free_text_is_a_literal_or_nothing(source: str, text: str | None) -> None:
    assert free_text(source.encode(), "EXPLANATION") == text


@pytest.mark.skipif(os.geteuid() != 0, reason="only root confines submissions, and refuses")
def test_a_confined_user_who_cannot_run_python_is_the_cause_named(tmp_path: Path) -> None:
    """User mode needs the unprivileged user to run this Python. Here the interpreter sits in
    a folder of mode 0700 (a virtualenv under /root, say): grading refuses, and says that,
    not "install bubblewrap"."""
    private = tmp_path / "private"
    venv = private / "venv"
    (venv / "bin").mkdir(parents=True)
    base = Path(sys.executable).resolve()
    (venv / "bin" / "python").symlink_to(base)
    (venv / "pyvenv.cfg").write_text(
        f"home = {base.parent}\ninclude-system-site-packages = false\n"
    )
    packages = venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    packages.mkdir(parents=True)
    here = [p for p in sys.path if p.endswith("site-packages")]
    (packages / "kit.pth").write_text("\n".join([*here, str(KIT_ROOT)]) + "\n")
    private.chmod(0o700)
    out = tmp_path / "out"
    grade = ["teach", "grade", str(KIT_ROOT / "exercises"), "-o", str(out)]
    run = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "course_kit.cli", *grade],
        env=os.environ | {"STEPUP_CONFINE": "user"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    found = json.loads((out / "stepup-results.json").read_text())
    assert found["status"] == "error", found["message"]
    assert f"cannot run {venv / 'bin' / 'python'}: Permission denied" in found["message"]
    assert "put Python and the kit where other users may read and run them" in found["message"]
    assert "install bubblewrap" not in found["message"]


def test_a_forgery_is_charged_to_the_exercise_in_flight_whatever_the_judges(
    tmp_path: Path,
) -> None:
    """One judge for every exercise (as in a batch) or two (as for one submission): the same
    exercise is flagged, the same points are earned."""
    folder = tmp_path / "exercises"
    shutil.copytree(Path(__file__).parent / "hostile" / "forge_channel" / "exercises", folder)
    shutil.copy(KIT_ROOT / "solutions" / "ex04_why_reset_email_verified.py", folder)
    found = {}
    for shards in (1, 2):
        outcome = run_graded(folder, ["ex03", "ex04"], COURSE, limits=FAST, shards=shards)
        result = score(outcome.results, COURSE, ["ex03", "ex04"])
        found[shards] = (
            {f.exercise for f in outcome.flags},
            result.exercise_points("ex03"),
            result.exercise_points("ex04"),
        )
    assert found[1] == found[2] == ({"ex03"}, 0, 2), found


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root runs submissions as others")


@needs_root
def test_a_uid_is_released_only_with_nothing_left_running_under_it() -> None:
    uid = Uid()
    leftover = subprocess.Popen(
        ["sleep", "600"],
        start_new_session=True,  # detached, as a submission's grandchild would be
        preexec_fn=lambda: (os.setgid(uid.uid), os.setuid(uid.uid)),
    )
    try:
        assert processes_of(uid.uid) == [leftover.pid]
        uid.release()
        assert leftover.wait(timeout=30) == -signal.SIGKILL
        assert processes_of(uid.uid) == []
    finally:
        leftover.kill()
        uid.release()


@needs_root
def test_in_user_mode_a_submission_reads_only_its_own_copy(tmp_path: Path) -> None:
    """No mount namespace in `user` mode: the files the process reads are a copy that only its
    uid may read, so a classmate graded at the same time (another uid) cannot."""
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "ex04_why_reset_email_verified.py").write_text("ANSWERS = {}\n")
    subject = Subject(folder, ["ex04"], FAST, confinement=Confinement("user"))
    try:
        assert subject.uid is not None and subject.folder != folder.resolve()
        copy = subject.folder / "ex04_why_reset_email_verified.py"
        for path in (subject.folder, subject.folder.parent, copy):
            info = path.stat()
            assert info.st_uid == subject.uid.uid and info.st_mode & 0o077 == 0, path
    finally:
        subject.close()
