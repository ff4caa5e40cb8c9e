"""The course kit: everything that runs, checks, grades and ships the reference app
(``course_app``), which never imports it.

- ``kit`` (where the kit is, its part lists), ``manifest`` (``course.toml`` as typed models),
  ``impl`` (which exercise files: solutions, exercises or a submission), ``people`` and ``lab``
  (accounts and signed-in clients for tests and notebooks), ``timetravel`` (freezegun),
  ``testing`` (the API graded tests are written with), ``text``, ``source``, ``console``.
- ``cli``: the ``stepup`` command. ``student/``: what ``stepup check`` and ``watch`` print.
- ``grading/``: the engine both ``stepup check`` and grading use; ``grading/judge/`` runs
  pytest over the graded tests, ``grading/sandbox/`` is the only place a student's code runs.
- ``teach/``: the instructor's side (``stepup teach``): ``grade/``, ``publish/``, ``author/``.
  The student bundle leaves it out.
- ``notebook/``: the helpers the notebooks import as ``nb``.
"""
