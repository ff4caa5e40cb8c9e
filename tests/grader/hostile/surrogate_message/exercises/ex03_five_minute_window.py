"""Every function raises an exception whose message is not valid Unicode text."""


def needs_step_up(response):
    raise ValueError("bad \ud800 surrogate")


class StepUpFailed(Exception):
    pass


class StepUpClient:
    def __init__(self, http, confirm, max_attempts=3):
        raise ValueError("bad \udfff surrogate")
