"""Loading libember and declaring its C ABI (capi/ember.h) for ctypes.

Everything here mirrors ember.h one to one: the option structs, the callback
types and each function's argument and result types. The rest of the package
calls the library only through :func:`lib` and the helpers at the end.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char,
    c_char_p,
    c_double,
    c_float,
    c_int,
    c_int32,
    c_size_t,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, Callable, Optional

from .errors import BufferTooSmallError, EmberError, error_for_status

#: The ABI this module was written against (EMBER_ABI_VERSION of ember.h).
ABI_VERSION = 1

# --- status codes, enums ------------------------------------------------------

OK = 0
ERR_INVALID_ARGUMENT = -1
ERR_INVALID_FILE = -2
ERR_IO = -3
ERR_UNSUPPORTED = -4
ERR_CANCELLED = -5
ERR_OUT_OF_MEMORY = -6
ERR_BUFFER_TOO_SMALL = -7
ERR_INTERNAL = -8
ERR_NOT_FOUND = -9

LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_NONE = 0, 1, 2, 3, 4

KV_F16, KV_Q8_0, KV_Q4_0 = 0, 1, 2

STOP_END_OF_GENERATION = 0
STOP_LENGTH = 1
STOP_STRING = 2
STOP_CONTEXT_FULL = 3
STOP_CANCELLED = 4

SEED_RANDOM = 0xFFFFFFFF

TOOL_CALL_ID, TOOL_CALL_NAME, TOOL_CALL_ARGUMENTS = 0, 1, 2

ember_status = c_int
ember_token = c_int32
model_p = c_void_p  # ember_model* (opaque)
session_p = c_void_p  # ember_session* (opaque)
chat_p = c_void_p  # ember_chat* (opaque)

# --- callbacks ----------------------------------------------------------------

LogCallback = CFUNCTYPE(None, c_int, c_char_p, c_void_p)
ProgressCallback = CFUNCTYPE(c_int, c_float, c_void_p)
PieceCallback = CFUNCTYPE(c_int, POINTER(c_char), c_size_t, c_void_p)
PromptProgressCallback = CFUNCTYPE(c_int, c_int32, c_int32, c_void_p)

# --- option and output structs ------------------------------------------------


class ModelParams(Structure):
    """``ember_model_params``."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("n_threads", c_int32),
        ("use_mmap", c_bool),
        ("vocab_only", c_bool),
        ("progress", ProgressCallback),
        ("progress_user_data", c_void_p),
    ]


class SessionParams(Structure):
    """``ember_session_params``."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("n_ctx", c_int32),
        ("n_batch", c_int32),
        ("n_threads", c_int32),
        ("kv_type", c_int32),
        ("n_seq_max", c_int32),
    ]


class GenerateParams(Structure):
    """``ember_generate_params``."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("temperature", c_float),
        ("top_k", c_int32),
        ("top_p", c_float),
        ("min_p", c_float),
        ("typical_p", c_float),
        ("repeat_penalty", c_float),
        ("repeat_last_n", c_int32),
        ("frequency_penalty", c_float),
        ("presence_penalty", c_float),
        ("seed", c_uint64),
        ("n_predict", c_int32),
        ("add_special", c_bool),
        ("parse_special", c_bool),
        ("ignore_eos", c_bool),
        ("stop", POINTER(c_char_p)),
        ("n_stop", c_size_t),
        ("logit_bias_tokens", POINTER(ember_token)),
        ("logit_bias", POINTER(c_float)),
        ("n_logit_bias", c_size_t),
        ("on_piece", PieceCallback),
        ("on_piece_user_data", c_void_p),
        ("on_prompt_progress", PromptProgressCallback),
        ("on_prompt_progress_user_data", c_void_p),
    ]


class GenerateStatsC(Structure):
    """``ember_generate_stats``."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("stop_reason", c_int32),
        ("prompt_tokens", c_int32),
        ("reused_tokens", c_int32),
        ("generated_tokens", c_int32),
        ("ttft_ms", c_double),
        ("prefill_ms", c_double),
        ("decode_ms", c_double),
        ("prefill_tok_s", c_double),
        ("decode_tok_s", c_double),
    ]


# --- signatures ---------------------------------------------------------------

_SIZE_P = POINTER(c_size_t)
_I32_P = POINTER(c_int32)
_TOKENS = POINTER(ember_token)

_SIGNATURES: dict[str, tuple[object, list[object]]] = {
    # versions, errors, logging
    "ember_version": (c_char_p, []),
    "ember_abi_version": (c_int, []),
    "ember_status_string": (c_char_p, [ember_status]),
    "ember_last_error": (c_char_p, []),
    "ember_set_log_callback": (ember_status, [LogCallback, c_void_p]),
    "ember_set_log_level": (ember_status, [c_int]),
    # models
    "ember_model_default_params": (ember_status, [POINTER(ModelParams), c_size_t]),
    "ember_model_load": (ember_status, [c_char_p, POINTER(ModelParams), POINTER(model_p)]),
    "ember_model_free": (None, [model_p]),
    "ember_model_meta_get": (ember_status, [model_p, c_char_p, c_char_p, c_size_t, _SIZE_P]),
    "ember_model_meta_count": (ember_status, [model_p, _SIZE_P]),
    "ember_model_meta_key": (ember_status, [model_p, c_size_t, c_char_p, c_size_t, _SIZE_P]),
    "ember_model_description": (ember_status, [model_p, c_char_p, c_size_t, _SIZE_P]),
    "ember_model_chat_template": (ember_status, [model_p, c_char_p, c_size_t, _SIZE_P]),
    "ember_model_n_vocab": (ember_status, [model_p, _I32_P]),
    "ember_model_n_ctx_train": (ember_status, [model_p, _I32_P]),
    "ember_model_n_embd": (ember_status, [model_p, _I32_P]),
    "ember_model_n_layer": (ember_status, [model_p, _I32_P]),
    "ember_model_n_params": (ember_status, [model_p, POINTER(c_uint64)]),
    # tokenizer
    "ember_tokenize": (ember_status, [model_p, c_char_p, c_size_t, c_bool, c_bool, _TOKENS, c_size_t, _SIZE_P]),
    "ember_detokenize": (ember_status, [model_p, _TOKENS, c_size_t, c_bool, c_char_p, c_size_t, _SIZE_P]),
    "ember_token_to_piece": (ember_status, [model_p, ember_token, c_bool, c_char_p, c_size_t, _SIZE_P]),
    "ember_token_bos": (ember_status, [model_p, _TOKENS]),
    "ember_token_eos": (ember_status, [model_p, _TOKENS]),
    "ember_token_is_eog": (ember_status, [model_p, ember_token, POINTER(c_bool)]),
    # sessions
    "ember_session_default_params": (ember_status, [POINTER(SessionParams), c_size_t]),
    "ember_session_create": (ember_status, [model_p, POINTER(SessionParams), POINTER(session_p)]),
    "ember_session_free": (None, [session_p]),
    "ember_session_n_ctx": (ember_status, [session_p, _I32_P]),
    "ember_session_cancel": (ember_status, [session_p]),
    # raw decoding
    "ember_session_decode": (ember_status, [session_p, _TOKENS, c_size_t, c_int32, c_int32, c_bool]),
    "ember_session_n_outputs": (ember_status, [session_p, _I32_P]),
    "ember_session_logits": (ember_status, [session_p, c_int32, POINTER(POINTER(c_float)), _SIZE_P]),
    "ember_session_embed": (ember_status, [session_p, _TOKENS, c_size_t, c_bool, POINTER(c_float), c_size_t, _SIZE_P]),
    # KV cache
    "ember_session_kv_clear": (ember_status, [session_p]),
    "ember_session_kv_remove": (ember_status, [session_p, c_int32, c_int32, c_int32]),
    "ember_session_kv_keep_seq": (ember_status, [session_p, c_int32]),
    "ember_session_kv_copy": (ember_status, [session_p, c_int32, c_int32, c_int32, c_int32]),
    "ember_session_kv_pos_max": (ember_status, [session_p, c_int32, _I32_P]),
    "ember_session_kv_bytes": (ember_status, [session_p, _SIZE_P]),
    # generation
    "ember_generate_default_params": (ember_status, [POINTER(GenerateParams), c_size_t]),
    "ember_session_generate": (
        ember_status,
        [session_p, c_char_p, c_size_t, POINTER(GenerateParams), c_char_p, c_size_t, _SIZE_P, POINTER(GenerateStatsC)],
    ),
    "ember_session_generate_tokens": (
        ember_status,
        [session_p, _TOKENS, c_size_t, POINTER(GenerateParams), c_char_p, c_size_t, _SIZE_P, POINTER(GenerateStatsC)],
    ),
}



class ChatMessage(Structure):
    """``ember_chat_message``."""

    _fields_ = [("role", c_char_p), ("content", c_char_p)]


# Functions newer than ABI 1's first release: the package works without them
# and raises UnsupportedError where they are needed (see :func:`has`).
_OPTIONAL_SIGNATURES: dict[str, tuple[object, list[object]]] = {
    "ember_render_chat_template": (
        ember_status,
        [c_char_p, POINTER(ChatMessage), c_size_t, c_bool, c_char_p, c_char_p, c_char_p, c_size_t, _SIZE_P],
    ),
    "ember_render_chat_template_json": (ember_status, [c_char_p, c_char_p, c_char_p, c_size_t, _SIZE_P]),
    "ember_model_apply_chat_template": (
        ember_status,
        [model_p, POINTER(ChatMessage), c_size_t, c_bool, c_char_p, c_size_t, _SIZE_P],
    ),
    # chat (a conversation over a session)
    "ember_chat_create": (ember_status, [session_p, c_char_p, POINTER(chat_p)]),
    "ember_chat_free": (None, [chat_p]),
    "ember_chat_uses_fallback_template": (ember_status, [chat_p, POINTER(c_bool)]),
    "ember_chat_render_json": (ember_status, [chat_p, c_char_p, c_char_p, c_bool, c_char_p, c_size_t, _SIZE_P]),
    "ember_chat_generate": (
        ember_status,
        [chat_p, POINTER(ChatMessage), c_size_t, POINTER(GenerateParams), POINTER(GenerateStatsC)],
    ),
    "ember_chat_generate_json": (
        ember_status,
        [chat_p, c_char_p, c_char_p, POINTER(GenerateParams), POINTER(GenerateStatsC)],
    ),
    "ember_chat_reply_content": (ember_status, [chat_p, c_char_p, c_size_t, _SIZE_P]),
    "ember_chat_reply_finish_reason": (c_char_p, [chat_p]),
    "ember_chat_reply_n_tool_calls": (ember_status, [chat_p, _SIZE_P]),
    "ember_chat_reply_tool_call": (ember_status, [chat_p, c_size_t, c_int, c_char_p, c_size_t, _SIZE_P]),
    "ember_chat_reply_json": (ember_status, [chat_p, c_char_p, c_size_t, _SIZE_P]),
}

# --- loading ------------------------------------------------------------------


def _library_names() -> list[str]:
    if sys.platform == "darwin":
        return ["libember.dylib"]
    if sys.platform == "win32":
        return ["ember.dll", "libember.dll"]
    return ["libember.so"]


def library_path() -> Path:
    """The libember file this package loads.

    The copy installed inside the package comes first; without one (a source
    checkout that was never installed), the ``EMBER_LIBRARY`` environment
    variable names the library to load.
    """
    here = Path(__file__).resolve().parent
    for name in _library_names():
        candidate = here / name
        if candidate.is_file():
            return candidate
    env = os.environ.get("EMBER_LIBRARY")
    if env:
        return Path(env)
    raise ImportError(
        f"ember: no {' or '.join(_library_names())} in {here}, and EMBER_LIBRARY is not set; "
        "install the package with `pip install ./bindings/python` from the ember repository, "
        "or point EMBER_LIBRARY at a built libember"
    )


class _Loaded:
    """The loaded library, declared once per process on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cdll: Optional[ctypes.CDLL] = None

    def get(self) -> ctypes.CDLL:
        cdll = self._cdll
        if cdll is not None:
            return cdll
        with self._lock:
            if self._cdll is None:
                self._cdll = _open(library_path())
            return self._cdll


def _open(path: Path) -> ctypes.CDLL:
    try:
        cdll = ctypes.CDLL(str(path))
    except OSError as e:
        raise ImportError(f"ember: cannot load {path}: {e}") from e
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(cdll, name)
        except AttributeError as e:
            raise ImportError(f"ember: {path} has no {name}: it is not a libember of ABI {ABI_VERSION}") from e
        fn.restype = restype
        fn.argtypes = argtypes
    for name, (restype, argtypes) in _OPTIONAL_SIGNATURES.items():
        fn = getattr(cdll, name, None)
        if fn is not None:
            fn.restype = restype
            fn.argtypes = argtypes
    abi = cdll.ember_abi_version()
    if abi != ABI_VERSION:
        raise ImportError(f"ember: {path} has ABI version {abi}; this package needs {ABI_VERSION}")
    return cdll


_loaded = _Loaded()


def lib() -> ctypes.CDLL:
    """The loaded libember, with every function of ember.h declared."""
    return _loaded.get()


def has(name: str) -> bool:
    """Whether the loaded libember exports the (optional) function name."""
    return hasattr(lib(), name)


# --- helpers ------------------------------------------------------------------


def last_error() -> str:
    """``ember_last_error()`` of the calling thread."""
    msg = lib().ember_last_error()
    return msg.decode("utf-8", errors="replace") if msg else ""


def status_string(status: int) -> str:
    """``ember_status_string(status)``."""
    s = lib().ember_status_string(status)
    return s.decode("utf-8", errors="replace") if s else ""


def make_error(status: int, *, path: Optional[str] = None) -> EmberError:
    """The exception for a failed call, carrying this thread's last error."""
    return error_for_status(status, last_error() or status_string(status), path=path)


def check(status: int, *, path: Optional[str] = None) -> None:
    """Raises the exception for status unless it is EMBER_OK."""
    if status != OK:
        raise make_error(status, path=path)


def read_text(call: Callable[[Any, int, Any], int], guess: int = 256) -> bytes:
    """Runs a text-returning C function with a growing buffer.

    ``call(buf, buf_size, out_len_ptr)`` must make the C call; it is retried
    once with the exact size if the first buffer was too small.
    """
    size = max(guess, 1)
    out_len = c_size_t(0)
    for _ in range(2):
        buf = ctypes.create_string_buffer(size)
        status = call(buf, size, ctypes.byref(out_len))
        if status == OK:
            return buf.raw[: out_len.value]
        if status != ERR_BUFFER_TOO_SMALL:
            raise make_error(status)
        size = out_len.value + 1
    raise BufferTooSmallError(last_error() or "buffer too small")
