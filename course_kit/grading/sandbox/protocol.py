"""The wire contract between the judge and the submission process: both sides import this
module, and nothing else of each other.

Two channels:

- HTTP over Unix sockets: the judge's requests to the student's app carry ``EXERCISE_HEADER``
  (which exercise's app); a 500 carries ``CRASH_HEADER``, where the student's code raised.
- The control channel, one JSON object per line each way on the process's stdin/stdout. The
  judge sends ``{"id": n, "op": …}``; the process answers ``{"id": n, …}``, possibly after
  questions of the dialog (``{"id": n, "modal": challenge}`` answered by
  ``{"id": n, "answer": …}``). While booting it announces ``importing``/``imported`` per
  exercise, then ``ready``.

What the student's code did is always a field, never a sentence to match: a reply with
``raised`` is an exception of theirs (:class:`Raised`), and a crash header is one too.
"""

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from course_kit.kit import ORIGIN  # the origin of every app on both ends of the sockets

if TYPE_CHECKING:  # httpx is imported where a client is made: the judge starts the process first
    import httpx

EXERCISE_HEADER = "x-stepup-exercise"  # which exercise's app a request is for
CRASH_HEADER = "x-stepup-error"  # on a 500: the student's exception, as Raised.to_header()
MAX_LINE = 1 << 20  # the longest control message either side reads
MAX_QUESTIONS = 100  # the dialog's questions in one call: more is a loop
MAX_BODY = 4 << 20  # the largest HTTP body the judge reads from the student's app
OPS = (
    "reset",
    "reload",
    "tick",
    "sql",
    "enroll",
    "two_factor",
    "recovery_codes",
    "open_session",
    "end_session",
    "read",
    "client",
    "call",
)


@dataclass(frozen=True)
class Raised:
    """An exception of the student's code: its class, the names of the classes it derives
    from (so the judge can tell a ``NotImplementedError`` without importing anything), where
    it was raised in their file, and its message."""

    type: str
    classes: tuple[str, ...]
    at: str
    message: str

    @classmethod
    def of(cls, exc: BaseException, at: str) -> "Raised":
        return cls(
            type(exc).__name__, tuple(c.__name__ for c in type(exc).__mro__), at, str(exc)[:500]
        )

    @classmethod
    def from_wire(cls, fields: dict[str, Any]) -> "Raised":
        classes = fields.get("classes")
        return cls(
            str(fields.get("type", "Exception"))[:100],
            tuple(str(c)[:100] for c in classes[:20]) if isinstance(classes, list) else (),
            str(fields.get("at", ""))[:300],
            str(fields.get("message", ""))[:500],
        )

    def to_wire(self) -> dict[str, Any]:
        return {"raised": asdict(self) | {"classes": list(self.classes)}}

    def to_header(self) -> str:
        """The crash header: ``Type|at|message``, ASCII (non-ASCII escaped)."""
        text = f"{self.type}|{self.at}|{self.message}"[:300]
        return text.encode("ascii", "backslashreplace").decode("ascii")

    @classmethod
    def from_header(cls, text: str) -> "Raised":
        kind, _, rest = text.partition("|")
        at, _, message = rest.partition("|")
        return cls(kind, (kind,), at, message)

    def describe(self) -> str:
        """``ValueError (at exercises/ex03_….py:31): the message``."""
        where = f" (at {self.at})" if self.at else ""
        return f"{self.type}{where}: {self.message}"


@dataclass(frozen=True)
class Part:
    """An exercise as the judge names it to the process: ``ex01:ex01_email_change.py:router``
    (what the app takes from the file: its ``router``, its ``policy`` rows, both or neither)."""

    id: str
    file: str
    router: bool
    policy: bool = False

    @classmethod
    def parse(cls, text: str) -> "Part":
        exercise_id, file, flags = text.split(":")
        taken = set(flags.split(","))
        return cls(exercise_id, file, "router" in taken, "policy" in taken)

    @classmethod
    def of(cls, exercise: Any) -> "Part":
        return cls(exercise.id, exercise.file, bool(exercise.router), bool(exercise.policy))

    @property
    def mounted(self) -> bool:
        """Whether the app is built with this exercise (else its tests call its functions)."""
        return self.router or self.policy

    def spec(self) -> str:
        flags = [name for name, on in (("router", self.router), ("policy", self.policy)) if on]
        return f"{self.id}:{self.file}:{','.join(flags)}"


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON data; anything else becomes ``{"type": name}`` (never code)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if depth < 8 and isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in list(value.items())[:200]}
    if depth < 8 and isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in list(value)[:200]]
    return {"type": type(value).__name__}


def pack(value: Any) -> Any:
    """Bytes cross the JSON channel as ``{"bytes": latin-1 text}``."""
    if isinstance(value, bytes):
        return {"bytes": value.decode("latin-1")}
    if isinstance(value, dict):
        return {k: pack(v) for k, v in value.items()}
    return value


def unpack(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"bytes"} and isinstance(value["bytes"], str):
            return value["bytes"].encode("latin-1")
        return {k: unpack(v) for k, v in value.items()}
    return value


def socket_client(
    transport: "httpx.HTTPTransport | str", headers: dict[str, str] | None = None, **kwargs: Any
) -> "httpx.Client":
    """A browser-like httpx client of an app served on a Unix socket (a path, or a transport
    made for one): the app's origin as base URL and ``Origin`` header."""
    import httpx

    if isinstance(transport, str):
        transport = httpx.HTTPTransport(uds=transport, verify=False)  # no TLS: skip the CA files
    headers = {"origin": ORIGIN, **(headers or {})}
    return httpx.Client(transport=transport, base_url=ORIGIN, headers=headers, **kwargs)
