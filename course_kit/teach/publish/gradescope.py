"""``stepup teach export gradescope``: a Gradescope autograder zip.

Gradescope builds one image from the zip (``setup.sh`` runs once) and then runs
``run_autograder`` in a fresh container per submission, which is how a large class gets graded.
The zip holds the app, the graded tests (hidden ones included), the starting stubs, the
manifest and ``requirements.txt`` pinned to the versions the tests ran with: never
``solutions/``. ``STEPUP_AUTOGRADER_ROOT`` (default ``/autograder``) and
``STEPUP_PYTHON`` let the same scripts run against a fake layout in a test.
"""

import zipfile
from pathlib import Path

from course_kit.kit import AUTOGRADER_PARTS, KIT_ROOT, KitError
from course_kit.teach.publish.release import check_tree, files_of
from course_kit.teach.publish.requirements import requirements_txt

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
# Pick a base image with Python 3.11 or newer (Ubuntu 24.04).
# `stepup teach dry-run` runs it too, in a scratch root (STEPUP_AUTOGRADER_ROOT), and may
# bring an interpreter that holds the pinned versions already (STEPUP_PYTHON).
set -euo pipefail
ROOT="${STEPUP_AUTOGRADER_ROOT:-/autograder}"
NEEDED=""
command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null \\
    || NEEDED="python3 python3-venv"
# bubblewrap confines each submission (namespaces, read-only kit, no network); setpriv (in
# util-linux) drops it to an unprivileged user. Without them, grading falls back to a plain
# unprivileged process.
command -v bwrap >/dev/null || NEEDED="$NEEDED bubblewrap"
command -v setpriv >/dev/null || NEEDED="$NEEDED util-linux"
if [ -n "$NEEDED" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $NEEDED >/dev/null
    else
        echo "setup.sh: not root, so not installed: $NEEDED" >&2
    fi
fi
# The hidden tests and the kit are read by the grader (root) only, never by a submission.
chmod -R go-rwx "$ROOT/source/tests/graded/hidden"
if [ -z "${STEPUP_PYTHON:-}" ]; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ needed")'
    python3 -m venv "$ROOT/venv"
    "$ROOT/venv/bin/pip" install -q --upgrade pip
    "$ROOT/venv/bin/pip" install -q -r "$ROOT/source/requirements.txt"
fi
# Whichever interpreter grades holds exactly the versions the kit's tests ran with.
PYTHONPATH="$ROOT/source" "${STEPUP_PYTHON:-$ROOT/venv/bin/python}" \\
    -m course_kit.teach.publish.requirements --check "$ROOT/source/requirements.txt"
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this once per submission (files in $ROOT/submission) and reads
# $ROOT/results/results.json. `stepup grade` exits 0 whatever the student's result.
set -uo pipefail
ROOT="${STEPUP_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${STEPUP_PYTHON:-$ROOT/venv/bin/python}"
export STEPUP_KIT_ROOT="$ROOT/source"
export PYTHONPATH="$ROOT/source"
mkdir -p "$ROOT/results"
cd "$ROOT/source"
"$PYTHON" -m course_kit.cli teach grade "$ROOT/submission" -o "$ROOT/results" \\
    --format gradescope --format markdown
if [ ! -s "$ROOT/results/results.json" ]; then
    # The grader itself failed: still answer, so the student is not left with nothing.
    echo "stepup grade wrote no results: see the errors above" >&2
    MESSAGE="The autograder could not run. Ask your instructor to look at the autograder log."
    printf '{"score": 0, "output": "%s", "tests": []}\\n' "$MESSAGE" > "$ROOT/results/results.json"
fi
# The instructor's summary (failed hidden tests named) goes to stdout, which Gradescope shows
# to instructors only (results.json says "stdout_visibility": "hidden").
cat "$ROOT/results/instructor-summary.md" 2>/dev/null || true
"""


def export_gradescope(target: Path, kit_root: Path = KIT_ROOT) -> Path:
    """Write the autograder zip; refuse (KitError) if it would leak the solutions."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, relative in files_of(kit_root, AUTOGRADER_PARTS):
            archive.write(path, relative)
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16  # executable, as Gradescope expects
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
        info = zipfile.ZipInfo("requirements.txt")
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, requirements_txt(kit_root))
    leaks = check_tree(target, kit_root, hidden_allowed=True)
    if leaks:
        target.unlink()
        raise KitError("the autograder would leak: " + "; ".join(leaks))
    return target
