"""An upload held in a temporary file while its limits are checked, before any of its rows is imported.

An upload is imported in batches, each committed on its own (so that no request holds SQLite's write lock
for long). To keep "beyond the limits, nothing is created", the whole file is first received (in memory up
to ``_IN_MEMORY`` bytes, on disk beyond) and its rows counted; only then is it imported, from there.
"""

import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from tenantry.core.imports.importer import ImportFormat
from tenantry.core.imports.records import ImportLimitExceeded, Record, RecordReader

_IN_MEMORY = 1024 * 1024
_CHUNK = 64 * 1024


@dataclass
class _RowCount:
    format: ImportFormat
    max_rows: int | None
    rows: int = 0
    first: bool = True

    def add(self, records: list[Record]) -> None:
        for record in records:
            header, self.first = self.first and self.format.header(record), False
            self.rows += 0 if header else 1
        if self.max_rows is not None and self.rows > self.max_rows:
            raise ImportLimitExceeded(f"the file has more than {self.max_rows} rows")


@asynccontextmanager
async def spooled(
    chunks: AsyncIterator[bytes], format: ImportFormat, *, max_bytes: int, max_rows: int
) -> AsyncIterator[Iterator[bytes]]:
    """The upload's bytes again, chunk by chunk, once all of it has arrived within the limits
    (ImportLimitExceeded otherwise, before anything is imported)."""
    reader, count = RecordReader(format.delimiter, max_bytes, format.max_fields), _RowCount(format, max_rows)
    with tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY) as file:
        async for chunk in chunks:
            file.write(chunk)
            count.add(reader.feed(chunk))
        count.add(reader.close())
        file.seek(0)
        yield iter(lambda: file.read(_CHUNK), b"")


def row_count(data: bytes, format: ImportFormat, *, max_bytes: int) -> int:
    """The rows of an upload already in memory (its header left out), read a chunk at a time and not kept:
    ``InvalidInput`` for a header the format refuses or a record wider than it, ``ImportLimitExceeded`` beyond
    ``max_bytes``."""
    reader, count = RecordReader(format.delimiter, max_bytes, format.max_fields), _RowCount(format, None)
    for start in range(0, len(data), _CHUNK):
        count.add(reader.feed(data[start : start + _CHUNK]))
    count.add(reader.close())
    return count.rows
