"""The Gradescope image's ``requirements.txt``: exact pins, taken from the environment the
kit's tests ran in, so the image grades with the very versions that were tested.

Every dependency of the kit (``[project] dependencies`` in ``pyproject.toml``: what grading
needs, no Jupyter) and everything they need in turn, as installed here, ``name==version``.
``python -m course_kit.teach.publish.requirements --check FILE`` is the other half: the
image's ``setup.sh`` runs it after installing, and refuses an interpreter that holds other
versions (a dry run's, say).
"""

import argparse
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from course_kit.kit import KitError


def declared(kit_root: Path) -> list[str]:
    with (kit_root / "pyproject.toml").open("rb") as fh:
        dependencies: list[str] = tomllib.load(fh)["project"]["dependencies"]
    return dependencies


def pinned(requirements: list[str]) -> dict[str, str]:
    """Every requirement and its own requirements, recursively, as installed in this
    environment (markers judged for this interpreter): canonical name → ``name==version``."""
    pins: dict[str, str] = {}
    todo: list[tuple[Requirement, tuple[str, ...]]] = [
        (Requirement(t), ("",)) for t in requirements
    ]
    while todo:
        requirement, extras = todo.pop()
        if requirement.marker and not any(
            requirement.marker.evaluate({"extra": extra}) for extra in extras
        ):
            continue  # another interpreter's, or an extra nobody asked for
        name = canonicalize_name(requirement.name)
        if name in pins:
            continue
        try:
            found = distribution(requirement.name)
        except PackageNotFoundError:
            raise KitError(
                f"{requirement.name} is not installed here: the autograder's requirements are"
                " pinned from the environment the tests run in (make setup)"
            ) from None
        pins[name] = f"{found.metadata['Name']}=={found.version}"
        wanted = ("", *sorted(requirement.extras))
        todo += [(Requirement(text), wanted) for text in found.requires or []]
    return dict(sorted(pins.items()))


def requirements_txt(kit_root: Path) -> str:
    pins = pinned(declared(kit_root))
    python = ".".join(map(str, sys.version_info[:3]))
    header = [
        "# Exact versions, from the environment the kit's tests ran in (Python"
        f" {python}): stepup teach export gradescope writes this file.",
    ]
    return "\n".join([*header, *pins.values()]) + "\n"


def mismatches(text: str) -> list[str]:
    """What this interpreter holds that differs from the pins in ``text``."""
    found = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            found.append(f"{line}: {exc}")
            continue
        try:
            version = distribution(requirement.name).version
        except PackageNotFoundError:
            found.append(f"{requirement.name}: not installed (pinned {requirement.specifier})")
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            found.append(f"{requirement.name}: {version} installed, pinned {requirement.specifier}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m course_kit.teach.publish.requirements")
    parser.add_argument("--check", type=Path, required=True, help="a requirements.txt to check")
    args = parser.parse_args()
    problems = mismatches(args.check.read_text(encoding="utf-8"))
    for problem in problems:
        print(f"requirements: {problem}", file=sys.stderr)
    if problems:
        sys.exit(f"{sys.executable} does not hold the versions the kit was tested with")
    print(f"{sys.executable} holds every pinned version")


if __name__ == "__main__":
    main()
