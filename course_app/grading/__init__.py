"""Running the graded tests and turning their outcomes into task points.

The same engine serves ``stepup check`` (a student at home), ``stepup watch`` and ``stepup
grade`` (the instructor), so "passes at home" means "passes when graded" (only hidden tests
differ). The judge never shares a process with student code:

- ``engine``: starts the judge, enforces the overall time limit, scores task by task.
- ``judge`` (``python -m course_app.grading``, see ``__main__``): pytest over the graded tests,
  writing one line per outcome into a file of the grader's.
- ``subject``: the judge's handle on the submission process, over HTTP on a Unix socket and a
  line-based control channel; ``driver``: that process, the only one that runs student code;
  ``confine``: how the operating system confines it (bubblewrap, a uid of its own, limits).
- ``lab``: the graded tests' helpers (the student's app, the judge's own reference app,
  calls into exercise code, the clocks).
- ``submission``, ``grade``: a submission in, one result out; ``results`` and ``adapters``:
  the canonical results file and its Gradescope, Exercism, JUnit and Markdown forms;
  ``batch``: a folder of submissions and a gradebook.
- ``export`` (Gradescope autograder zip) and ``release`` (the student bundle and its leak check).
- ``selfcheck``: the student's report; ``watch``: re-check on save; ``expect``: prose
  assertions for graded tests; ``config``: the manifest's ``[grading]`` table.
"""
