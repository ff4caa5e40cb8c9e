"""What the graded tests hold: the judge's side of a submission, without its code.

- :class:`RemoteLab`: the helpers of :class:`course_kit.lab.Lab` (people, sign-in, mail,
  database rows) against the student's app in the submission process, over HTTP.
- :class:`ReferenceServer`: the judge's *own* reference app, for client exercises: the
  student's client (in the submission process) talks to it, and its request log is what the
  judge believes, never what the client says it did.
- :class:`Student`: exercise functions and client methods called in the submission process;
  the dialog's questions come back to the judge's :class:`course_kit.lab.Modal`.
- :class:`Clocks`: one ``tick`` for every frozen clock of a test.
"""

import threading
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.responses import JSONResponse
from freezegun.api import FrozenDateTimeFactory

from course_app.db import init_db
from course_kit.grading.judge.failures import SubjectError
from course_kit.grading.judge.subject import Subject
from course_kit.grading.sandbox.protocol import MAX_BODY, Raised, pack, socket_client
from course_kit.lab import Lab, Modal
from course_kit.people import PASSWORD, lab_settings

Scope = MutableMapping[str, Any]
SUBJECT = pytest.StashKey[Subject]()  # where the judge's plugin keeps the process


@dataclass
class RemoteLab(Lab):
    """A :class:`Lab` whose app is the student's, in the submission process."""

    subject: Subject | None = None
    exercise: str = ""

    @classmethod
    def of(cls, subject: Subject, exercise: str) -> "RemoteLab":
        # The settings the student's app runs with; its database is reached only through
        # the submission process (the judge never opens a file the submission can replace).
        settings = lab_settings(subject.private)
        return cls(settings, None, subject=subject, exercise=exercise)  # type: ignore[arg-type]

    def client(self) -> httpx.Client:  # type: ignore[override]
        assert self.subject is not None
        client = self.subject.http(self.exercise)
        self.clients.append(client)  # type: ignore[arg-type]
        return client

    def ask(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self.subject is not None
        return Student.reply(self.subject.command(op, **fields))

    def db(self) -> Any:
        raise NotImplementedError("the judge never opens the submission's files: use query()")

    def query(self, sql: str, *params: Any) -> list[Any]:
        rows: list[Any] = self.ask("sql", sql=sql, params=list(params))["rows"]
        return rows

    def execute(self, sql: str, *params: Any) -> int:
        return int(self.ask("sql", sql=sql, params=list(params))["lastrowid"] or 0)

    def enroll(self, email: str, password: str = PASSWORD, verified: bool = True) -> int:
        reply = self.ask("enroll", email=email, password=password, verified=verified)
        return int(reply["user_id"])

    def add_member(self, owner: Any, org_id: int, email: str, role: str = "member") -> None:
        """Setup for graded tests, not what they test: the membership is written directly
        (one step instead of an invitation's ten; tests/app covers the invitation routes)."""
        member = self.user(email)
        assert member is not None, f"no account uses {email}"
        self.execute(
            "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)"
            " ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
            org_id,
            member["id"],
            role,
        )

    def enable_two_factor(self, user_id: int) -> str:
        return str(self.ask("two_factor", user_id=user_id)["secret"])

    def issue_recovery_codes(self, user_id: int) -> list[str]:
        return [str(code) for code in self.ask("recovery_codes", user_id=user_id)["codes"]]

    def open_session(self, user_id: int, confirmed: bool = False) -> tuple[str, int]:
        reply = self.ask("open_session", user_id=user_id, confirmed=confirmed)
        return str(reply["token"]), int(reply["session_id"])

    def end_session(self, session_id: int) -> None:
        self.ask("end_session", session_id=session_id)


@dataclass(frozen=True)
class Seen:
    """One request as the judge's own server saw it."""

    method: str
    path: str
    query: str
    body: str
    status: int


TOO_LARGE = JSONResponse(
    {"error": f"Request body larger than {MAX_BODY >> 20} MiB", "code": "too_large"},
    status_code=413,
)


class RequestLog:
    """ASGI middleware: every request and the status it got, in order."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[Seen] = []

    async def __call__(
        self, scope: Scope, receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The whole body first (a guard may answer before the route reads it), then replayed;
        # at most MAX_BODY of it: the student's client must not fill the judge's memory.
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                self.seen.append(Seen(scope["method"], scope["path"], "", "(too large)", 413))
                await TOO_LARGE(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        replayed = False
        query = scope.get("query_string", b"").decode("latin-1")
        text = body.decode("utf-8", "replace")

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                message: dict[str, Any] = await receive()
                return message
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":  # logged before the client can see it
                self.seen.append(
                    Seen(scope["method"], scope["path"], query, text, message["status"])
                )
            await send(message)

        await self.app(scope, replay, sending)

    def prompts(self) -> int:
        """How many times a dialog opened: each run of ``POST /auth/confirm`` is one."""
        runs, previous = 0, False
        for seen in self.seen:
            confirming = (seen.method, seen.path) == ("POST", "/auth/confirm")
            runs += confirming and not previous
            previous = confirming
        return runs

    def confirmations(self) -> int:
        return sum((s.method, s.path) == ("POST", "/auth/confirm") for s in self.seen)


class ReferenceServer:
    """The reference app (no student router) under uvicorn on a Unix socket in the judge."""

    def __init__(self, subject: Subject) -> None:
        import uvicorn

        from course_app.app import create_app

        self.subject = subject
        self.socket = subject.shared / "reference.sock"
        self.folder = subject.work / "reference"
        self.folder.mkdir(exist_ok=True)
        # No exercise router is mounted, so no exercise file is ever imported here.
        self.settings = lab_settings(self.folder)
        self.app = create_app(self.settings)
        self.log = RequestLog(self.app)
        self.socket.unlink(missing_ok=True)
        config = uvicorn.Config(
            self.log, uds=str(self.socket), log_level="warning", lifespan="off", access_log=False
        )
        self.server = uvicorn.Server(config)
        threading.Thread(target=self.server.run, daemon=True).start()
        while not self.server.started:
            time.sleep(0.005)
        self.socket.chmod(0o666)  # the submission process runs as another user

    def fresh(self) -> Lab:
        """A clean database and an empty log: the lab of one test."""
        for suffix in ("-wal", "-shm", ""):
            Path(f"{self.settings.db_path}{suffix}").unlink(missing_ok=True)
        init_db(self.settings.db_path)
        self.log.seen.clear()
        return LocalLab(self.settings, self.app, socket=self.socket)

    def inside(self) -> str:
        """The socket's path as the submission process sees it."""
        inside = self.subject.inside
        assert inside is not None and inside.shared is not None
        return str(inside.shared / self.socket.name)

    def stop(self) -> None:
        self.server.should_exit = True


@dataclass
class LocalLab(Lab):
    """A :class:`Lab` on the judge's reference server, reached over its socket."""

    socket: Path = Path()

    def client(self) -> httpx.Client:  # type: ignore[override]
        client = socket_client(str(self.socket))
        self.clients.append(client)  # type: ignore[arg-type]
        return client


class StudentRaised(Exception):
    """The student's code raised: :attr:`raised` says what, where (a test that lets this
    propagate fails with cause "raised")."""

    def __init__(self, raised: Raised) -> None:
        self.raised = raised
        super().__init__(f"your code raised {raised.describe()}")

    @property
    def classes(self) -> tuple[str, ...]:
        return self.raised.classes

    def describe(self) -> str:
        return self.raised.describe()


@dataclass
class Student:
    """Exercise code, called in the submission process."""

    subject: Subject
    exercise: str

    def __post_init__(self) -> None:
        self.subject.check_usable(self.exercise)

    def read(self, *names: str) -> dict[str, Any]:
        reply = self.reply(self.subject.command("read", exercise=self.exercise, names=list(names)))
        values: dict[str, Any] = reply["values"]
        return values

    def call(self, function: str, *args: Any, response: httpx.Response | None = None) -> Any:
        """``function(response, *args)`` for a response described to the process."""
        shape = None
        if response is not None:
            shape = {
                "status": response.status_code,
                "headers": dict(response.headers),
                "content": response.content.decode("latin-1"),
            }
        reply = self.subject.command(
            "call", exercise=self.exercise, function=function, args=list(args), response=shape
        )
        return self.reply(reply).get("value")

    def client(
        self, http: httpx.Client, server: ReferenceServer, modal: Modal, **kwargs: Any
    ) -> "RemoteClient":
        reply = self.subject.command(
            "client",
            exercise=self.exercise,
            socket=server.inside(),
            cookies=dict(http.cookies),
            kwargs=kwargs,
        )
        self.reply(reply)
        return RemoteClient(self, reply["client"], http, modal, server)

    @staticmethod
    def reply(reply: dict[str, Any]) -> dict[str, Any]:
        if isinstance(reply.get("raised"), dict):
            raise StudentRaised(Raised.from_wire(reply["raised"]))
        if "error" in reply:
            raise SubjectError(str(reply["error"]))
        return reply


@dataclass
class RemoteClient:
    """The student's ``StepUpClient``; the judge's own client ``http`` follows its cookies."""

    student: Student
    ident: int
    http: httpx.Client
    modal: Modal
    server: ReferenceServer
    prompts: Any = field(default=None)  # what the student's client counted

    def call(self, method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        reply = self.student.subject.command(
            "call",
            on_modal=self.modal,
            exercise=self.student.exercise,
            client=self.ident,
            function=method,
            args=list(args),
            kwargs=pack(kwargs),
        )
        self.prompts = reply.get("prompts", self.prompts)
        for name, value in (reply.get("cookies") or {}).items():
            self.http.cookies.set(name, value)
        return Student.reply(reply)

    def confirm_identity(self, challenge: dict[str, Any]) -> None:
        self.call("confirm_identity", challenge)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The response the client returned, checked against what the server answered."""
        before = len(self.server.log.seen)
        reply = self.call("request", method, url, **kwargs)
        shape = reply.get("response")
        if shape is None:
            raise AssertionError(f"request() returned {reply.get('value')!r}, not a response")
        path = urlsplit(url).path
        served = [
            seen
            for seen in self.server.log.seen[before:]
            if (seen.method, seen.path) == (method.upper(), path)
        ]
        if not served:
            raise AssertionError(
                f"request() returned {shape['status']} but never sent {method} {path} to the server"
            )
        if served[-1].status != shape["status"]:
            raise AssertionError(
                f"request() returned {shape['status']}, but the server's last answer to"
                f" {method} {path} was {served[-1].status}: return the server's response"
            )
        return httpx.Response(shape["status"], text=shape["text"])


@dataclass
class Clocks:
    """The submission's frozen clock and the judge's own, moved together."""

    subject: Subject
    local: FrozenDateTimeFactory  # the judge's own (its reference app, what it writes)

    def tick(self, seconds: float) -> None:
        Student.reply(self.subject.command("tick", seconds=seconds))
        self.local.tick(seconds)
