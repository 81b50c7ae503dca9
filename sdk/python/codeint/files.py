"""``sandbox.files``: read, write, list, remove and test files inside a sandbox.

Relative paths are relative to ``/home/user``. Uploads and streamed downloads are
never held whole in memory.
"""

import io
import os
from typing import IO, Any, Iterable, Iterator, List, Literal, Optional, Union, overload
from urllib.parse import quote

from ._http import HttpClient, Response
from .errors import ConflictError, NotFoundError
from .models import EntryInfo, WriteInfo

__all__ = ["Filesystem", "FileStream"]

WriteData = Union[str, bytes, bytearray, memoryview, IO[bytes], IO[str], Iterable[bytes]]


class FileStream:
    """A download as an iterator of ``bytes`` chunks; close it (or use ``with``) if you stop early."""

    def __init__(self, response: Response, chunk_size: int) -> None:
        self._response = response
        self._chunks = response.iter_chunks(chunk_size)
        #: The file's size in bytes, from Content-Length.
        self.size: Optional[int] = None
        length = response.headers.get("content-length")
        if length and length.isdigit():
            self.size = int(length)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        self._chunks.close()
        self._response.close()

    def __enter__(self) -> "FileStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _size_of(f: Any) -> Optional[int]:
    """Bytes left in a binary file object, when that can be known without reading it."""
    try:
        return int(os.fstat(f.fileno()).st_size - f.tell())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    try:
        here = f.tell()
        end = f.seek(0, io.SEEK_END)
        f.seek(here)
        return int(end - here)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _encode_text(f: IO[str], chunk_size: int) -> Iterator[bytes]:
    while True:
        text = f.read(chunk_size)
        if not text:
            return
        yield text.encode("utf-8")


class Filesystem:
    """The files of one sandbox (``sandbox.files``)."""

    def __init__(self, http: HttpClient, sandbox_id: str) -> None:
        self._http = http
        self._sandbox = "/sandboxes/" + quote(sandbox_id, safe="")
        self._base = self._sandbox + "/files"

    @overload
    def read(self, path: str, format: Literal["text"] = "text", request_timeout: Optional[float] = None) -> str: ...

    @overload
    def read(self, path: str, format: Literal["bytes"], request_timeout: Optional[float] = None) -> bytes: ...

    @overload
    def read(self, path: str, format: Literal["stream"], request_timeout: Optional[float] = None) -> FileStream: ...

    def read(
        self, path: str, format: str = "text", request_timeout: Optional[float] = None
    ) -> Union[str, bytes, FileStream]:
        """Downloads a file: ``"text"`` (UTF-8) -> str, ``"bytes"`` -> bytes,
        ``"stream"`` -> a ``FileStream`` of bytes chunks (nothing buffered whole).

        Raises ``NotFoundError`` for a missing file, ``ConflictError`` for a folder.
        """
        if format not in ("text", "bytes", "stream"):
            raise ValueError('format must be "text", "bytes" or "stream", got %r' % (format,))
        response = self._http.request(
            "GET",
            self._base + "/content",
            query={"path": path},
            headers={"Accept": "application/octet-stream"},
            timeout=request_timeout,
        )
        if format == "stream":
            return FileStream(response, 256 * 1024)
        data = response.read()
        return data.decode("utf-8") if format == "text" else data

    def write(
        self, path: str, data: WriteData, request_timeout: Optional[float] = None
    ) -> WriteInfo:
        """Uploads ``data`` to ``path`` (parent folders are created, an existing file replaced).

        ``data`` is a str (written as UTF-8), bytes, a file object opened for reading
        (streamed: with Content-Length when its size can be known, else chunked) or an
        iterable of bytes chunks (streamed, chunked).
        """
        headers = {"Content-Type": "application/octet-stream"}
        body: Any
        if isinstance(data, str):
            body = data.encode("utf-8")
        elif isinstance(data, (bytes, bytearray, memoryview)):
            body = bytes(data)
        elif hasattr(data, "read"):
            if isinstance(data, io.TextIOBase):
                body = _encode_text(data, 256 * 1024)
            else:
                body = data
                size = _size_of(data)
                if size is not None:
                    headers["Content-Length"] = str(size)
        elif isinstance(data, Iterable):
            body = (c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in data)
        else:
            raise TypeError("data must be str, bytes, a file object or an iterable of bytes")
        result = self._http.call(
            "PUT",
            self._base + "/content",
            query={"path": path},
            body=body,
            headers=headers,
            timeout=request_timeout,
        )
        return WriteInfo(path=str(result.get("path", path)), size=int(result.get("size", 0)))

    def list(self, path: str = "/home/user", request_timeout: Optional[float] = None) -> List[EntryInfo]:
        """The entries of a folder, sorted by name. ``NotFoundError`` if it does not exist."""
        entries = self._http.call("GET", self._base, query={"path": path}, timeout=request_timeout)
        return [EntryInfo.from_dict(e) for e in entries or []]

    def remove(self, path: str, request_timeout: Optional[float] = None) -> None:
        """Removes a file, or a folder with everything in it."""
        self._http.call("DELETE", self._base, query={"path": path}, timeout=request_timeout)

    def exists(self, path: str, request_timeout: Optional[float] = None) -> bool:
        """Whether a file or folder exists at ``path``."""
        try:
            self._http.call("GET", self._base, query={"path": path}, timeout=request_timeout)
            return True
        except (ConflictError, NotFoundError) as e:
            # Listing a file is refused as "not a folder" (so it exists), a missing path is
            # not found; but so are a stopped or unknown sandbox: tell them apart.
            sandbox = self._http.call("GET", self._sandbox, timeout=request_timeout)
            if sandbox.get("status") != "running":
                raise
            return isinstance(e, ConflictError)
