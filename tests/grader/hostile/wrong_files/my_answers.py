"""The student's answers, under a name the course does not use."""

ANSWERS = {"inbox_unproven": True}
