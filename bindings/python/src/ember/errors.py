"""Exceptions: one class per ember_status, each carrying the library's message.

Every failing call into libember raises a subclass of :class:`EmberError`
whose text is ``ember_last_error()`` of that call ("[gguf] m.gguf: ..."). The
classes also derive from the matching built-in exception where one fits, so
``except FileNotFoundError`` or ``except ValueError`` work as a Python
programmer expects.
"""

from __future__ import annotations

import errno
from typing import Optional


class EmberError(Exception):
    """Base of every error libember reports.

    Attributes:
        status: the ``ember_status`` code (negative).
        message: the library's message, naming the place of the failure.
    """

    status: int = -8

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


class InvalidArgumentError(EmberError, ValueError):
    """EMBER_ERR_INVALID_ARGUMENT: a bad parameter (``top_p=2``, an out-of-range token id)."""

    status = -1


class InvalidFileError(EmberError):
    """EMBER_ERR_INVALID_FILE: a malformed or truncated model file."""

    status = -2


class IoError(EmberError, OSError):
    """EMBER_ERR_IO: the operating system refused (open, mmap, read)."""

    status = -3

    def __init__(self, message: str, status: Optional[int] = None, filename: Optional[str] = None) -> None:
        EmberError.__init__(self, message, status)
        self.filename = filename


class ModelFileNotFoundError(IoError, FileNotFoundError):
    """EMBER_ERR_IO for a model path that does not exist."""

    def __init__(self, message: str, status: Optional[int] = None, filename: Optional[str] = None) -> None:
        IoError.__init__(self, message, status, filename)
        self.errno = errno.ENOENT
        self.strerror = message


class UnsupportedError(EmberError):
    """EMBER_ERR_UNSUPPORTED: valid input ember cannot handle (yet)."""

    status = -4


class CancelledError(EmberError):
    """EMBER_ERR_CANCELLED: a callback or a cancel request stopped the call."""

    status = -5


class OutOfMemoryError(EmberError, MemoryError):
    """EMBER_ERR_OUT_OF_MEMORY."""

    status = -6


class BufferTooSmallError(EmberError):
    """EMBER_ERR_BUFFER_TOO_SMALL (the binding sizes its buffers itself; seeing this is a bug)."""

    status = -7


class InternalError(EmberError):
    """EMBER_ERR_INTERNAL: a bug in ember; please report it with the message."""

    status = -8


class NotFoundError(EmberError, LookupError):
    """EMBER_ERR_NOT_FOUND: a metadata key or chat template the model does not have."""

    status = -9


_BY_STATUS: dict[int, type[EmberError]] = {
    cls.status: cls
    for cls in (
        InvalidArgumentError,
        InvalidFileError,
        IoError,
        UnsupportedError,
        CancelledError,
        OutOfMemoryError,
        BufferTooSmallError,
        InternalError,
        NotFoundError,
    )
}


def error_for_status(status: int, message: str, *, path: Optional[str] = None) -> EmberError:
    """The exception for a status code. ``path``: the file a load was given,
    so that an I/O failure on a missing file becomes a FileNotFoundError."""
    cls = _BY_STATUS.get(status, EmberError)
    if cls is IoError:
        import os

        if path is not None and not os.path.exists(path):
            return ModelFileNotFoundError(message, status, filename=path)
        return IoError(message, status, filename=path)
    return cls(message, status)
