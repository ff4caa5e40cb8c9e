"""Running the graded tests and turning their outcomes into task points.

The same engine serves ``stepup check`` (a student at home) and ``stepup grade`` (the
instructor), so "passes at home" means "passes when graded" (only hidden tests differ).

- ``engine``: run the graded tests against an implementation, score them task by task.
- ``runner`` (this process) and ``reporter`` (a pytest plugin in the child) with ``protocol``
  between them: watched child processes, signed results, timeouts, canaries, reconciliation.
- ``policy``: the audit hook that fences student code in the child.
- ``submission``, ``sandbox``, ``grade``: a submission in, a throwaway kit copy, one result.
- ``results`` and ``adapters``: the canonical results file and its Gradescope, Exercism, JUnit
  and Markdown forms; ``batch``: a folder of submissions and a gradebook.
- ``export`` (Gradescope autograder zip) and ``release`` (the student bundle and its leak check).
- ``selfcheck``: the student's report; ``expect``: prose assertions for graded tests;
  ``config``: the manifest's ``[grading]`` table.
"""
