"""The ``stepup`` command: serve the app, check your work, read hints, grade submissions."""

import os
from typing import Annotated

import typer

app = typer.Typer(
    help="Step-Up Auth Lab: a course kit on step-up authentication.", no_args_is_help=True
)

ImplOption = Annotated[
    str,
    typer.Option("--impl", help="solutions, exercises, or a submission folder"),
]


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="port on localhost")] = 8000,
    impl: ImplOption = "solutions",
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    dev: Annotated[
        bool, typer.Option("--dev/--no-dev", help="dev mailbox and demo accounts")
    ] = True,
) -> None:
    """Run the reference app with uvicorn on http://localhost:PORT."""
    import uvicorn

    from course_app.app import create_app
    from course_app.impl import ImplementationError
    from course_app.seed import seed_demo
    from course_app.settings import Settings

    overrides: dict[str, object] = {"dev_mode": dev}
    if "STEPUP_ORIGIN" not in os.environ:
        overrides["origin"] = f"http://localhost:{port}"
    settings = Settings(**overrides)  # type: ignore[arg-type]
    try:
        application = create_app(settings, impl)
    except ImplementationError as exc:
        typer.secho(f"Cannot start: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Step-Up Auth Lab on {settings.origin}  (implementation: {impl})")
    typer.echo(f"Database: {settings.db_path}")
    if settings.dev_mode:
        for line in seed_demo(settings):
            typer.echo(line)
        typer.echo(f"Dev mailbox: {settings.origin}/dev/mail")
    uvicorn.run(application, host=host, port=port, log_level="info")


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
    ids = [course.exercise(exercise).id] if exercise else None
    try:
        implementation = resolve(impl)
    except ImplementationError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    score, _ = run_check(implementation.folder, ids)
    print_report(score, course, implementation, exercise_ids=ids)


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
        typer.echo(f"\n  task {task.n}: {task.title}  [{task.points} points]")
        for text in task.hints:
            typer.echo(f"    - {text}")
