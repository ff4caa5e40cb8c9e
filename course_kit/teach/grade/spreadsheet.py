"""CSV files people open in a spreadsheet: the gradebook and the class report's tables."""

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any


def cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text, never runs as a formula (a submission may be named
    ``=HYPERLINK(…)``, an exception message may start with ``-``)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(columns: list[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """The table as CSV text, every cell through :func:`cell`."""
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, columns, restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: cell(value) for key, value in row.items()})
    return table.getvalue()
