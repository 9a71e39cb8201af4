"""Reading a bulk-issuance CSV file into records by column name. Pure: bytes in, values out.

DESIGN.md, Bulk issuance: columns by header, case-insensitive; ``recipient_name``,
``recipient_email`` and ``amount`` required; ``message``, ``theme``, ``kind``, ``purchaser_name``,
``purchaser_email`` and ``is_gift`` optional. What this module accepts, and why:

- UTF-8, with or without the byte-order mark Excel writes ("CSV UTF-8"). Anything else is refused
  with the line of the first undecodable byte (Excel's plain "CSV" is Windows-1252: a name like
  ``Zoë`` would otherwise arrive mangled on the card).
- The delimiter is sniffed from the header line: comma, semicolon (Excel where the decimal mark is
  a comma) or tab, whichever names the most known columns. Quoting is the standard ``"``.
- Headers match ignoring case, surrounding spaces, and spaces or dashes for ``_``
  (``Recipient Email`` is ``recipient_email``). An unknown header that looks like a known one
  (``mesage``) is a problem, so a typo never drops a column silently; any other unknown column
  (an employee number, a department) is ignored with a note.
- Line numbers are the file's own, the header being line 1; a record whose quoted message spans
  lines is numbered by the line it starts on. Blank lines (all cells empty) are skipped.
- A record with more cells than the header is a problem (a delimiter inside an unquoted value);
  fewer cells count as empty ones, as spreadsheets leave trailing cells out.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

COLUMNS = (
    "recipient_name",
    "recipient_email",
    "amount",
    "message",
    "theme",
    "kind",
    "purchaser_name",
    "purchaser_email",
    "is_gift",
)
REQUIRED = ("recipient_name", "recipient_email", "amount")
DELIMITERS = (",", ";", "\t")
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
BATCH_HEX = 12
_SEPARATORS = re.compile(r"[\s\-]+")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a file or a row cannot be imported: where (line, column), what, and how to fix it."""

    line: int | None
    column: str | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (f"line {self.line}" if self.line else None, self.column)
            if part is not None
        )
        return f"{where}: {self.message} {self.fix}" if where else f"{self.message} {self.fix}"


@dataclass(frozen=True, slots=True)
class Record:
    """One data row: its first line in the file and its cells by column (stripped; blank ones
    absent)."""

    line: int
    cells: Mapping[str, str]

    def get(self, column: str) -> str | None:
        return self.cells.get(column)


@dataclass(frozen=True, slots=True)
class Table:
    """A file read: its batch, how it was delimited, its records, and what to tell the operator
    (problems stop the import, notes do not)."""

    batch: str
    delimiter: str
    records: tuple[Record, ...]
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    columns: frozenset[str] = frozenset()  # the known columns the header has

    @property
    def delimiter_name(self) -> str:
        return _DELIMITER_NAMES[self.delimiter]


def batch_of(data: bytes) -> str:
    """The batch of a file: the first 12 hex digits of its SHA-256 (so the same file is the same
    batch, and any changed byte makes a new one)."""
    return hashlib.sha256(data).hexdigest()[:BATCH_HEX]


def header_name(text: str) -> str:
    """``" Recipient Email "`` -> ``recipient_email``."""
    return _SEPARATORS.sub("_", text.strip().casefold())


def read_table(data: bytes) -> Table:
    batch = batch_of(data)
    if len(data) > MAX_BYTES:
        problem = Problem(
            None, None, f"The file is {len(data):,} bytes.", "Split it into files under 10 MB."
        )
        return Table(batch, ",", (), (problem,), ())
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = Problem(
            line,
            None,
            f"The file is not UTF-8 (byte 0x{data[exc.start]:02X}).",
            "Save it as UTF-8 (in Excel: Save As, 'CSV UTF-8').",
        )
        return Table(batch, ",", (), (problem,), ())
    delimiter = _sniff(text)
    return _read(batch, text, delimiter)


def _first_record(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return []


def _sniff(text: str) -> str:
    """The delimiter whose header names the most known columns (then: the most cells)."""

    def score(delimiter: str) -> tuple[int, int]:
        header = _first_record(text, delimiter)
        return sum(1 for h in header if header_name(h) in COLUMNS), len(header)

    return max(DELIMITERS, key=score)


def _read(batch: str, text: str, delimiter: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    problems: list[Problem] = []
    notes: list[str] = []
    records: list[Record] = []
    try:
        rows = list(_numbered(reader))
    except csv.Error as exc:
        problem = Problem(
            reader.line_num, None, f"The file is not valid CSV ({exc}).", "Check its quotes."
        )
        return Table(batch, delimiter, (), (problem,), ())
    if not rows:
        problem = Problem(None, None, "The file is empty.", _columns_fix())
        return Table(batch, delimiter, (), (problem,), ())
    header_line, header = rows[0]
    columns = _columns(header, header_line, problems, notes)
    for line, cells in rows[1:]:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            problems.append(
                Problem(
                    line,
                    None,
                    f"The row has {len(cells)} cells, the header {len(header)}.",
                    "Put quotes around a value that holds the delimiter "
                    f"({_DELIMITER_NAMES[delimiter]}).",
                )
            )
            continue
        values = {
            name: cell.strip()
            for name, cell in zip(columns, cells, strict=False)
            if name is not None and cell.strip()
        }
        records.append(Record(line, values))
    if not records and not problems:
        problems.append(
            Problem(None, None, "The file has a header but no rows.", "Add a row per card.")
        )
    if len(records) > MAX_ROWS:
        problems.append(
            Problem(
                None,
                None,
                f"The file has {len(records):,} rows.",
                f"Split it into files of at most {MAX_ROWS:,} rows.",
            )
        )
    known = frozenset(c for c in columns if c is not None)
    return Table(batch, delimiter, tuple(records), tuple(problems), tuple(notes), known)


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on (the reader counts lines as it consumes them)."""
    line_num = getattr(reader, "line_num", 0)
    for cells in reader:
        start = line_num + 1
        line_num = getattr(reader, "line_num", start)
        if cells:
            yield start, cells


def _columns(
    header: list[str], line: int, problems: list[Problem], notes: list[str]
) -> list[str | None]:
    """Each header cell's known column, or None for a column that is ignored."""
    columns: list[str | None] = []
    seen: set[str] = set()
    for cell in header:
        name = header_name(cell)
        if name in COLUMNS:
            if name in seen:
                problems.append(
                    Problem(line, name, "The column appears twice in the header.", "Keep one.")
                )
            seen.add(name)
            columns.append(name)
            continue
        columns.append(None)
        if not name:
            continue
        close = difflib.get_close_matches(name, COLUMNS, n=1, cutoff=0.8)
        if close:
            problems.append(
                Problem(
                    line,
                    cell.strip(),
                    "This column is not one giftbridge knows.",
                    f"Did you mean {close[0]}?",
                )
            )
        else:
            notes.append(f"column {cell.strip()!r} is not used: giftbridge ignores it")
    for name in REQUIRED:
        if name not in seen:
            problems.append(Problem(line, name, "The header has no such column.", _columns_fix()))
    return columns


def _columns_fix() -> str:
    return (
        f"The header needs {', '.join(REQUIRED)}; it may add "
        f"{', '.join(c for c in COLUMNS if c not in REQUIRED)}."
    )
