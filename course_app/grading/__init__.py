"""Running the graded tests and turning their outcomes into task points.

The same engine serves ``stepup check`` (a student at home) and ``stepup grade`` (the
instructor), so "passes at home" means "passes when graded".
"""
