"""Request bodies. Unknown fields are refused so a typo is a clear 422, not a silent no-op."""

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints


def _ascii_digits(value: object) -> object:
    # int() also reads Unicode digits and spaces ("\xa05" is 5): an id in a path is ASCII digits.
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be a row id: ASCII digits only")
    return value


# A row id from the path (/orgs/{org_id}): "5" is 5; " 5", "\xa05", "-5", Arabic-Indic digits: 422.
RowId = Annotated[int, BeforeValidator(_ascii_digits)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# A display name: spaces around it are dropped first, so "   " is refused as empty.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Credentials(Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class SecondFactor(Body):
    code: str | None = Field(None, max_length=64)
    recovery_code: str | None = Field(None, max_length=64)


class Confirmation(Body):
    """Exactly one of the three; checked in the route so the message can say so."""

    password: str | None = Field(None, max_length=1024)
    code: str | None = Field(None, max_length=64)
    recovery_code: str | None = Field(None, max_length=64)


class EmailChange(Body):
    # Optional and untyped beyond str: the route answers 400 "Email required" itself.
    email: str | None = Field(None, max_length=1024)


class PasswordChange(Body):
    new_password: str = Field(max_length=1024)


class TotpCode(Body):
    code: str = Field(max_length=64)


class EmailOnly(Body):
    email: str = Field(max_length=320)


class PasswordReset(Body):
    token: str = Field(max_length=256)
    new_password: str = Field(max_length=1024)


class OrgCreate(Body):
    name: Name


Role = Annotated[str, Field(pattern="^(owner|admin|member)$")]


class MemberAdd(Body):
    """An invitation: the person becomes a member when they accept it."""

    email: str = Field(max_length=320)
    role: Role = "member"  # owner: by an owner only


class RoleChange(Body):
    role: Role


class DomainSet(Body):
    # Required, null to clear: an empty body must not quietly switch domain auto-join off.
    domain: str | None = Field(max_length=253)


class ApiKeyCreate(Body):
    name: Name
