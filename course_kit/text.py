"""Text that every output can hold, and words for people."""


def printable(text: str) -> str:
    """Text that any JSON, CSV or Markdown file can hold: bytes of a name that are not UTF-8
    (kept by Python as surrogates) become ``\\xNN``, any other lone surrogate (a student's
    message may hold one) ``\\udNNN``."""
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return data.decode("utf-8", "backslashreplace")


def plural(count: int, word: str) -> str:
    """``1 point``, ``2 points``, ``0 tasks``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def times(count: int) -> str:
    """``never``, ``once``, ``twice``, ``3 times``: counts in sentences for people."""
    return {0: "never", 1: "once", 2: "twice"}.get(count, f"{count} times")
