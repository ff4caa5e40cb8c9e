"""Gradescope's ``results.json``, field by field as its "Autograder Specifications" document
it (output format, test case visibility, leaderboards), as typed models: anything else, a
field of the wrong type, or a ``null`` where the spec says "optional", is refused with the
field's name. The dry run (:mod:`course_kit.teach.publish.dryrun`) and the tests check every
``results.json`` the kit writes against it.
"""

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, model_validator

TextFormat = Literal["text", "html", "simple_format", "md", "ansi"]
Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]


class _Documented(BaseModel):
    # strict: a score of "3" is not a number; extra: a misspelt field would be ignored there.
    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        """Optional means "leave it out", not null."""
        if isinstance(data, dict):
            nulls = sorted(k for k, v in data.items() if v is None)
            if nulls:
                raise ValueError(f"null where Gradescope expects a value or nothing: {nulls}")
        return data


class GradescopeTest(_Documented):
    score: float | None = None
    max_score: float | None = None
    status: Literal["passed", "failed"] | None = None
    name: str | None = None
    name_format: TextFormat | None = None
    number: str | None = None
    output: str | None = None
    output_format: TextFormat | None = None
    tags: list[str] | None = None
    visibility: Visibility | None = None
    extra_data: dict[str, Any] | None = None


class LeaderboardEntry(_Documented):
    name: str
    value: float | str
    order: Literal["asc", "desc"] | None = None


class GradescopeResults(_Documented):
    score: float | None = None  # required unless every test case has one
    execution_time: float | None = None
    output: str | None = None
    output_format: TextFormat | None = None
    test_output_format: TextFormat | None = None
    test_name_format: TextFormat | None = None
    visibility: Visibility | None = None
    stdout_visibility: Visibility | None = None
    extra_data: dict[str, Any] | None = None
    tests: list[GradescopeTest] | None = None
    leaderboard: list[LeaderboardEntry] | None = None

    @model_validator(mode="after")
    def _scored(self) -> Self:
        every_test_scored = self.tests is not None and all(t.score is not None for t in self.tests)
        if self.score is None and not every_test_scored:
            raise ValueError("no score: give a top-level score, or a score on every test")
        return self
