"""A request-body size and time limit, as plain ASGI so every answer is our JSON 413 or 408.

FastAPI's own ``max_body_size`` only counts what a route reads and answers in plain text
when the route never reads the body. Here the body is read (at most ``max_bytes`` of it)
before the app runs: a declared ``Content-Length`` over the limit is refused at once, and a
body without one (chunked) is counted as it streams in. It must also have arrived within
``timeout`` seconds: a client trickling a body in a byte at a time would otherwise hold a
connection and a worker for as long as it likes (uvicorn has no body timeout; the header
timeout is ``course_app/serving.py``'s).
"""

import anyio
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float = 10.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and not declared.isdigit():
            await self._refuse(scope, receive, send, 400, "Invalid Content-Length header")
            return
        if declared is not None and int(declared) > self.max_bytes:
            await self._refuse_too_large(scope, receive, send)
            return

        chunks: list[bytes] = []
        size = 0
        deadline = anyio.current_time() + self.timeout
        while True:
            try:
                with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                    message = await receive()
            except TimeoutError:
                late = f"The request body did not arrive within {self.timeout:g} seconds"
                await self._refuse(scope, receive, send, 408, late, "request_timeout")
                return
            if message["type"] != "http.request":
                return  # the client went away before sending its body: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse_too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break

        body: Message | None = {"type": "http.request", "body": b"".join(chunks)}

        async def replay() -> Message:
            nonlocal body
            if body is None:
                return await receive()  # after the body: disconnect notices
            message, body = body, None
            return message

        await self.app(scope, replay, send)

    async def _refuse_too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"Request body too large (at most {self.max_bytes} bytes)"
        await self._refuse(scope, receive, send, 413, message, "body_too_large")

    @staticmethod
    async def _refuse(
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        message: str,
        code: str = "invalid_request",
    ) -> None:
        # The rest of the body is never read: the connection cannot carry another request.
        headers = {"connection": "close"} if status == 408 else None
        response = JSONResponse(
            {"error": message, "code": code}, status_code=status, headers=headers
        )
        await response(scope, receive, send)
