"""ember: run local LLMs (GGUF files) on the CPU.

The Python binding of libember's C ABI (``capi/ember.h``), loaded with
ctypes from the library bundled in this package::

    import ember

    with ember.Model("model.gguf") as model:
        print(model.generate("Once upon a time", max_tokens=32, temperature=0))
        for piece in model.generate("Tell me a story", stream=True):
            print(piece, end="", flush=True)
        print(model.embed("Once upon a time").shape)  # (n_embd,)

        with model.create_chat() as chat:
            reply = chat.send([{"role": "user", "content": "Hi!"}], max_tokens=64)
            print(reply.content, reply.tool_calls, reply.finish_reason)

Threads: one :class:`Model` may be shared by any number of threads; a
:class:`Session` is used by one thread at a time (make one per thread).
"""

from __future__ import annotations

from ._lib import lib as _load_library
from ._lib import library_path
from .chat import Chat, ChatReply, Message, render_chat_template
from .errors import (
    BufferTooSmallError,
    CancelledError,
    EmberError,
    InternalError,
    InvalidArgumentError,
    InvalidFileError,
    IoError,
    ModelFileNotFoundError,
    NotFoundError,
    OutOfMemoryError,
    UnsupportedError,
)
from .log import LOG_DEBUG, LOG_ERROR, LOG_INFO, LOG_NONE, LOG_WARN, set_log_callback, set_log_level
from .model import Model
from .session import GenerateStats, KvType, Session, StopReason, TextStream

__version__ = "0.1.0"

_load_library()  # fails at import, with the reason, if libember is missing


def library_version() -> str:
    """The loaded libember's version, ``"MAJOR.MINOR.PATCH"``."""
    from . import _lib

    return str(_lib.lib().ember_version().decode())


def abi_version() -> int:
    """The loaded libember's ABI version (EMBER_ABI_VERSION)."""
    from . import _lib

    return int(_lib.lib().ember_abi_version())


__all__ = [
    "BufferTooSmallError",
    "CancelledError",
    "Chat",
    "ChatReply",
    "EmberError",
    "GenerateStats",
    "InternalError",
    "InvalidArgumentError",
    "InvalidFileError",
    "IoError",
    "KvType",
    "LOG_DEBUG",
    "LOG_ERROR",
    "LOG_INFO",
    "LOG_NONE",
    "LOG_WARN",
    "Message",
    "Model",
    "ModelFileNotFoundError",
    "NotFoundError",
    "OutOfMemoryError",
    "Session",
    "StopReason",
    "TextStream",
    "UnsupportedError",
    "abi_version",
    "library_path",
    "library_version",
    "render_chat_template",
    "set_log_callback",
    "set_log_level",
]
