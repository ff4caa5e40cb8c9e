"""The grader's parts, one at a time: the signed channel, the sandbox policy (its hook is called
directly, never installed in this process), the kit copy, and submission intake."""

import os
from pathlib import Path

import pytest
from grader_helpers import COURSE

from course_app.grading import sandbox
from course_app.grading.policy import Refused, make_hook
from course_app.grading.protocol import Decoder, encode
from course_app.grading.submission import SubmissionError, free_text, read_submission
from course_app.manifest import KIT_ROOT

KEY = b"k" * 32


def test_signed_records_arrive_in_order() -> None:
    decoder = Decoder(KEY)
    data = encode(KEY, 0, {"event": "hello"}) + encode(KEY, 1, {"event": "done"})
    assert decoder.feed(data[:10]) == []
    assert decoder.feed(data[10:]) == [{"event": "hello"}, {"event": "done"}]
    assert decoder.problems == []


@pytest.mark.parametrize(
    "line",
    [
        encode(b"x" * 32, 0, {"event": "result", "status": "pass"}),  # another key
        b'ffff 0 {"event":"result","status":"pass"}\n',  # no key at all
        encode(KEY, 5, {"event": "done"}),  # out of sequence (replayed or skipped)
        b"\x00\xff garbage\n",
    ],
    ids=["wrong-key", "unsigned", "out-of-sequence", "garbage"],
)
def test_forged_records_are_caught(line: bytes) -> None:
    decoder = Decoder(KEY)
    assert decoder.feed(line) == []
    assert decoder.problems


def test_a_flood_without_newlines_is_caught() -> None:
    decoder = Decoder(KEY)
    decoder.feed(b"x" * (2 << 20))
    assert decoder.problems


@pytest.fixture
def hook(tmp_path: Path):
    (tmp_path / "scratch").mkdir()
    (tmp_path / "secret").mkdir()
    return make_hook([str(tmp_path / "scratch")], [str(tmp_path / "secret")])


def test_the_policy_allows_the_scratch_folder(hook, tmp_path: Path) -> None:
    inside = tmp_path / "scratch" / "course.db"
    hook("open", (str(inside), "w", os.O_WRONLY))
    hook("open", (inside, "r+", os.O_RDWR))
    hook("sqlite3.connect", (str(inside),))
    hook("sqlite3.connect", (":memory:",))
    hook("os.mkdir", (str(tmp_path / "scratch" / "sub"), 0o777, None))
    hook("open", (str(KIT_ROOT / "course.toml"), "r", os.O_RDONLY))  # reading is fine
    hook("open", (1, "w", os.O_WRONLY))  # an already-open descriptor


@pytest.mark.parametrize(
    ("event", "args"),
    [
        ("open", ("{root}/results.json", "w", os.O_WRONLY)),
        ("open", ("{root}/scratch/../results.json", "a", os.O_WRONLY)),
        ("open", (None, None, os.O_WRONLY | os.O_CREAT)),
        ("open", ("{root}/secret/answer.py", "r", os.O_RDONLY)),
        ("os.remove", ("{root}/tests/test_x.py", None)),
        ("os.rename", ("{root}/scratch/a", "{root}/b", None, None)),
        ("shutil.rmtree", ("{root}", None)),
        ("sqlite3.connect", ("{root}/other.db",)),
        ("os.listdir", ("{root}/secret",)),
        ("os.symlink", ("{root}/secret", "{root}/scratch/link", None)),
        ("subprocess.Popen", ("sh", ["sh"], None, None)),
        ("os.fork", ()),
        ("os.kill", (1, 9)),
        ("ctypes.dlopen", ("libc.so.6",)),
        ("gc.get_objects", (None,)),
    ],
)
def test_the_policy_refuses(hook, tmp_path: Path, event: str, args: tuple) -> None:
    args = tuple(a.format(root=tmp_path) if isinstance(a, str) else a for a in args)
    with pytest.raises(Refused):
        hook(event, args)


def test_the_policy_refuses_home_made_paths(hook, tmp_path: Path) -> None:
    class Sneaky(os.PathLike):
        def __fspath__(self) -> str:
            return str(tmp_path / "scratch" / "x")

    with pytest.raises(Refused):
        hook("open", (Sneaky(), "w", os.O_WRONLY))


def test_the_policy_keeps_its_place(hook) -> None:
    with pytest.raises(RuntimeError):
        hook("sys.addaudithook", ())


def test_the_kit_copy_has_no_solutions_and_repairs_itself() -> None:
    box = sandbox.build(KIT_ROOT, {"ex04_why_reset_email_verified.py": b"ANSWERS = {}\n"})
    try:
        assert not (box.kit / "solutions").exists()
        assert (
            box.exercises / "ex04_why_reset_email_verified.py"
        ).read_bytes() == b"ANSWERS = {}\n"
        assert (box.exercises / "ex01_email_change.py").read_bytes() == (
            KIT_ROOT / "exercises" / "ex01_email_change.py"
        ).read_bytes()
        assert box.verify() == []
        graded = box.kit / "tests" / "graded" / "test_ex01_email_change.py"
        graded.write_text("def test_everything():\n    pass\n")
        (box.kit / "tests" / "graded" / "test_ex02_api_keys.py").unlink()
        (box.kit / "tests" / "graded" / "test_extra.py").write_text("")
        assert box.verify() == [
            "tests/graded/test_ex01_email_change.py",
            "tests/graded/test_ex02_api_keys.py",
            "tests/graded/test_extra.py",
        ]
        assert box.verify() == []  # restored
        assert (
            graded.read_text() == (KIT_ROOT / "tests/graded/test_ex01_email_change.py").read_text()
        )
    finally:
        box.remove()
    assert not box.root.exists()


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
