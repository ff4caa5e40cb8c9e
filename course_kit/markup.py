"""Hints are written in Markdown (`code`, *emphasis*): a notebook shows them as HTML, a terminal
as plain text, and neither shows the backticks or the asterisks.

Only inline Markdown, line by line: a hint is a sentence or two, and emphasis never runs from
one hint into the next. Raw HTML is not interpreted: a hint's angle brackets show as written.
"""

import re
from functools import cache
from typing import Any

# CommonMark lets a backslash escape any ASCII punctuation character.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_TEXT = ("text", "code_inline")


@cache
def _parser() -> Any:
    from markdown_it import MarkdownIt  # only once a hint is shown

    return MarkdownIt("commonmark", {"html": False})


def to_html(text: str) -> str:
    """``a parameter named `_``` → ``a parameter named <code>_</code>`` (escaped, safe)."""
    return "<br>".join(_parser().renderInline(line) for line in text.split("\n"))


def to_plain(text: str) -> str:
    """``a parameter named `_``` → ``a parameter named _``: the words, without the markup."""
    return "\n".join(_plain_line(line) for line in text.split("\n"))


def _plain_line(line: str) -> str:
    return "".join(
        child.content
        for token in _parser().parseInline(line)
        for child in token.children or ()
        if child.type in _TEXT
    )


def escape(text: str) -> str:
    """Plain text to put among Markdown: it renders exactly as written."""
    return _PUNCTUATION.sub(r"\\\1", text)
