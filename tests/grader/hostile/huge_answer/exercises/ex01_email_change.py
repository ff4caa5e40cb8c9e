"""Behind the right guards, a gigabyte of answer, made as it is sent."""

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from course_app.deps import CurrentUser, RecentAuth

router = APIRouter()


def gigabyte() -> Iterator[bytes]:
    chunk = b"x" * (1 << 20)
    for _ in range(1024):
        yield chunk


@router.put("/me/email")
def change_email(user: CurrentUser, _: RecentAuth) -> StreamingResponse:
    return StreamingResponse(gigabyte(), media_type="application/json")
