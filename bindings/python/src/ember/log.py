"""Routing libember's log messages (process-wide) to Python."""

from __future__ import annotations

import threading
from typing import Callable, Optional

from . import _lib

LOG_DEBUG = _lib.LOG_DEBUG
LOG_INFO = _lib.LOG_INFO
LOG_WARN = _lib.LOG_WARN
LOG_ERROR = _lib.LOG_ERROR
LOG_NONE = _lib.LOG_NONE

#: A log handler: (level, message); it may be called from any thread, one message at a time.
LogFn = Callable[[int, str], None]


class _Installed:
    """The ctypes callback in force: it must live as long as the library may call it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.callback: Optional[object] = None


_installed = _Installed()


def set_log_callback(callback: Optional[LogFn]) -> None:
    """Sends libember's log messages to ``callback(level, message)``; None
    restores the default (warnings and errors to stderr).

    Levels are ``ember.LOG_DEBUG`` .. ``ember.LOG_ERROR``. Exceptions the
    callback raises are dropped (they cannot cross into C). The callback must
    not call :func:`set_log_callback`.
    """
    lib = _lib.lib()
    with _installed.lock:
        if callback is None:
            _lib.check(lib.ember_set_log_callback(_lib.LogCallback(), None))  # NULL: the default sink
            _installed.callback = None
            return

        def on_log(level: int, msg: Optional[bytes], _ud: object) -> None:
            try:
                callback(int(level), (msg or b"").decode("utf-8", errors="replace").rstrip("\n"))
            except Exception:  # noqa: BLE001 - nothing may propagate into C
                pass

        c_callback = _lib.LogCallback(on_log)
        _lib.check(lib.ember_set_log_callback(c_callback, None))
        # Replaced only after the library holds the new one: the old may still be running.
        _installed.callback = c_callback


def set_log_level(level: int) -> None:
    """Drops messages below level (``ember.LOG_*``; the default is LOG_WARN)."""
    _lib.check(_lib.lib().ember_set_log_level(level))
