"""What the command line says when it must stop: one line in red, never a traceback."""

from typing import NoReturn

import typer


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` in red on stderr and stop with ``code`` (2: the command was misused)."""
    typer.secho(message, fg="red", err=True)
    raise typer.Exit(code)


def confinement_setting() -> None:
    """A wrong ``STEPUP_CONFINE`` stops the command at once, with the allowed values."""
    from course_kit.grading.sandbox.confine import detect

    try:
        detect()
    except ValueError as exc:
        fail(str(exc))
