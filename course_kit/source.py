"""Reading a student's Python file without running it (:mod:`ast` only): whether it parses,
and the free-text answers it holds."""

import ast

from course_kit.text import printable


def syntax_error(shown: str, content: bytes) -> str | None:
    """The student-facing message for a file Python cannot even parse, else None."""
    try:
        ast.parse(content, filename=shown)
    except SyntaxError as exc:
        return f"{shown} has a syntax error on line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        return f"{shown} cannot be parsed: {type(exc).__name__}"
    return None


def free_text(content: bytes, variable: str) -> str | None:
    """The string literal assigned to ``variable`` at module level, read without running the
    file (``ast.literal_eval`` evaluates literals only). None when there is no such string."""
    try:
        tree = ast.parse(content)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    value = None
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        else:
            continue
        if variable in targets and node.value is not None:
            try:
                found = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                found = None
            value = found if isinstance(found, str) else None
    return printable(value.strip()[:20000]) if value is not None else None
