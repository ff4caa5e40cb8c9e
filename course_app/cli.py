"""The ``stepup`` command: serve the app, check your work, read hints, grade submissions."""

import logging
import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from course_app.impl import DEFAULT

app = typer.Typer(
    help="Step-Up Auth Lab: a course kit on step-up authentication.", no_args_is_help=True
)

ImplOption = Annotated[
    str,
    typer.Option("--impl", help="solutions, exercises, or a submission folder"),
]
FORMATS = ["gradescope", "exercism", "junit", "markdown"]


LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def origin_warnings(origin: str, port: int) -> list[str]:
    """What is wrong with serving ``origin`` (STEPUP_ORIGIN) from ``--port`` on this machine.

    Only loopback origins are checked: behind a proxy (``https://lab.example.edu``) the
    public port differs from uvicorn's on purpose.
    """
    parts = urlsplit(origin)
    if parts.hostname not in LOOPBACK:
        return []
    warnings = []
    public_port = parts.port or (443 if parts.scheme == "https" else 80)
    if public_port != port:
        warnings.append(
            f"STEPUP_ORIGIN is {origin} but this server listens on port {port}: the pages"
            f" on port {port} will have every form refused as cross-origin, and mailed links"
            f" point to port {public_port}. Start with --port {public_port}, or set"
            f" STEPUP_ORIGIN=http://localhost:{port}."
        )
    if parts.hostname != "localhost":
        warnings.append(
            f"STEPUP_ORIGIN uses {parts.hostname}: passkeys need a host name, not an IP"
            f" address. Use http://localhost:{port} instead."
        )
    return warnings


class _OpenThisAddress(logging.Filter):
    """uvicorn announces the socket it listens on (``http://127.0.0.1:8000``), which is not
    the address to open: every form is refused there. Name the app's origin on that line."""

    def __init__(self, origin: str) -> None:
        super().__init__()
        self.tail = f"open {origin.replace('%', '%%')} in your browser (Press CTRL+C to quit)"

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Uvicorn running on"):
            record.msg = record.msg.replace("(Press CTRL+C to quit)", "— " + self.tail)
            color = getattr(record, "color_message", None)
            if isinstance(color, str):
                record.color_message = color.replace("(Press CTRL+C to quit)", "— " + self.tail)
        return True


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="port on localhost")] = 8000,
    impl: ImplOption = DEFAULT,  # the solutions; in a student bundle, their exercises
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    dev: Annotated[
        bool | None,
        typer.Option(
            "--dev/--no-dev", help="dev mailbox and demo accounts [default: STEPUP_DEV_MODE]"
        ),
    ] = None,
    max_connections: Annotated[
        int | None,
        typer.Option(min=1, help="open connections at most [default: half the file limit]"),
    ] = None,
    header_timeout: Annotated[
        float, typer.Option(min=0.1, help="seconds a client may take to send its headers")
    ] = 10.0,
) -> None:
    """Run the reference app with uvicorn; open it at http://localhost:PORT (STEPUP_ORIGIN)."""
    import uvicorn
    from pydantic import ValidationError

    from course_app.app import create_app
    from course_app.db import DatabaseUnavailable
    from course_app.impl import ImplementationError
    from course_app.seed import seed_demo
    from course_app.serving import server_config
    from course_app.settings import Settings

    overrides: dict[str, object] = {} if dev is None else {"dev_mode": dev}
    if "STEPUP_ORIGIN" not in os.environ:
        overrides["origin"] = f"http://localhost:{port}"
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        typer.secho(f"Cannot start: a STEPUP_* setting is invalid.\n{exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    try:
        application = create_app(settings, impl)
    except ImplementationError as exc:
        typer.secho(f"Cannot start: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    except DatabaseUnavailable as exc:
        typer.secho(f"Cannot start: {exc}", fg="red", err=True)
        typer.secho(
            "Check that the folder exists and is writable, or set STEPUP_DB_PATH to a file"
            " this user may write.",
            err=True,
        )
        raise typer.Exit(2) from None
    typer.echo(f"Step-Up Auth Lab on {settings.origin}  (implementation: {impl})")
    for warning in origin_warnings(settings.origin, port):
        typer.secho(f"Warning: {warning}", fg="yellow", err=True)
    typer.echo(f"Database: {settings.db_path}")
    if settings.dev_mode:
        for line in seed_demo(settings):
            typer.echo(line)
        typer.echo(f"Dev mailbox: {settings.origin}/dev/mailbox")
        # Mail is "sent" to the console too, as in the lesson: show those lines.
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    # A connection cap and a header deadline, which uvicorn lacks (course_app/serving.py).
    config = server_config(application, host, port, max_connections, header_timeout)
    logging.getLogger("uvicorn.error").addFilter(_OpenThisAddress(settings.origin))
    server = uvicorn.Server(config)
    server.run()
    if not server.started:  # e.g. the port is taken: uvicorn said why
        raise typer.Exit(3)


def _confinement_setting() -> None:
    """A wrong ``STEPUP_CONFINE`` stops the command at once, with the allowed values."""
    from course_app.grading.confine import detect

    try:
        detect()
    except ValueError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None


@app.command()
def check(
    exercise: Annotated[str | None, typer.Argument(help="only this exercise, e.g. ex01")] = None,
    impl: ImplOption = "exercises",
) -> None:
    """Run the graded tests against your exercises and say what to do next."""
    from course_app.grading.engine import check as run_check
    from course_app.grading.selfcheck import print_report
    from course_app.impl import ImplementationError, resolve
    from course_app.manifest import load_course

    course = load_course()
    try:
        ids = [course.exercise(exercise).id] if exercise else None
        implementation = resolve(impl)
    except KeyError as exc:
        typer.secho(str(exc.args[0]), fg="red", err=True)
        raise typer.Exit(2) from None
    except ImplementationError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    _confinement_setting()
    score, _ = run_check(implementation.folder, ids)
    print_report(score, course, implementation, exercise_ids=ids)


@app.command()
def watch(impl: ImplOption = "exercises") -> None:
    """Check your exercises, then again every time you save one (Ctrl+C to stop)."""
    from course_app.grading.watch import watch as watch_exercises
    from course_app.impl import ImplementationError, resolve
    from course_app.manifest import load_course

    try:
        implementation = resolve(impl)
    except ImplementationError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    try:
        watch_exercises(implementation, load_course())
    except KeyboardInterrupt:
        typer.echo("\nStopped watching.")


@app.command()
def grade(
    submission: Annotated[
        Path | None,
        typer.Argument(help="a folder or .zip: an exercises/ folder, a kit copy, or the files"),
    ] = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="folder for the results")] = Path(
        "out/grades"
    ),
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", help=f"adapters to write besides the canonical file: {FORMATS}"),
    ] = None,
    batch: Annotated[
        Path | None, typer.Option(help="grade every folder or zip in this folder instead")
    ] = None,
    jobs: Annotated[int, typer.Option(help="submissions graded at once (--batch)")] = 2,
    per_test_timeout: Annotated[float | None, typer.Option(help="seconds per test")] = None,
    overall_timeout: Annotated[float | None, typer.Option(help="seconds per submission")] = None,
    memory_mb: Annotated[int | None, typer.Option(help="address space of the test process")] = None,
) -> None:
    """Grade a submission (or a folder of them) into OUT. Exits 0 whatever the grade."""
    from course_app.grading.config import load_config
    from course_app.manifest import KIT_ROOT

    chosen = formats or FORMATS
    unknown = sorted(set(chosen) - set(FORMATS))
    if unknown or (submission is None) == (batch is None):
        problem = f"unknown format {unknown}" if unknown else "give a SUBMISSION or --batch DIR"
        typer.secho(f"stepup grade: {problem}", fg="red", err=True)
        raise typer.Exit(2)
    if out.exists() and not out.is_dir():
        typer.secho(f"stepup grade: -o {out} is a file, not a folder", fg="red", err=True)
        raise typer.Exit(2)
    _confinement_setting()
    limits = load_config(KIT_ROOT).limits.but(
        per_test_timeout=per_test_timeout,
        import_timeout=per_test_timeout,
        overall_timeout=overall_timeout,
        memory_mb=memory_mb,
    )
    if batch is not None:
        _grade_batch(batch, out, jobs, chosen, limits)
        return
    assert submission is not None
    if not submission.exists():
        typer.secho(f"stepup grade: {submission} does not exist", fg="red", err=True)
        raise typer.Exit(2)
    from course_app.grading.adapters import write_all
    from course_app.grading.grade import grade as grade_submission

    found = grade_submission(submission, limits=limits)
    written = write_all(found, out, chosen)
    flagged = "  FLAGGED for review" if found["flagged"] else ""
    state = f"error: {found['message']}" if found["status"] == "error" else "graded"
    typer.echo(f"{submission.name}: {found['score']}/{found['max_score']} ({state}){flagged}")
    typer.echo(f"Results: {written[0]}")


def _grade_batch(folder: Path, out: Path, jobs: int, formats: list[str], limits) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from course_app.grading.batch import grade_batch, submissions_in

    if not folder.is_dir():
        typer.secho(f"stepup grade: --batch {folder} is not a folder", fg="red", err=True)
        raise typer.Exit(2)
    total = len(submissions_in(folder))
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns) as progress:
        bar = progress.add_task(f"Grading {total} submissions", total=total)
        gradebook = grade_batch(
            folder, out, jobs, formats, limits, on_done=lambda _: progress.advance(bar)
        )
    typer.echo(f"Gradebook: {gradebook}")


export_app = typer.Typer(help="Package the grader for a platform.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("gradescope")
def export_gradescope(
    out: Annotated[Path, typer.Option("-o", "--out", help="the zip to write")] = Path(
        "autograder.zip"
    ),
) -> None:
    """Build a Gradescope autograder zip (setup.sh, run_autograder; no solutions inside)."""
    from course_app.grading.export import export_gradescope as build

    try:
        target = build(out)
    except ValueError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Gradescope autograder: {target}")


@app.command()
def release(
    out: Annotated[Path, typer.Option("-o", "--out", help="new folder or .zip")] = Path(
        "dist/student"
    ),
    check_only: Annotated[
        Path | None, typer.Option("--check", help="only check this folder or zip for leaks")
    ] = None,
) -> None:
    """Build the student bundle (no solutions, no hidden tests) and check it for leaks."""
    from course_app.grading.release import build_bundle, check_tree

    if check_only is not None:
        problems = check_tree(check_only)
        for problem in problems:
            typer.secho(f"leak: {problem}", fg="red", err=True)
        if problems:
            raise typer.Exit(1)
        typer.echo(f"{check_only}: nothing leaks")
        return
    try:
        target = build_bundle(out)
    except ValueError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Student bundle: {target} (checked: no solutions, no hidden tests)")


@app.command("pin-stubs")
def pin_stubs() -> None:
    """Record exercises/ as the pristine stubs in course.toml (after changing a stub)."""
    from course_app.manifest import pin_stubs as pin

    changed = pin()
    typer.echo(f"Pinned: {', '.join(changed)}" if changed else "The pins were current.")


@app.command()
def hint(exercise: Annotated[str, typer.Argument(help="exercise id, e.g. ex02")]) -> None:
    """Print the hints of an exercise, task by task."""
    from course_app.manifest import load_course

    try:
        found = load_course().exercise(exercise)
    except KeyError as exc:
        typer.secho(str(exc.args[0]), fg="red", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{found.id} — {found.title}  (exercises/{found.file})")
    for task in found.tasks:
        points = f"{task.points} point" + ("" if task.points == 1 else "s")
        typer.echo(f"\n  task {task.n}: {task.title}  [{points}]")
        for text in task.hints:
            typer.echo(f"    - {text}")


if __name__ == "__main__":
    app()
