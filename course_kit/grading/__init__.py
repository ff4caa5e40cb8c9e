"""Running the graded tests and turning their outcomes into task points.

The same engine serves ``stepup check`` (a student at home), ``stepup watch`` and ``stepup
teach grade`` (the instructor), so "passes at home" means "passes when graded" (only hidden
tests differ). Three processes, one folder each, and the judge never shares a process with
student code:

- ``engine`` (the caller's process): starts the judges, enforces the overall time limit, reads
  what they found; ``outcome``: that as data, and the score task by task.
- ``judge/`` (``python -m course_kit.grading.judge``): pytest over the graded tests with the
  kit's plugin; ``subject`` is its handle on the submission process, ``remote`` what the graded
  tests hold (the student's app, the judge's own reference app, calls into exercise code),
  ``expect`` prose assertions.
- ``sandbox/``: ``process``, the only process that runs student code; ``confine``, how the
  operating system confines it; ``protocol``, the wire contract both sides import.
"""
