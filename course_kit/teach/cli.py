"""``stepup teach``: the instructor's commands. Grading one submission or a class, building the
student bundle and the Gradescope autograder, and writing new exercises."""

from pathlib import Path
from typing import Annotated

import typer

from course_kit.console import confinement_setting, fail
from course_kit.manifest import Limits

teach = typer.Typer(help="The instructor's commands: grade, publish, author.", no_args_is_help=True)

FORMATS = ["gradescope", "exercism", "junit", "markdown"]
FormatsOption = Annotated[
    list[str] | None,
    typer.Option("--format", help=f"adapters to write besides the canonical file: {FORMATS}"),
]
OutOption = Annotated[Path, typer.Option("-o", "--out", help="folder for the results")]
PerTest = Annotated[
    float | None, typer.Option(help="seconds per test (and per import of an exercise file)")
]
Overall = Annotated[float | None, typer.Option(help="seconds per submission")]
Memory = Annotated[int | None, typer.Option(help="memory of one submission, in MiB")]


def _limits(per_test_timeout: float | None, overall: float | None, memory: int | None) -> Limits:
    from course_kit.manifest import load_course

    confinement_setting()
    return load_course().grading.limits.but(
        per_test_timeout=per_test_timeout,
        import_timeout=per_test_timeout,
        overall_timeout=overall,
        memory_mb=memory,
    )


def _formats(formats: list[str] | None, out: Path) -> list[str]:
    chosen = formats or FORMATS
    unknown = sorted(set(chosen) - set(FORMATS))
    if unknown:
        fail(f"stepup teach: unknown format {unknown} (known: {', '.join(FORMATS)})")
    if out.exists() and not out.is_dir():
        fail(f"stepup teach: -o {out} is a file, not a folder")
    return chosen


@teach.command()
def grade(
    submission: Annotated[
        Path,
        typer.Argument(help="a folder or .zip: an exercises/ folder, a kit copy, or the files"),
    ],
    out: OutOption = Path("out/grades"),
    formats: FormatsOption = None,
    per_test_timeout: PerTest = None,
    overall_timeout: Overall = None,
    memory_mb: Memory = None,
) -> None:
    """Grade one submission into OUT. Exits 0 whatever the grade."""
    chosen = _formats(formats, out)
    if not submission.exists():
        fail(f"stepup teach grade: {submission} does not exist")
    limits = _limits(per_test_timeout, overall_timeout, memory_mb)
    from course_kit.teach.grade.adapters import write_all
    from course_kit.teach.grade.grade import grade as grade_submission

    found = grade_submission(submission, limits=limits)
    written = write_all(found, out, chosen)
    flagged = "  FLAGGED for review" if found.flagged else ""
    state = f"error: {found.message}" if found.status == "error" else "graded"
    typer.echo(f"{submission.name}: {found.score}/{found.max_score} ({state}){flagged}")
    typer.echo(f"Results: {written[0]}")


@teach.command()
def batch(
    folder: Annotated[Path, typer.Argument(help="a folder holding one folder or zip per student")],
    out: OutOption = Path("out/grades"),
    formats: FormatsOption = None,
    jobs: Annotated[int, typer.Option(help="submissions graded at once")] = 2,
    per_test_timeout: PerTest = None,
    overall_timeout: Overall = None,
    memory_mb: Memory = None,
) -> None:
    """Grade every submission in FOLDER into OUT/<name>/, and write OUT/gradebook.csv."""
    chosen = _formats(formats, out)
    if not folder.is_dir():
        fail(f"stepup teach batch: {folder} is not a folder")
    limits = _limits(per_test_timeout, overall_timeout, memory_mb)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from course_kit.teach.grade.batch import grade_batch, submissions_in

    total = len(submissions_in(folder))
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns) as progress:
        bar = progress.add_task(f"Grading {total} submissions", total=total)
        gradebook = grade_batch(
            folder, out, jobs, chosen, limits, on_done=lambda _: progress.advance(bar)
        )
    typer.echo(f"Gradebook: {gradebook}")
    if total:
        from course_kit.teach.report.write import PAGE

        typer.echo(f"Class report: {out / PAGE}")


@teach.command()
def report(
    folder: Annotated[
        Path, typer.Argument(help="a batch's folder: OUT of stepup teach batch, one folder each")
    ],
) -> None:
    """Write the class report of FOLDER into it: class-report.html (opens offline),
    class-summary.md with its charts, and CSV tables."""
    from course_kit.teach.report.rows import ReportError
    from course_kit.teach.report.write import write_report

    try:
        written = write_report(folder)
    except ReportError as exc:
        fail(f"stepup teach report: {exc}")
    typer.echo(f"Class report: {written[0]}")
    typer.echo("Beside it: " + ", ".join(p.name for p in written[1:]))


export_app = typer.Typer(help="Package the grader for a platform.", no_args_is_help=True)
teach.add_typer(export_app, name="export")


@export_app.command("gradescope")
def export_gradescope(
    out: Annotated[Path, typer.Option("-o", "--out", help="the zip to write")] = Path(
        "autograder.zip"
    ),
) -> None:
    """Build a Gradescope autograder zip (setup.sh, run_autograder; no solutions inside)."""
    from course_kit.kit import KitError
    from course_kit.teach.publish.gradescope import export_gradescope as build

    try:
        target = build(out)
    except KitError as exc:
        fail(str(exc), 1)
    typer.echo(f"Gradescope autograder: {target}")


@teach.command("dry-run")
def dry_run(
    submission: Annotated[Path, typer.Argument(help="a folder or .zip, as a student uploads it")],
    autograder: Annotated[
        Path | None,
        typer.Option(help="an autograder zip made earlier (default: export one now)"),
    ] = None,
    python: Annotated[
        str | None,
        typer.Option(
            help="grade with this interpreter instead of building the image's virtualenv"
            " (which needs the network); it must hold the pinned versions"
        ),
    ] = None,
    keep: Annotated[
        Path | None, typer.Option(help="the scratch root to use and keep (default: removed)")
    ] = None,
) -> None:
    """Run the Gradescope autograder here: setup.sh and run_autograder in a scratch root laid
    out as /autograder, then check results.json against Gradescope's documented fields."""
    import shutil
    import tempfile

    from course_kit.kit import KitError
    from course_kit.teach.publish.dryrun import dry_run as play

    root = keep or Path(tempfile.mkdtemp(prefix="stepup-dry-run-"))
    if keep is not None and keep.exists() and any(keep.iterdir()):
        fail(f"stepup teach dry-run: --keep {keep} must be a new or empty folder")
    try:
        found = play(submission, root, autograder, python)
    except KitError as exc:
        fail(f"stepup teach dry-run: {exc}")
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    for step in found.steps:
        mark = typer.style("✓", fg="green") if step.code == 0 else typer.style("✗", fg="red")
        typer.echo(f"{mark} {step.script} ({step.seconds:.1f} s)")
        if step.code != 0:
            typer.echo(step.output)
    if found.results is not None:
        entries = len(found.results.tests or [])
        typer.echo(f"results.json: score {found.results.score}, {entries} test entries")
    for problem in found.problems:
        typer.secho(problem, fg="red", err=True)
    if keep is not None:
        typer.echo(f"Scratch root kept: {keep}")
    if not found.ok:
        raise typer.Exit(1)
    typer.echo("results.json holds Gradescope's documented fields only, each of the right type")


@teach.command()
def release(
    out: Annotated[Path, typer.Option("-o", "--out", help="new folder or .zip")] = Path(
        "dist/student"
    ),
    check_only: Annotated[
        Path | None, typer.Option("--check", help="only check this folder or zip for leaks")
    ] = None,
) -> None:
    """Build the student bundle (no solutions, no hidden tests) and check it for leaks."""
    from course_kit.kit import KitError
    from course_kit.teach.publish.release import build_bundle, check_tree

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
    except KitError as exc:
        fail(str(exc), 1)
    typer.echo(f"Student bundle: {target} (checked: no solutions, no hidden tests)")


@teach.command()
def stubs(
    exercise: Annotated[str | None, typer.Argument(help="only this exercise, e.g. ex06")] = None,
) -> None:
    """Write exercises/ from the marked solutions/ and pin them in course.toml."""
    from course_kit.kit import KitError
    from course_kit.manifest import load_course
    from course_kit.teach.author.stubs import write_stubs

    try:
        course = load_course()
        only = [course.exercise(exercise).id] if exercise else None
        changed = write_stubs(course, only)
    except KitError as exc:
        fail(str(exc))
    typer.echo(
        f"Written and pinned: {', '.join(changed)}" if changed else "The stubs were current."
    )


@teach.command()
def new(
    title: Annotated[str, typer.Argument(help='e.g. "Step-up on turning off two-factor"')],
    name: Annotated[str, typer.Option(help="the file name's part after the id: turn_off_2fa")],
    tasks: Annotated[int, typer.Option(help="how many tasks")] = 3,
    router: Annotated[bool, typer.Option(help="the tasks are routes of the app")] = False,
) -> None:
    """Scaffold the next exercise: solution, stub, graded tests, notebook, manifest entry."""
    from course_kit.kit import KIT_ROOT, KitError
    from course_kit.teach.author.scaffold import new_exercise

    try:
        written = new_exercise(title, name, tasks, router)
    except KitError as exc:
        fail(str(exc))
    for path in written:
        typer.echo(f"  wrote {path.relative_to(KIT_ROOT)}")
    typer.echo(
        "Next: write the solution (its markers make the stub: stepup teach stubs), the tests,"
        " the notebook and the hints in course.toml; replace every TODO(author); then run"
        " stepup teach verify. docs/authoring.md walks through it."
    )


@teach.command()
def verify(
    exercise: Annotated[str, typer.Argument(help="the exercise, e.g. ex06")],
    jobs: Annotated[int, typer.Option(help="checks run at once")] = 2,
) -> None:
    """Everything CI proves of one exercise: stub, both directions, tasks in order, mutants,
    notebook, release. Exits 1 when a check fails."""
    from course_kit.kit import KitError
    from course_kit.manifest import load_course
    from course_kit.teach.author.verify import verify as run_checks

    try:
        exercise_id = load_course().exercise(exercise).id
        findings = run_checks(exercise_id, jobs=jobs)
    except KitError as exc:
        fail(str(exc))
    for finding in findings:
        mark = typer.style("✓", fg="green") if finding.ok else typer.style("✗", fg="red")
        typer.echo(f"{mark} {finding.check}  ({finding.seconds:.1f} s)")
        for problem in finding.problems:
            typer.echo(f"    {problem}")
    failed = [f for f in findings if not f.ok]
    typer.echo(f"{exercise_id}: {len(findings) - len(failed)}/{len(findings)} checks hold")
    if failed:
        typer.echo(f"Next: {failed[0].check}: {failed[0].problems[0].splitlines()[0]}")
        raise typer.Exit(1)
    typer.echo("Next: make test (the whole course, as CI runs it), then commit")
