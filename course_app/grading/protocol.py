"""The channel between the grader and the test process it watches.

The grader hands the child two inherited pipe ends, named in ``STEPUP_GRADER_FDS``: it writes a
control message (a fresh HMAC key, the canary nonce, what to run, the sandbox policy) into the
first and closes it; the child reads it while loading the reporter plugin, *before* any student
code is imported, drops the variable from its environment and keeps the key in memory only.
Every record the child sends back on the second pipe is one line, ``<hmac> <seq> <json>``: a
line written by anyone without the key, or out of sequence, is caught.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

FDS_ENV = "STEPUP_GRADER_FDS"
MAX_LINE = 1 << 20  # longer than any record we write: a flood is tampering, not a result


def mac(key: bytes, seq: int, payload: str) -> str:
    return hmac.new(key, f"{seq} {payload}".encode(), hashlib.sha256).hexdigest()


def encode(key: bytes, seq: int, event: dict[str, Any]) -> bytes:
    payload = json.dumps(event, separators=(",", ":"), ensure_ascii=True)
    return f"{mac(key, seq, payload)} {seq} {payload}\n".encode("ascii")


@dataclass
class Decoder:
    """Turns the bytes read from the pipe into verified events, in order."""

    key: bytes
    seq: int = 0
    buffer: bytes = b""
    problems: list[str] = field(default_factory=list)

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        if len(self.buffer) > MAX_LINE:
            self.problems.append("an over-long line arrived on the results channel")
            self.buffer = b""
        events = []
        for line in lines:
            event = self._verify(line)
            if event is not None:
                events.append(event)
        return events

    def _verify(self, line: bytes) -> dict[str, Any] | None:
        try:
            digest, seq_text, payload = line.decode("ascii").split(" ", 2)
            seq = int(seq_text)
        except (UnicodeDecodeError, ValueError):
            self.problems.append("a malformed line arrived on the results channel")
            return None
        if not hmac.compare_digest(digest, mac(self.key, seq, payload)):
            self.problems.append("a record with a wrong signature arrived on the results channel")
            return None
        if seq != self.seq:
            self.problems.append(f"record {seq} arrived where {self.seq} was expected")
            return None
        self.seq += 1
        return json.loads(payload)
