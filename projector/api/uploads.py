"""Request bodies streamed to files under the data dir's tmp/, with size limits and time limits.

A body is written chunk by chunk as it arrives and never held whole in memory. A client that
sends nothing for `--body-timeout` seconds, or takes longer than `--upload-deadline` in all, is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from projector.api.request import body_chunks, settings
from projector.errors import InvalidInput, PayloadTooLarge

MAX_FIELD_BYTES = 64 * 1024
MAX_PART_HEADER_BYTES = 16 * 1024
MAX_PARTS = 16
FILE_PARTS = ("tensor", "metadata", "sprite")


def check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)


def too_large(limit: int, what: str = "the request body", option: str = "--max-upload-mb") -> PayloadTooLarge:
    return PayloadTooLarge(f"{what} is larger than the limit of {limit // (1024 * 1024)} MiB ({option})")


async def receive_body(request: Request, dest: Path, limit: int, idle_timeout: float = 30.0) -> int:
    """Stream the raw body into `dest`; returns its size."""
    check_declared_length(request, limit)
    size = 0
    try:
        with open(dest, "wb") as out:
            async for chunk in body_chunks(request, idle_timeout):
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                out.write(chunk)
    except ClientDisconnect:
        raise InvalidInput("the client closed the connection before the upload finished", code="incomplete_upload") from None
    if size == 0:
        raise InvalidInput("the request body is empty", code="empty_body")
    return size


@dataclass
class Part:
    name: str
    filename: str | None = None
    content_type: str | None = None
    path: Path | None = None
    value: bytearray = field(default_factory=bytearray)
    size: int = 0


class _MultipartSink:
    """Callbacks for python-multipart's streaming parser: file parts go to disk, fields to memory."""

    def __init__(self, folder: Path, part_limits: dict[str, int]) -> None:
        self.folder = folder
        self.part_limits = part_limits
        self.parts: dict[str, Part] = {}
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._part: Part | None = None
        self._file: BinaryIO | None = None

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]
        self._check_header()

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]
        self._check_header()

    def _check_header(self) -> None:
        if len(self._field) + len(self._value) > MAX_PART_HEADER_BYTES or len(self._headers) > MAX_PARTS:
            raise InvalidInput("a multipart part has too many or too long headers", code="invalid_multipart")

    def on_header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if not name:
            raise InvalidInput("a multipart part has no name", code="invalid_multipart")
        if name in self.parts or len(self.parts) >= MAX_PARTS:
            raise InvalidInput(f"unexpected or repeated multipart part {name!r}", code="invalid_multipart")
        filename = options.get(b"filename")
        part = Part(
            name=name,
            filename=filename.decode("utf-8", "replace") if filename is not None else None,
            content_type=self._headers.get(b"content-type", b"").decode("latin-1") or None,
        )
        if name in FILE_PARTS:
            part.path = self.folder / f"part-{name}"
            self._file = open(part.path, "wb")
        self.parts[name] = part
        self._part = part

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        assert self._part is not None
        self._part.size += end - start
        limit = self.part_limits.get(self._part.name)
        if limit is not None and self._part.size > limit:
            raise too_large(limit, f"the `{self._part.name}` part", f"--max-{self._part.name}-mb")
        if self._file is not None:
            self._file.write(data[start:end])
        else:
            if self._part.size > MAX_FIELD_BYTES:
                raise InvalidInput(f"form field {self._part.name!r} is too long", code="invalid_multipart")
            self._part.value += data[start:end]

    def on_part_end(self) -> None:
        self.close()
        self._part = None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


async def receive_multipart(request: Request, folder: Path, limit: int, idle_timeout: float = 30.0) -> dict[str, Part]:
    """Stream a multipart/form-data body: parts `tensor`, `metadata`, `sprite` become files in `folder`.

    The metadata part has its own limit (`--max-metadata-mb`), checked as it arrives.
    """
    check_declared_length(request, limit)
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidInput("multipart/form-data without a boundary", code="invalid_multipart")
    sink = _MultipartSink(folder, {"metadata": settings(request).max_metadata_bytes})
    callbacks = {name: getattr(sink, name) for name in dir(sink) if name.startswith("on_")}
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    size = 0
    try:
        async for chunk in body_chunks(request, idle_timeout):
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            parser.write(chunk)
        parser.finalize()
    except ClientDisconnect:
        raise InvalidInput("the client closed the connection before the upload finished", code="incomplete_upload") from None
    except (InvalidInput, PayloadTooLarge):
        raise
    except Exception as exc:  # python-multipart's parse errors
        raise InvalidInput(f"malformed multipart body: {exc}", code="invalid_multipart") from None
    finally:
        sink.close()
    return sink.parts
