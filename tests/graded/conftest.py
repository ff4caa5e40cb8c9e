"""The graded tests' fixtures and rules live in the kit, in the judge's pytest plugin
(``course_kit.grading.judge.plugin``): the submission process, the per-test budget, the
verdicts, the clocks, ``make_lab`` and ``student_of``. Importing them here is what makes
``pytest tests/graded`` use them."""

from course_kit.grading.judge.plugin import (  # noqa: F401 - pytest finds them by name here
    budget,
    clock,
    judge_clock,
    make_lab,
    pytest_addoption,
    pytest_configure,
    pytest_runtest_makereport,
    student_of,
    subject,
)
