"""The ``stepup`` command. Students see ``serve``, ``check``, ``watch`` and ``hint``; the
instructor's commands sit under ``stepup teach`` (``course_kit.teach.cli``), which the student
bundle does not contain, so a student's ``stepup --help`` lists only their own."""

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from course_kit.console import confinement_setting, fail
from course_kit.impl import DEFAULT

if TYPE_CHECKING:
    from course_kit.impl import Implementation

app = typer.Typer(
    help="Step-Up Auth Lab: a course kit on step-up authentication.", no_args_is_help=True
)


ImplOption = Annotated[
    str,
    typer.Option("--impl", help="solutions, exercises, or a submission folder"),
]


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

    from course_app.db import DatabaseUnavailable
    from course_app.seed import seed_demo
    from course_app.serving import server_config
    from course_app.settings import Settings
    from course_kit.impl import resolve
    from course_kit.kit import KitError
    from course_kit.manifest import load_course

    overrides: dict[str, object] = {} if dev is None else {"dev_mode": dev}
    if "STEPUP_ORIGIN" not in os.environ:
        overrides["origin"] = f"http://localhost:{port}"
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        fail(f"Cannot start: a STEPUP_* setting is invalid.\n{exc}")
    try:
        application = resolve(impl).build_app(settings, load_course().exercises)
    except KitError as exc:
        fail(f"Cannot start: {exc}")
    except DatabaseUnavailable as exc:
        fail(
            f"Cannot start: {exc}\nCheck that the folder exists and is writable, or set"
            " STEPUP_DB_PATH to a file this user may write."
        )
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


def chosen(exercise: str | None, impl: str) -> tuple[list[str] | None, "Implementation"]:
    """The exercise ids asked for (``ex1`` means ``ex01``) and the implementation, or one line
    saying what is wrong."""
    from course_kit.impl import resolve
    from course_kit.kit import KitError
    from course_kit.manifest import load_course

    try:
        ids = [load_course().exercise(exercise).id] if exercise else None
        return ids, resolve(impl)
    except KitError as exc:
        fail(str(exc))


@app.command()
def check(
    exercise: Annotated[str | None, typer.Argument(help="only this exercise, e.g. ex01")] = None,
    impl: ImplOption = "exercises",
) -> None:
    """Run the graded tests against your exercises and say what to do next."""
    from course_kit.grading.engine import check as run_check
    from course_kit.manifest import load_course
    from course_kit.student import warm
    from course_kit.student.report import print_report

    ids, implementation = chosen(exercise, impl)
    confinement_setting()
    course = load_course()
    # The previous check's processes, kept warm, answer in a fraction of the time.
    result = warm.check(implementation.folder, ids, course) if warm.enabled() else None
    if result is None:
        result = run_check(implementation.folder, ids, course)
        if warm.enabled():
            warm.start(implementation.folder, course)
    print_report(result[0], course, implementation, exercise_ids=ids)


@app.command()
def watch(impl: ImplOption = "exercises") -> None:
    """Check your exercises, then again every time you save one (Ctrl+C to stop)."""
    from course_kit.manifest import load_course
    from course_kit.student.watch import watch as watch_exercises

    _, implementation = chosen(None, impl)
    try:
        watch_exercises(implementation, load_course())
    except KeyboardInterrupt:
        typer.echo("\nStopped watching.")


@app.command()
def hint(exercise: Annotated[str, typer.Argument(help="exercise id, e.g. ex02")]) -> None:
    """Print the hints of an exercise, task by task."""
    from course_kit.manifest import load_course
    from course_kit.markup import to_plain

    ids, _ = chosen(exercise, "exercises")
    assert ids is not None
    found = load_course().exercise(ids[0])
    typer.echo(f"{found.id} — {found.title}  ({found.path})")
    for task in found.tasks:
        points = f"{task.points} point" + ("" if task.points == 1 else "s")
        typer.echo(f"\n  task {task.n}: {task.title}  [{points}]")
        for text in task.hints:
            typer.echo(f"    - {to_plain(text)}")


def _instructor_commands() -> None:
    """``stepup teach``, where the kit has it (the student bundle leaves it out)."""
    if not (Path(__file__).parent / "teach" / "cli.py").is_file():
        return
    from course_kit.teach.cli import teach

    app.add_typer(teach, name="teach")


_instructor_commands()

if __name__ == "__main__":
    app()
