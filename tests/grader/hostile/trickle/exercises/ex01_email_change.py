"""Behind the right guards, an answer that trickles in one byte every two seconds."""

import time
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from course_app.deps import CurrentUser, RecentAuth

router = APIRouter()


def slowly() -> Iterator[bytes]:
    while True:
        yield b" "
        time.sleep(2)


@router.put("/me/email")
def change_email(user: CurrentUser, _: RecentAuth) -> StreamingResponse:
    return StreamingResponse(slowly(), media_type="application/json")
