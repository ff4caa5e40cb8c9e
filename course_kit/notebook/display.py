"""How the notebooks show things: tables (the one display format), responses, and what a stub
raised instead of an answer. IPython is used only when a kernel already loaded it."""

import html
import json
import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from course_kit.markup import to_html, to_plain

TEXT_CELL_WIDTH = 60
# ✓ and ✗ in JupyterLab's own success and error colours, which each of its themes sets for its
# backgrounds. Measured in Chromium (tests/browser/test_jupyterlab.py checks at least 3:1): light
# theme ✓ 4.1:1 on white, ✗ 4.6:1 on a grey row; dark theme ✓ 6.8:1, ✗ 4.4:1. Elsewhere the
# fallbacks: 5:1 on white, above 3:1 on the usual dark backgrounds. The marks differ in shape
# too: never colour alone.
MARK_COLORS = {"✓": "var(--jp-success-color1, #1a7f37)", "✗": "var(--jp-error-color1, #cf222e)"}
# overflow-wrap: a long link or token breaks inside the table instead of running off its edge.
CELL_STYLE = "text-align:left;vertical-align:top;white-space:pre-wrap;overflow-wrap:anywhere"


@dataclass(frozen=True)
class Markdown:
    """Text written in Markdown, such as a hint from ``course.toml``: HTML in a notebook,
    plain text anywhere else."""

    text: str

    def __str__(self) -> str:
        return to_plain(self.text)


@dataclass
class Table:
    """Rows that show as an HTML table in Jupyter and as aligned text anywhere else; with no
    rows, ``empty`` says what that means."""

    columns: Sequence[str]
    rows: Sequence[Sequence[object]]
    title: str = ""
    footer: str | Markdown = ""
    attrs: dict[str, str] = field(default_factory=dict)
    empty: str = "(none)"

    def _repr_html_(self) -> str:
        attrs = "".join(f' {k}="{html.escape(v)}"' for k, v in self.attrs.items())
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(map(_html_cell, row)) + "</tr>" for row in self.rows)
        if not self.rows:
            empty = f"<i>{_html(self.empty)}</i>"
            body = f"<tr><td colspan='{len(self.columns)}' style='{CELL_STYLE}'>{empty}</td></tr>"
        title = f"<p><b>{html.escape(self.title)}</b></p>" if self.title else ""
        footer = f"<p style='white-space:pre-wrap'>{_html(self.footer)}</p>" if self.footer else ""
        return f"{title}<table{attrs}><tr>{head}</tr>{body}</table>{footer}"

    def __repr__(self) -> str:
        cells = [[_cut(_text(v)) for v in row] for row in [self.columns, *self.rows]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
        lines += [] if self.rows else [self.empty]
        return "\n".join(
            filter(None, [self.title, *[line.rstrip() for line in lines], str(self.footer)])
        )


def table(
    columns: Sequence[str], rows: Sequence[Sequence[object]], title: str = "", empty: str = "(none)"
) -> Table:
    return Table(list(columns), [list(row) for row in rows], title, empty=empty)


def _html(value: object) -> str:
    """A cell's content as HTML: Markdown rendered, anything else escaped."""
    return to_html(value.text) if isinstance(value, Markdown) else html.escape(_text(value))


def _html_cell(value: object) -> str:
    text = _text(value)
    color = f";color:{MARK_COLORS[text]};font-weight:bold" if text in MARK_COLORS else ""
    return f"<td style='{CELL_STYLE}{color}'>{_html(value)}</td>"


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_CELL_WIDTH else text[: TEXT_CELL_WIDTH - 1] + "…"


# --- responses, shown readably ------------------------------------------------------------------


def describe(response: httpx.Response) -> str:
    """``403 Forbidden ← POST /me/2fa/setup`` followed by the body, pretty-printed; a crash in
    one line: ``500 — exercises/ex01_email_change.py:33 raised ValueError: oops ← PUT …``."""
    request = response.request
    sent = f"{request.method} {request.url.path}"
    crash = crash_of(response)
    if crash:
        return f"{response.status_code} — {crash} ← {sent}"
    head = f"{response.status_code} {response.reason_phrase} ← {sent}"
    try:
        body = json.dumps(response.json(), indent=2, ensure_ascii=False)
    except ValueError:
        body = response.text[:300]
    return f"{head}\n{body}" if body else head


def json_field(response: httpx.Response, name: str) -> str:
    """One field of a JSON object body, as text; "" when there is no such thing."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get(name, "")) if isinstance(body, dict) else ""


def crash_of(response: httpx.Response) -> str:
    """Where a route crashed and with what, as the notebook lab answers a crash; else ""."""
    return json_field(response, "raised") if response.status_code == 500 else ""


def brief(response: httpx.Response) -> str:
    """``403 reauth_required``: the status and the body's machine-readable code."""
    return f"{response.status_code} {json_field(response, 'code')}".strip()


def outcomes(rows: Sequence[tuple[str, object, object]], title: str = "", again: str = "") -> Table:
    """Rows of (what was tried, what should happen, what happened) → a table with ✓ or ✗.

    For a response, the expected value is a status, optionally followed by the body's ``code``
    or its ``error`` message: ``"403"``, ``"403 reauth_required"``, ``"409 Email already in
    use"``. Any other value must equal the expected one, type included.

    ``again`` is for a cell whose outcome cannot repeat on its own (a key revoked, a link
    used): when the cell runs a second time, a row that no longer holds says that (↻ and
    ``again``, which names the cell to run first) instead of a ✗ that blames the student's
    code."""
    rerun = bool(again) and ran_before()
    shown = []
    for what, expected, got in rows:
        says = ""
        if isinstance(got, httpx.Response):
            says = crash_of(got) or json_field(got, "error") or json_field(got, "message")
            status, _, detail = str(expected).partition(" ")
            code = json_field(got, "code")
            good = str(got.status_code) == status and detail in ("", code, says)
            got = brief(got)
        else:
            good = type(got) is type(expected) and got == expected
        mark = "✓" if good else "↻" if rerun else "✗"
        shown.append([what, _shown(expected), _shown(got), mark, again if mark == "↻" else says])
    if not any(row[-1] for row in shown):
        return table(["what", "expected", "got", ""], [row[:-1] for row in shown], title)
    return table(["what", "expected", "got", "", "the app says"], shown, title)


def ran_before() -> bool:
    """Whether the cell running now ran before in this kernel (the same source)."""
    shell = ipython_shell()
    inputs = shell.user_ns.get("_ih", []) if shell is not None else []
    return len(inputs) > 1 and inputs[-1] in inputs[:-1]


def _shown(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


# --- what a stub gave instead of an answer ------------------------------------------------------


class NotYet:
    """What a call gave instead of an answer: shown, never raised, so the cell still runs."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __repr__(self) -> str:
        if isinstance(self.error, NotImplementedError):
            return f"not implemented yet ({self.error})"
        return f"raised {type(self.error).__name__}: {self.error}"

    __str__ = __repr__


def attempt(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, or a :class:`NotYet` saying what it raised: a stub that
    is not written yet, or a deliberate failure such as ``StepUpFailed``. (Call the function
    directly when you want the whole traceback.)"""
    try:
        return function(*args, **kwargs)
    except Exception as exc:
        return NotYet(exc)


# --- inside a kernel -----------------------------------------------------------------------------


def ipython_shell() -> Any:
    """The running IPython shell, or None: never imports IPython itself."""
    module = sys.modules.get("IPython")
    return module.get_ipython() if module is not None else None


def register_formatters() -> None:
    """In a kernel, a cell ending in a response or a database row shows its content."""
    shell = ipython_shell()
    if shell is None:
        return
    plain = shell.display_formatter.formatters["text/plain"]
    plain.for_type(httpx.Response, lambda r, p, cycle: p.text(describe(r)))
    plain.for_type(sqlite3.Row, lambda row, p, cycle: p.pretty(dict(row)))
