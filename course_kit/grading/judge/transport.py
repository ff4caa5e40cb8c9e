"""The judge's HTTP to the student's app: every request within the test's deadline, every
answer read whole and bounded."""

from typing import TYPE_CHECKING

import httpx

from course_kit.grading.judge.failures import SubjectCrashed, SubjectError, SubjectTimeout
from course_kit.grading.sandbox.protocol import MAX_BODY

if TYPE_CHECKING:
    from course_kit.grading.judge.subject import Subject


class DeadlineTransport(httpx.HTTPTransport):
    """Every request gets what is left of the test's budget, for its answer as a whole (an
    answer that trickles in byte by byte runs out of it too) and at most ``MAX_BODY`` bytes of
    body; a dead process is named."""

    def __init__(self, subject: "Subject", exercise: str) -> None:
        super().__init__(uds=str(subject.app_socket), verify=False)  # no TLS on a socket file
        self.subject = subject
        self.exercise = exercise

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.subject.in_flight = self.exercise
        try:
            return self._answer(request)
        finally:
            self.subject.in_flight = None

    def _answer(self, request: httpx.Request) -> httpx.Response:
        limit = self.subject.limits.per_test_timeout
        sent = f"{request.method} {request.url.path}"
        late = SubjectTimeout(
            f"did not finish within {limit:g} s (the test's time limit): {sent} got no whole"
            " answer in time"
        )
        left = self.subject.remaining()
        if left <= 0:
            raise late
        request.extensions["timeout"] = {"connect": left, "read": left, "write": left, "pool": left}
        try:
            response = super().handle_request(request)
            body = bytearray()
            try:
                for chunk in response.stream:  # type: ignore[union-attr]
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise AssertionError(
                            f"{sent} answered more than {MAX_BODY >> 20} MiB: no route of the"
                            " course answers that much (a loop that writes?)"
                        )
                    if self.subject.remaining() <= 0:
                        raise late
            finally:
                response.close()
        except httpx.TimeoutException:
            raise late from None
        except httpx.TransportError as exc:
            proc = self.subject.proc
            code = proc.poll() if proc is not None else None
            if proc is None or code is not None:
                raise SubjectCrashed(
                    f"the submission process {self.subject.died(code)} during {sent}"
                ) from None
            raise SubjectError(f"{sent} failed: {exc}") from None
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=bytes(body),
            request=request,
            extensions=response.extensions,
        )
