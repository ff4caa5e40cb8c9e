"""The submission process: the only process that ever runs a student's code.

``python -m course_app.grading.driver FOLDER SCRATCH LISTENER EXERCISE…`` imports the student's
exercise files one by one, serves the reference app with each exercise's router mounted (one app
per exercise, chosen by the ``X-Stepup-Exercise`` header) over HTTP on the Unix socket the judge
bound and handed over as descriptor ``LISTENER``, and answers the judge's commands, one JSON line
each way on stdin/stdout:

- ``reset``: the clock back to the start, the database back to its template;
- ``sql``, ``enroll``, ``open_session``, ``end_session``: the judge's setup and look at the
  database (the judge never opens a file of this process's);
- ``tick``: move the frozen clock;
- ``read``: module-level values of an exercise file, as plain data (exercise 4's answers);
- ``client`` / ``call``: build exercise 3's client against the judge's own app and call it; its
  "Confirm your identity" dialog is a question back to the judge (``{"modal": …}``), so the
  judge counts every prompt itself.

Nothing the judge believes is decided here: replies are the student's answers, checked by the
judge against what its own server saw. Whatever student code prints goes to the log (stderr).
"""

import contextvars
import gc
import json
import logging
import os
import shutil
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

from course_app.impl import Implementation

EXERCISE_HEADER = "x-stepup-exercise"  # which exercise's app a request is for
CRASH_HEADER = "x-stepup-error"  # on a 500: the student's exception and line (grading.expect)
# The exceptions of the request being served (the app logs them before it answers 500).
CRASHES: contextvars.ContextVar[list[BaseException]] = contextvars.ContextVar("crashes")


class CrashRecorder(logging.Handler):
    """Keeps the exception the app logged for the request (see course_app.errors)."""

    def emit(self, record: logging.LogRecord) -> None:
        crashes = CRASHES.get(None)
        if crashes is not None and record.exc_info and record.exc_info[1] is not None:
            crashes.append(record.exc_info[1])


class Channel:
    """The judge's line protocol, on file descriptors the student's prints never reach."""

    def __init__(self) -> None:
        self.incoming: BinaryIO = os.fdopen(os.dup(0), "rb")
        self.outgoing: BinaryIO = os.fdopen(os.dup(1), "wb")
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(2, 1)  # print() now writes to the log the judge keeps
        os.close(null)
        sys.stdout = sys.stderr

    def send(self, message: dict[str, Any]) -> None:
        self.outgoing.write(json.dumps(message, default=repr).encode() + b"\n")
        self.outgoing.flush()

    def receive(self) -> dict[str, Any] | None:
        line = self.incoming.readline()
        return json.loads(line) if line else None


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


def failure(exc: BaseException, impl: Implementation) -> dict[str, Any]:
    """How a student's exception reaches the judge: its class, message and last own line."""
    names = [c.__name__ for c in type(exc).__mro__]
    message = str(exc)[:500]
    return {
        "raised": type(exc).__name__,
        "classes": names,
        "message": message,
        "at": impl.where(exc),
    }


class Driver:
    def __init__(self, folder: Path, scratch: Path, listener: int, exercise_ids: list[str]) -> None:
        from course_app.testing import ORIGIN, lab_settings

        self.channel = Channel()
        self.folder, self.scratch, self.exercise_ids = folder, scratch, exercise_ids
        self.listener = listener  # bound by the judge, served here
        self.settings = lab_settings(scratch, origin=ORIGIN)
        self.modules: dict[str, ModuleType] = {}
        self.impl = Preloaded("submission", folder, self.modules)
        self.current: Any = None  # the command being answered: the dialog's questions go there
        self.apps: dict[bytes, Any] = {}
        self.clients: dict[int, Any] = {}
        self.db = scratch / "course.db"
        self.template = scratch / "template.db"

    # --- start: import, build, serve -------------------------------------------------------

    def boot(self) -> None:
        from course_app.manifest import load_course

        course = load_course()
        errors: dict[str, str | None] = {}
        for exercise_id in self.exercise_ids:
            self.channel.send({"event": "importing", "exercise": exercise_id})
            errors[exercise_id] = self.load(exercise_id)
            self.channel.send({"event": "imported", "exercise": exercise_id})
        for exercise in course.exercises:
            if exercise.router and exercise.id in self.modules:
                errors[exercise.id] = self.build(exercise.id) or errors[exercise.id]
        self.snapshot()
        self.freeze()
        self.serve()
        self.channel.send({"event": "ready", "errors": errors})

    def load(self, exercise_id: str) -> str | None:
        from course_app.impl import ImplementationError
        from course_app.manifest import load_course

        shown = self.impl.shown(load_course().exercise(exercise_id))
        try:
            self.impl.load(exercise_id)
        except ImplementationError as exc:
            return str(exc)
        except SystemExit as exc:
            return f"{shown} called sys.exit({exc.code!r}) while being imported"
        except BaseException as exc:  # KeyboardInterrupt, MemoryError: still just an import
            return f"{shown} failed to import: {type(exc).__name__}: {exc}"[:500]
        finally:
            gc.collect()  # what a failed import allocated is garbage now: free it
        return None

    def build(self, exercise_id: str) -> str | None:
        from course_app.app import create_app
        from course_app.impl import ImplementationError

        try:
            app = create_app(self.settings, self.impl, [exercise_id])
        except ImplementationError as exc:
            del self.modules[exercise_id]
            return str(exc)
        self.apps[exercise_id.encode()] = app
        return None

    def freeze(self) -> None:
        """Freeze the clock once every class is defined (freezegun's fake datetime class
        would not mix with classes built on the real one)."""
        from course_app.timetravel import START, frozen_clock

        self.start = START
        self.freezer = frozen_clock()  # held: a dropped generator would unfreeze the clock
        self.clock = self.freezer.__enter__()

    def snapshot(self) -> None:
        from course_app.db import init_db

        init_db(str(self.db))
        source = sqlite3.connect(self.db)
        target = sqlite3.connect(self.template)
        with target:
            source.backup(target)
        source.close()
        target.close()

    def serve(self) -> None:
        import uvicorn

        logging.getLogger("course_app").addHandler(CrashRecorder())
        config = uvicorn.Config(
            self.dispatch,
            interface="asgi3",
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        server = uvicorn.Server(config)
        sockets = [socket.socket(fileno=self.listener)]
        threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True).start()
        while not server.started:
            time.sleep(0.005)

    async def dispatch(self, scope: dict, receive: Callable, send: Callable) -> None:
        wanted = dict(scope.get("headers", [])).get(EXERCISE_HEADER.encode(), b"")
        app = self.apps.get(wanted)
        if app is None:
            body = json.dumps({"error": f"no app for exercise {wanted.decode()!r}"}).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        crashes: list[BaseException] = []
        token = CRASHES.set(crashes)

        async def sending(message: dict[str, Any]) -> None:
            # A 500 names the student's exception and line in a header the judge shows.
            if message["type"] == "http.response.start" and message["status"] == 500 and crashes:
                found = failure(crashes[-1], self.impl)
                text = f"{found['raised']} at {found['at']}: {found['message']}"[:300]
                header = (CRASH_HEADER.encode(), text.encode("ascii", "backslashreplace"))
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            CRASHES.reset(token)

    # --- commands ----------------------------------------------------------------------------

    def run(self) -> None:
        while (command := self.channel.receive()) is not None:
            handler = getattr(self, f"do_{command.get('op')}", None)
            self.current = command.get("id")
            try:
                reply = handler(command) if handler else {"error": "unknown command"}
            except BaseException as exc:  # the student's code may raise anything, even exit
                reply = failure(exc, self.impl)
            self.channel.send({"id": command.get("id"), **reply})

    def do_reset(self, command: dict[str, Any]) -> dict[str, Any]:
        self.clock.move_to(self.start)
        self.clients.clear()
        for suffix in ("-wal", "-shm", ""):
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.template, self.db)
        return {"ok": True}

    def do_tick(self, command: dict[str, Any]) -> dict[str, Any]:
        self.clock.tick(float(command["seconds"]))
        return {"ok": True}

    def do_sql(self, command: dict[str, Any]) -> dict[str, Any]:
        """The judge's look at (or setup of) this app's database: rows as plain data."""
        from course_app.db import connect

        db = connect(str(self.db))
        try:
            with db:
                cursor = db.execute(command["sql"], command.get("params", []))
                rows = [plain(dict(row)) for row in cursor.fetchall()]
            return {"rows": rows, "lastrowid": cursor.lastrowid}
        finally:
            db.close()

    def do_enroll(self, command: dict[str, Any]) -> dict[str, Any]:
        from course_app.testing import enroll_user

        user_id = enroll_user(
            self.settings, command["email"], command["password"], command["verified"]
        )
        return {"user_id": user_id}

    def do_open_session(self, command: dict[str, Any]) -> dict[str, Any]:
        from course_app.testing import open_session

        token, session_id = open_session(self.settings, command["user_id"], command["confirmed"])
        return {"token": token, "session_id": session_id}

    def do_end_session(self, command: dict[str, Any]) -> dict[str, Any]:
        from course_app.testing import end_session

        end_session(self.settings, command["session_id"])
        return {"ok": True}

    def do_read(self, command: dict[str, Any]) -> dict[str, Any]:
        module = self.modules[command["exercise"]]
        names = command["names"]
        return {"values": {n: plain(getattr(module, n)) for n in names if hasattr(module, n)}}

    def do_client(self, command: dict[str, Any]) -> dict[str, Any]:
        """Exercise 3's ``StepUpClient`` over an httpx client to the judge's own app."""
        from course_app.testing import socket_client

        module = self.modules[command["exercise"]]
        http = socket_client(command["socket"], cookies=command.get("cookies") or {})
        client = module.StepUpClient(http, self.modal, **command.get("kwargs", {}))
        self.clients[command["id"]] = (client, http)
        return {"client": command["id"]}

    def do_call(self, command: dict[str, Any]) -> dict[str, Any]:
        """A function of the exercise, or a method of a client built by ``client``."""
        import httpx

        args = list(command.get("args", []))
        if "client" in command:
            client, http = self.clients[command["client"]]
            target = getattr(client, command["function"])
        else:
            target = self.impl.get(command["exercise"], command["function"])
        if command.get("response"):  # an httpx.Response built from the judge's description
            shape = command["response"]
            args.insert(
                0,
                httpx.Response(
                    shape["status"],
                    headers=shape["headers"],
                    content=shape["content"].encode("latin-1"),
                ),
            )
        try:
            value = target(*args, **unpack(command.get("kwargs", {})))
            reply: dict[str, Any] = {"value": plain(value)}
            if isinstance(value, httpx.Response):
                reply = {"response": {"status": value.status_code, "text": value.text[:4000]}}
        except BaseException as exc:  # the student's exception is an answer too
            reply = failure(exc, self.impl)
        if "client" in command:  # the judge follows the session cookie the client now holds
            reply["prompts"] = plain(getattr(client, "prompts", None))
            reply["cookies"] = {c.name: c.value for c in http.cookies.jar}
        return reply

    def modal(self, challenge: dict[str, Any]) -> Any:
        """The dialog: the judge sees the challenge and gives the answer."""
        self.channel.send({"id": self.current, "modal": plain(challenge)})
        answer = self.channel.receive()
        return (answer or {}).get("answer")


@dataclass(frozen=True)
class Preloaded(Implementation):
    """An implementation whose files were imported once, at start (``create_app`` asks again)."""

    modules: dict[str, ModuleType] = field(default_factory=dict)

    def load(self, exercise_id: str) -> ModuleType:
        if exercise_id not in self.modules:
            self.modules[exercise_id] = super().load(exercise_id)
        return self.modules[exercise_id]


def main() -> None:
    folder, scratch, listener, *exercise_ids = sys.argv[1:]
    driver = Driver(Path(folder), Path(scratch), int(listener), exercise_ids)
    driver.boot()
    driver.run()
    os._exit(0)  # threads of the student's code must not keep the process alive


if __name__ == "__main__":
    main()
