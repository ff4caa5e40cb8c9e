"""A warm ``stepup check``: the judge and the confined submission process of one check kept
for the next, as ``stepup watch`` keeps them between saves.

The first ``stepup check`` runs cold, then starts ``python -m course_kit.student.warm FOLDER``
in the background. That server holds a :class:`WarmJudge` for the folder and answers the next
checks on a Unix socket in a folder only this user can open; each check imports the
exercise files afresh in the same submission process. The server leaves after
``IDLE_SECONDS`` without a check, and at once when a check finds the kit changed (its code,
graded tests or ``course.toml``): an edited kit is never judged by a process that loaded the
old one. Whatever goes wrong on the way (no server, a dead one, a changed kit), the check runs
cold. ``STEPUP_WARM=0`` turns it off (the test suite does).

Nothing is trusted more than in a cold check: the submission process is confined the same
way, and the answer is the judge's own lines, read by the same code.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from course_kit.grading.engine import WarmJudge, at_home, read_outcome
from course_kit.grading.outcome import Score
from course_kit.manifest import Course, load_course

ENV_VAR = "STEPUP_WARM"
IDLE_SECONDS = 900  # a student between two checks; then the processes leave by themselves
MAX_LINE = 64 * 1024
KIT_PARTS = ("course_app", "course_kit", "tests")


def enabled() -> bool:
    return os.environ.get(ENV_VAR, "1") != "0"


def private_folder() -> Path | None:
    """This user's folder for the socket: made 0700, and used only if it is a real folder
    that this user owns and nobody else may enter (a shared /tmp could hold a planted one)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    folder = Path(base) / f"stepup-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        found = os.lstat(folder)
    except OSError:
        return None
    mine = stat.S_ISDIR(found.st_mode) and found.st_uid == os.getuid()
    return folder if mine and not found.st_mode & 0o077 else None


def _key(course: Course, impl_folder: Path) -> str:
    """One server per interpreter, kit, exercise folder and confinement setting."""
    confine = os.environ.get("STEPUP_CONFINE", "")
    text = "\0".join([sys.executable, str(course.root), str(impl_folder), confine])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def kit_fingerprint(course: Course) -> str:
    """What the server loaded: every file of the kit's code (its SQL schema and pages too)
    and tests, the manifest and the project file (paths, sizes and modification times;
    Python's bytecode caches left out, they change whenever Python writes them)."""
    digest = hashlib.sha256()
    files = [course.root / "course.toml", course.root / "pyproject.toml"]
    for part in KIT_PARTS:
        below = (course.root / part).rglob("*")
        files += sorted(p for p in below if "__pycache__" not in p.parts and p.is_file())
    for path in files:
        with contextlib.suppress(OSError):
            found = path.stat()
            digest.update(f"{path}\0{found.st_size}\0{found.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def check(
    impl_folder: Path, exercise_ids: Sequence[str] | None, course: Course
) -> tuple[Score, str] | None:
    """The check from this folder's warm server, or None when there is none to answer."""
    ids = list(exercise_ids or course.ids)
    with _connected(impl_folder, course) as conn:
        if conn is None:
            return None
        try:
            answer = _ask(conn, {"run": ids, "kit": kit_fingerprint(course)})
            if "out" not in answer:
                return None  # the kit changed under the server: it is leaving
            # Read while connected: the server removes the file once we hang up.
            outcome = read_outcome(Path(answer["out"]), course, ids, answer["problems"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
    return at_home(outcome, course, ids), outcome.output


def stop(impl_folder: Path, course: Course) -> None:
    """Ask this folder's server to leave now (it would when idle anyway)."""
    with _connected(impl_folder, course) as conn:
        if conn is not None:
            with contextlib.suppress(OSError, ValueError):
                _ask(conn, {"run": [], "kit": "stop"})


@contextlib.contextmanager
def _connected(impl_folder: Path, course: Course) -> Iterator[socket.socket | None]:
    folder = private_folder()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(course.grading.limits.overall_timeout + 30)
        try:
            if folder is None:
                raise FileNotFoundError("no private folder")
            conn.connect(str(folder / f"check-{_key(course, impl_folder)}.sock"))
        except OSError:
            yield None
            return
        yield conn


def _ask(conn: socket.socket, request: dict[str, Any]) -> dict[str, Any]:
    conn.sendall(json.dumps(request).encode() + b"\n")
    answer = json.loads(_line(conn) or "{}")
    if not isinstance(answer, dict):
        raise ValueError("not an answer")
    return answer


def start(impl_folder: Path, course: Course) -> None:
    """A server for ``impl_folder`` in the background (it leaves by itself when idle)."""
    if private_folder() is None:
        return
    subprocess.Popen(
        [sys.executable, "-m", "course_kit.student.warm", str(impl_folder)],
        cwd=course.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl+C in the terminal is for the check, not for it
    )


def serve(impl_folder: Path, course: Course) -> None:
    """Answer checks of ``impl_folder`` one at a time until idle or the kit changes."""
    folder = private_folder()
    if folder is None:
        return
    key = _key(course, impl_folder)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # kill: clean up as when idle
    with open(folder / f"check-{key}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # another server has this folder
        path = folder / f"check-{key}.sock"
        path.unlink(missing_ok=True)
        loaded = kit_fingerprint(course)
        judge = WarmJudge(impl_folder, course)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(str(path))  # a check from now on waits for the boot, not runs cold
            listener.listen(8)
            listener.settimeout(IDLE_SECONDS)
            try:
                judge.start()  # booted now, while the student reads the cold check's report
                while _answer_one(listener, judge, loaded):
                    pass
            finally:
                path.unlink(missing_ok=True)
                judge.close()


def _answer_one(listener: socket.socket, judge: WarmJudge, loaded: str) -> bool:
    """One check; False when the server should leave (idle, or asked by a check that loaded
    another kit). A connection that asks nothing, or nonsense, changes nothing."""
    try:
        conn, _ = listener.accept()
    except TimeoutError:
        return False
    out: Path | None = None
    with conn:
        conn.settimeout(30)
        try:
            request = json.loads(_line(conn) or "null")
            if not isinstance(request, dict) or "kit" not in request:
                return True
            if request["kit"] != loaded:
                with contextlib.suppress(OSError):
                    conn.sendall(b"{}\n")
                return False
            ids = request.get("run")
            if not isinstance(ids, list) or not ids or not set(ids) <= set(judge.course.ids):
                return True  # not a check this kit knows: nothing to run
            out, problems = judge.run(ids)
            conn.sendall(json.dumps({"out": str(out), "problems": problems}).encode() + b"\n")
            conn.settimeout(judge.course.grading.limits.overall_timeout)
            conn.recv(1)  # the check hangs up once it has read the file
        except Exception:  # a check that hung up or sent nonsense: it runs cold
            pass
    if out is not None:
        out.unlink(missing_ok=True)
    return True


def _line(conn: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n") and len(data) < MAX_LINE:
        chunk = conn.recv(MAX_LINE)
        if not chunk:
            break
        data += chunk
    return data.decode()


if __name__ == "__main__":
    serve(Path(sys.argv[1]), load_course())
