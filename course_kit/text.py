"""Text that every output can hold, and words for people."""

import re

# What no reader should get raw from a student: control characters but newline and tab (an
# escape sequence repaints a terminal, a carriage return hides a line, XML 1.0 forbids most of
# them outright) and the non-characters XML forbids too.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")


def printable(text: str) -> str:
    """Text that any JSON, CSV or Markdown file can hold: bytes of a name that are not UTF-8
    (kept by Python as surrogates) become ``\\xNN``, any other lone surrogate (a student's
    message may hold one) ``\\udNNN``."""
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return data.decode("utf-8", "backslashreplace")


def readable(text: str) -> str:
    """:func:`printable` text that is also safe in a terminal and in XML: each character of
    :data:`UNSAFE` becomes its escape (``\\x1b``, ``\\ufffe``); newlines and tabs stay."""
    return UNSAFE.sub(_escape, printable(text))


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """``text`` on one line: every run of white space, line breaks included, one space."""
    return " ".join(text.split())


def plural(count: int, word: str) -> str:
    """``1 point``, ``2 points``, ``0 tasks``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def times(count: int) -> str:
    """``never``, ``once``, ``twice``, ``3 times``: counts in sentences for people."""
    return {0: "never", 1: "once", 2: "twice"}.get(count, f"{count} times")
