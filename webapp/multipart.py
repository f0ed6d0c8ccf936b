"""An upload streamed straight into a hidden temporary file of the corpus folder.

The file name is checked as soon as the part's headers arrive (a bad name or type
is refused before any data is read), the size while the data streams in, and
nothing is spooled anywhere else.  The guard (:mod:`webapp.guard`) bounds the
whole request body as well.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from webapp import texts
from webapp.uploads import UploadError, too_large

FIELD = "file"
TEMP_PREFIX = ".upload-"


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    field_name: bytes = b""
    value: bytes = b""


@dataclass
class ReceivedUpload:
    filename: str
    path: Path  # the temporary file inside the corpus folder


class _Receiver:
    def __init__(self, folder: Path, max_bytes: int, check_name: Callable[[str], object]) -> None:
        self.folder, self.max_bytes, self.check_name = folder, max_bytes, check_name
        self.part = _Part()
        self.filename: str | None = None
        self.path: Path | None = None
        self._out: BinaryIO | None = None
        self._writing = False
        self.size = 0

    # python-multipart callbacks
    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.field_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self.part.field_name.lower()] = self.part.value
        self.part.field_name, self.part.value = b"", b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        if params.get(b"name") != FIELD.encode() or b"filename" not in params or self.path is not None:
            return
        self.filename = params[b"filename"].decode("utf-8", "replace")
        self.check_name(self.filename)  # UploadError before any data is read
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=self.folder)
        self.path, self._out, self._writing = Path(name), os.fdopen(fd, "wb"), True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._writing or self._out is None:
            return
        self.size += end - start
        if self.size > self.max_bytes:
            raise too_large(self.max_bytes)
        self._out.write(data[start:end])

    def on_part_end(self) -> None:
        if self._writing and self._out is not None:
            self._writing = False
            self._out.close()

    def discard(self) -> None:
        if self._out is not None and not self._out.closed:
            self._out.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)


async def receive_upload(
    request: Request, folder: Path, max_bytes: int, check_name: Callable[[str], object]
) -> ReceivedUpload:
    """The multipart field ``file`` of ``request``, written to ``folder/.upload-*.part``; UploadError otherwise."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UploadError(400, texts.ERR_NOT_MULTIPART)
    folder.mkdir(parents=True, exist_ok=True)
    receiver = _Receiver(folder, max_bytes, check_name)
    callbacks = {
        name: getattr(receiver, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
    }
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        receiver.discard()
        raise UploadError(400, texts.ERR_BAD_REQUEST.format(reason=f"multipart: {exc}")) from exc
    except BaseException:
        receiver.discard()
        raise
    if receiver.path is None or receiver.filename is None or receiver._writing:
        receiver.discard()
        raise UploadError(400, texts.ERR_NOT_MULTIPART)
    return ReceivedUpload(receiver.filename, receiver.path)
