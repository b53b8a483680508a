"""A multipart/form-data body read as it arrives: the bytes of one file field, chunk by chunk.

Starlette's form parser would spool the whole file before the route runs; reading the stream here
lets the importer work while the upload is still arriving and refuse an oversized one early.
"""

from collections.abc import AsyncIterator

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from tenantry.core.imports.records import ImportLimitExceeded
from tenantry.errors import FieldError, InvalidInput
from tenantry.web.body_limit import MULTIPART_OVERHEAD, allow_body


class _FieldReader:
    def __init__(self, field: str) -> None:
        self.field = field.encode()
        self.chunks: list[bytes] = []
        self.found = False
        self._inside = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""

    def on_part_begin(self) -> None:
        self._inside, self._disposition = False, b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._inside = options.get(b"name") == self.field and not self.found
        self.found = self.found or self._inside

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._inside:
            self.chunks.append(bytes(data[start:end]))

    def on_part_end(self) -> None:
        self._inside = False


def _malformed(field: str, reason: str) -> InvalidInput:
    return InvalidInput([FieldError(field, f"the request body is not valid multipart/form-data: {reason}")])


async def file_chunks(request: Request, field: str, max_file_bytes: int) -> AsyncIterator[bytes]:
    """The bytes of multipart field ``field`` as they arrive; 413 once the body is larger than the file may be."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInput([FieldError(field, "send the CSV file as multipart/form-data")])
    max_body = max_file_bytes + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise ImportLimitExceeded(f"the file is larger than {max_file_bytes} bytes")
    reader = _FieldReader(field)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": reader.on_part_begin,
            "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value,
            "on_header_end": reader.on_header_end,
            "on_headers_finished": reader.on_headers_finished,
            "on_part_data": reader.on_part_data,
            "on_part_end": reader.on_part_end,
        },
    )
    allow_body(request, max_body)
    received = 0
    async for chunk in request.stream():
        try:
            parser.write(chunk)
        except MultipartParseError as error:
            position = received + max(error.offset, 0)
            raise _malformed(field, f"{error} (position {position})") from None
        received += len(chunk)
        if reader.chunks:
            yield b"".join(reader.chunks)
            reader.chunks.clear()
    try:
        parser.finalize()
    except MultipartParseError as error:
        raise _malformed(field, f"{error} (at its end, position {received})") from None
    if not reader.found:
        raise InvalidInput([FieldError(field, "is required: a multipart field holding the CSV file")])
