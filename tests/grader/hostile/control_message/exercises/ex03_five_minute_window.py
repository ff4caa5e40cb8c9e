"""Every function raises an exception whose message no XML file may hold and no terminal
should print raw."""

NASTY = "\x1b[2J\x7f\x9b\ufffe\uffff" + "".join(map(chr, range(32))) + "\x85"


def needs_step_up(response):
    raise ValueError("bad " + NASTY)


class StepUpFailed(Exception):
    pass


class StepUpClient:
    def __init__(self, http, confirm, max_attempts=3):
        raise ValueError("bad " + NASTY)
