"""The submission process: the only process that ever runs a student's code.

``python -m course_kit.grading.sandbox.process FOLDER SCRATCH LISTENER ID:FILE:FLAGS…`` imports
the student's exercise files one by one, serves the reference app with each exercise's router
and policy rows (one app per exercise, chosen by the ``X-Stepup-Exercise`` header) over HTTP on
the Unix socket the judge bound and handed over as descriptor ``LISTENER``, and answers the judge's
commands, one JSON line each way on stdin/stdout (:mod:`.protocol`):

- ``reset``: the clock back to the start, the database back to its template;
- ``sql``, ``enroll``, ``two_factor``, ``recovery_codes``, ``open_session``, ``end_session``:
  the judge's setup and look at the database (the judge never opens a file of this process's);
- ``tick``: move the frozen clock;
- ``reload``: import exercise files afresh and rebuild their apps (``stepup watch``);
- ``read``: module-level values of an exercise file, as plain data (exercise 4's answers);
- ``client`` / ``call``: build exercise 3's client against the judge's own app and call it; its
  "Confirm your identity" dialog is a question back to the judge (``{"modal": …}``), so the
  judge counts every prompt itself.

Nothing the judge believes is decided here: replies are the student's answers, checked by the
judge against what its own server saw. Whatever student code prints goes to the log (stderr).
It knows nothing of the manifest or the judge: what it imports is listed in
``course_kit.kit.SANDBOX_PARTS``, all the sandbox lets it see of the kit.
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
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

from course_kit.grading.sandbox.protocol import (
    CRASH_HEADER,
    EXERCISE_HEADER,
    MAX_LINE,
    OPS,
    Part,
    Raised,
    plain,
    socket_client,
    unpack,
)
from course_kit.impl import ExerciseFile, Implementation, ImplementationError

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
        """One line. A reply the judge could not read (over ``MAX_LINE``, or an int longer
        than Python prints) goes as the student's error, not as a line out of bounds: an
        answer too big is a mistake, never tampering."""
        try:
            line = json.dumps(message, default=repr).encode()
        except ValueError:
            line = b""
        if "id" in message and not 0 < len(line) < MAX_LINE:
            why = f"the answer is too large to pass back to the grader (over {MAX_LINE} bytes)"
            raised = Raised("ValueError", ("ValueError", "Exception", "BaseException"), "", why)
            line = json.dumps({"id": message["id"], **raised.to_wire()}).encode()
        self.outgoing.write(line + b"\n")
        self.outgoing.flush()

    def receive(self) -> dict[str, Any] | None:
        line = self.incoming.readline()
        return json.loads(line) if line else None


class Driver:
    def __init__(self, folder: Path, scratch: Path, listener: int, parts: list[Part]) -> None:
        from course_kit.people import lab_settings

        self.channel = Channel()
        self.folder, self.scratch = folder, scratch
        self.parts = {part.id: part for part in parts}
        self.listener = listener  # bound by the judge, served here
        self.settings = lab_settings(scratch)
        self.modules: dict[str, ModuleType] = {}
        self.impl = Preloaded("submission", folder, self.modules)
        self.current: Any = None  # the command being answered: the dialog's questions go there
        self.apps: dict[bytes, Any] = {}
        self.clients: dict[int, Any] = {}
        self.db = scratch / "course.db"
        self.template = scratch / "template.db"

    # --- start: import, build, serve -------------------------------------------------------

    def boot(self) -> None:
        if not self.parts:  # renewed for the next check: nothing of the student's yet
            self.warm_up()
        errors: dict[str, str | None] = {}
        for part in self.parts.values():
            self.channel.send({"event": "importing", "exercise": part.id})
            errors[part.id] = self.load(part)
            self.channel.send({"event": "imported", "exercise": part.id})
        for part in self.parts.values():
            if part.mounted and part.id in self.modules:
                errors[part.id] = self.build(part) or errors[part.id]
        self.snapshot()
        self.freeze()
        self.serve()
        self.channel.send({"event": "ready", "errors": errors})

    def warm_up(self) -> None:
        """Pay the app's first-request costs now, while the student edits (about 40 ms for
        each of the first few requests), on an app and a database of its own, thrown away."""
        from fastapi.testclient import TestClient

        from course_kit.people import lab_settings

        folder = self.scratch / "warm-up"
        folder.mkdir()
        settings = lab_settings(folder)
        person = {"email": "warm-up@example.com", "password": "warming up the app"}
        try:
            app = self.impl.build_app(settings, [])
            with TestClient(app, base_url=settings.origin) as client:
                client.headers["Origin"] = settings.origin
                client.get("/me")
                client.post("/auth/signup", json=person)
                client.post("/auth/login", json=person)
                client.post("/auth/confirm", json={"password": person["password"]})
                client.get("/me")
        except Exception:  # a warm-up that fails costs time at the check, nothing else
            pass
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def load(self, part: Part) -> str | None:
        shown = self.impl.shown(part)
        try:
            self.impl.load(part)
        except ImplementationError as exc:
            return str(exc)
        except SystemExit as exc:
            return f"{shown} called sys.exit({exc.code!r}) while being imported"
        except BaseException as exc:  # KeyboardInterrupt, MemoryError: still just an import
            return self.impl.paths_shown(f"{shown} failed to import: {type(exc).__name__}: {exc}")[
                :500
            ]
        finally:
            gc.collect()  # what a failed import allocated is garbage now: free it
        return None

    def build(self, part: Part) -> str | None:
        try:
            app = self.impl.build_app(self.settings, [part])
        except ImplementationError as exc:
            del self.modules[part.id]
            return str(exc)
        self.apps[part.id.encode()] = app
        return None

    def freeze(self) -> None:
        """Freeze the clock once every class is defined (freezegun's fake datetime class
        would not mix with classes built on the real one)."""
        from course_kit.timetravel import START, frozen_clock

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

    async def dispatch(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
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
                raised = self.raised(crashes[-1])
                header = (CRASH_HEADER.encode(), raised.to_header().encode("ascii"))
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            CRASHES.reset(token)

    # --- commands ----------------------------------------------------------------------------

    def run(self) -> None:
        while (command := self.channel.receive()) is not None:
            op = command.get("op")
            handler = getattr(self, f"do_{op}") if op in OPS else None
            self.current = command.get("id")
            try:
                reply = handler(command) if handler else {"error": "unknown command"}
            except BaseException as exc:  # the student's code may raise anything, even exit
                reply = self.raised(exc).to_wire()
            self.current = None  # answered: the dialog cannot open again until the next call
            self.channel.send({"id": command.get("id"), **reply})

    def raised(self, exc: BaseException) -> Raised:
        """The student's exception as the judge reports it, in the paths they know."""
        found = Raised.of(exc, self.impl.where(exc))
        return replace(found, message=self.impl.paths_shown(found.message))

    def do_reset(self, command: dict[str, Any]) -> dict[str, Any]:
        self.clock.move_to(self.start)
        self.clients.clear()
        for suffix in ("-wal", "-shm", ""):
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.template, self.db)
        return {"ok": True}

    def do_reload(self, command: dict[str, Any]) -> dict[str, Any]:
        """Import the named exercise files and build their apps: in a process renewed for a
        check (``stepup watch``, warm checks), which booted without them, the first import.
        The clock is let go meanwhile: classes a file defines must be built on the real one,
        as at boot."""
        parts = [Part.parse(spec) for spec in command["parts"]]
        self.freezer.__exit__(None, None, None)
        errors: dict[str, str | None] = {}
        try:
            for part in parts:
                self.parts[part.id] = part
                self.modules.pop(part.id, None)
                self.apps.pop(part.id.encode(), None)
                errors[part.id] = self.load(part)
                if errors[part.id] is None and part.mounted:
                    errors[part.id] = self.build(part)
        finally:
            self.freeze()
        return {"errors": errors}

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
        from course_kit import people

        user_id = people.enroll(
            self.settings, command["email"], command["password"], command["verified"]
        )
        return {"user_id": user_id}

    def do_two_factor(self, command: dict[str, Any]) -> dict[str, Any]:
        from course_kit import people

        return {"secret": people.enable_two_factor(self.settings, command["user_id"])}

    def do_recovery_codes(self, command: dict[str, Any]) -> dict[str, Any]:
        from course_kit import people

        return {"codes": people.recovery_codes(self.settings, command["user_id"])}

    def do_open_session(self, command: dict[str, Any]) -> dict[str, Any]:
        from course_kit import people

        token, session_id = people.open_session(
            self.settings, command["user_id"], command["confirmed"]
        )
        return {"token": token, "session_id": session_id}

    def do_end_session(self, command: dict[str, Any]) -> dict[str, Any]:
        from course_kit import people

        people.end_session(self.settings, command["session_id"])
        return {"ok": True}

    def do_read(self, command: dict[str, Any]) -> dict[str, Any]:
        module = self.modules[command["exercise"]]
        names = command["names"]
        return {"values": {n: plain(getattr(module, n)) for n in names if hasattr(module, n)}}

    def do_client(self, command: dict[str, Any]) -> dict[str, Any]:
        """Exercise 3's ``StepUpClient`` over an httpx client to the judge's own app."""
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
            target = self.impl.get(self.parts[command["exercise"]], command["function"])
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
            reply = self.raised(exc).to_wire()
        if "client" in command:  # the judge follows the session cookie the client now holds
            reply["prompts"] = plain(getattr(client, "prompts", None))
            reply["cookies"] = {c.name: c.value for c in http.cookies.jar}
        return reply

    def modal(self, challenge: dict[str, Any]) -> Any:
        """The dialog: the judge sees the challenge and gives the answer. Only during a call,
        so the process never writes a message out of turn (that is how forgery is told)."""
        if self.current is None:
            raise RuntimeError("the confirmation dialog opens only while the grader calls you")
        self.channel.send({"id": self.current, "modal": plain(challenge)})
        answer = self.channel.receive()
        return (answer or {}).get("answer")


@dataclass(frozen=True)
class Preloaded(Implementation):
    """An implementation whose files were imported once, at start (``create_app`` asks again)."""

    modules: dict[str, ModuleType] = field(default_factory=dict)

    def load(self, exercise: ExerciseFile) -> ModuleType:
        if exercise.id not in self.modules:
            self.modules[exercise.id] = super().load(exercise)
        return self.modules[exercise.id]


def main() -> None:
    folder, scratch, listener, *specs = sys.argv[1:]
    driver = Driver(Path(folder), Path(scratch), int(listener), [Part.parse(s) for s in specs])
    driver.boot()
    driver.run()
    os._exit(0)  # threads of the student's code must not keep the process alive


if __name__ == "__main__":
    main()
