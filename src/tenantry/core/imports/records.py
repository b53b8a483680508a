"""CSV records from a byte stream, a chunk at a time: the file is never held whole in memory.

Bytes are decoded incrementally (UTF-8, an optional byte-order mark dropped) and cut into physical
lines at each newline; lines are joined into one record while a quoted field is still open (an even
number of quote characters closes it, since a quote inside a field is written twice), and the standard
``csv`` module parses each record. The limit on bytes is enforced as data arrives.
"""

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tenantry.errors import FieldError, InvalidInput

_FORMULA = re.compile("'*[=+\\-@\t\r]")
"""A cell a spreadsheet would read as a formula (OWASP), or one that already carries the quote added against it."""


_QUOTED = re.compile('"[^"]*"')
"""A quoted stretch of a record (a doubled quote inside a field splits it in two, both matched): what is left
holds the delimiters that separate its cells."""
EXTRA_CELLS = 5
"""How many cells a record may have beyond the columns its format knows: a few stray ones are the row's
problem (reported on its line), a record of thousands is refused with the file before it is split."""


class ImportLimitExceeded(Exception):
    """The file is larger (in bytes or records) than the configured limit."""


@dataclass(frozen=True)
class Record:
    line: int
    """Physical line (1-based) where the record starts."""
    fields: list[str]


@dataclass
class RecordReader:
    delimiter: str
    max_bytes: int | None = None
    max_fields: int | None = None
    """More cells in one record refuse the file (``InvalidInput`` naming its line), before it is split into them."""
    bytes_read: int = 0
    _decoder: codecs.IncrementalDecoder = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8-sig")())
    _tail: str = ""
    _pending: list[str] = field(default_factory=list)
    _pending_quotes: int = 0
    _line: int = 0
    _record_line: int = 1

    def feed(self, chunk: bytes) -> list[Record]:
        """The records completed by ``chunk``."""
        self.bytes_read += len(chunk)
        if self.max_bytes is not None and self.bytes_read > self.max_bytes:
            raise ImportLimitExceeded(f"the file is larger than {self.max_bytes} bytes")
        try:
            text = self._tail + self._decoder.decode(chunk)
        except UnicodeDecodeError:
            raise InvalidInput([FieldError("file", "is not UTF-8 text")]) from None
        lines = text.split("\n")
        self._tail = lines.pop()  # after the last newline: the start of a line still arriving
        return list(self._records([line + "\n" for line in lines]))

    def close(self) -> list[Record]:
        """The last records, once the stream has ended (an unclosed quote ends with the file)."""
        try:
            text = self._tail + self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InvalidInput([FieldError("file", "is not UTF-8 text")]) from None
        self._tail = ""
        records = list(self._records([text] if text else []))
        if self._pending:
            records.extend(self._emit())
        return records

    def _records(self, lines: list[str]) -> Iterator[Record]:
        for line in lines:
            self._line += 1
            if not self._pending:
                self._record_line = self._line
            self._pending.append(line)
            self._pending_quotes += line.count('"')
            if self._pending_quotes % 2 == 0:
                yield from self._emit()

    def _emit(self) -> Iterator[Record]:
        lines = self._pending
        self._pending, self._pending_quotes = [], 0
        text = "".join(lines)
        if not text.strip():
            return
        if self.max_fields is not None and _QUOTED.sub("", text).count(self.delimiter) >= self.max_fields:
            raise InvalidInput([FieldError("file", f"line {self._record_line} has more than {self.max_fields} cells")])
        try:
            fields = next(csv.reader(lines, delimiter=self.delimiter, strict=False), [])
        except csv.Error as error:  # a field beyond csv.field_size_limit(), say: the file's fault, not ours
            raise InvalidInput([FieldError("file", f"line {self._record_line}: {error}")]) from None
        yield Record(self._record_line, fields)


def csv_safe(value: str) -> str:
    """A value written into a spreadsheet-bound file, defused: a cell starting with = + - @ TAB or CR gets a
    leading quote (OWASP's advice). So that ``csv_restored`` can undo it exactly, a value that is already
    quotes followed by one of those characters gets one more quote too."""
    return f"'{value}" if _FORMULA.match(value) else value


def csv_restored(cell: str) -> str:
    """The value ``csv_safe`` defused: one leading quote before a formula character is dropped."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell, 1) else cell
