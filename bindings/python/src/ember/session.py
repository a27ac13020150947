"""ember.Session: a model's runner with its own KV cache.

A Session is used by one thread at a time (make one per thread; the Model
they share may be used by all of them). Successive :meth:`Session.generate`
calls reuse the longest prompt prefix the KV cache already holds, so a chat
that resends its growing history only evaluates the new part.
"""

from __future__ import annotations

import codecs
import ctypes
import queue
import threading
import weakref
from ctypes import POINTER, byref, c_char_p, c_float, c_int32, c_size_t
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Generator,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Union,
    overload,
)

from . import _lib
from .errors import InvalidArgumentError

if TYPE_CHECKING:
    import numpy as np

    from .chat import Chat
    from .model import Model

#: Element type of the KV cache.
KvType = Literal["f16", "q8_0", "q4_0"]
_KV_TYPES = {"f16": _lib.KV_F16, "q8_0": _lib.KV_Q8_0, "q4_0": _lib.KV_Q4_0}

#: Why a generation stopped (``GenerateStats.stop_reason``).
StopReason = Literal["end_of_generation", "length", "stop_string", "context_full", "cancelled"]
_STOP_REASONS: dict[int, StopReason] = {
    _lib.STOP_END_OF_GENERATION: "end_of_generation",
    _lib.STOP_LENGTH: "length",
    _lib.STOP_STRING: "stop_string",
    _lib.STOP_CONTEXT_FULL: "context_full",
    _lib.STOP_CANCELLED: "cancelled",
}

Prompt = Union[str, bytes, Sequence[int]]
#: The pieces of a streamed generation or chat turn; ``close()`` (or leaving a
#: ``for`` loop over it) cancels the generation.
TextStream = Generator[str, None, None]
#: Called after each chunk of the prompt with (done, total) tokens; returning False stops the generation.
PromptProgressFn = Callable[[int, int], Optional[bool]]

#: One generating C call: ``call(session_handle, params_ref, stats_ref)`` runs
#: ember_session_generate, ember_chat_generate_json, ... and returns its status.
_GenerateCall = Callable[[int, Any, Any], int]

_INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class GenerateStats:
    """Figures of one generation (``ember_generate_stats``)."""

    stop_reason: StopReason
    prompt_tokens: int
    """Tokens of the call's prompt."""
    reused_tokens: int
    """Of those, already in the KV cache from the previous call."""
    generated_tokens: int
    ttft_ms: float
    """From the call's start to the first generated token."""
    prefill_ms: float
    decode_ms: float
    prefill_tok_s: float
    decode_tok_s: float

    @property
    def finish_reason(self) -> str:
        """The OpenAI-style reason: ``"stop"`` (end of generation or a stop
        string), ``"length"`` (max_tokens or a full context) or ``"cancelled"``."""
        if self.stop_reason in ("end_of_generation", "stop_string"):
            return "stop"
        if self.stop_reason in ("length", "context_full"):
            return "length"
        return "cancelled"

    @classmethod
    def _from_c(cls, st: _lib.GenerateStatsC) -> "GenerateStats":
        return cls(
            stop_reason=_STOP_REASONS.get(st.stop_reason, "cancelled"),
            prompt_tokens=st.prompt_tokens,
            reused_tokens=st.reused_tokens,
            generated_tokens=st.generated_tokens,
            ttft_ms=st.ttft_ms,
            prefill_ms=st.prefill_ms,
            decode_ms=st.decode_ms,
            prefill_tok_s=st.prefill_tok_s,
            decode_tok_s=st.decode_tok_s,
        )


def _int_arg(name: str, value: int, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidArgumentError(f"[ember.generate] {name} must be an integer in [{lo}, {hi}], got {value!r}")
    return value


def _prompt_call(prompt: Prompt) -> _GenerateCall:
    """The C call that generates after prompt (text or token ids)."""
    lib = _lib.lib()
    if isinstance(prompt, (str, bytes, bytearray)):
        data = prompt.encode("utf-8") if isinstance(prompt, str) else bytes(prompt)
        return lambda h, p, st: int(lib.ember_session_generate(h, data, len(data), p, None, 0, None, st))
    ids = (c_int32 * len(prompt))(*prompt)
    n = len(prompt)
    return lambda h, p, st: int(lib.ember_session_generate_tokens(h, ids, n, p, None, 0, None, st))


class _GenerateArgs:
    """An ``ember_generate_params`` filled from keyword arguments, with the
    arrays it points to kept alive as long as it is."""

    def __init__(self, params: _lib.GenerateParams, keep: list[object], on_prompt_progress: Optional[PromptProgressFn]):
        self.params = params
        self.keep = keep
        self.on_prompt_progress = on_prompt_progress

    @classmethod
    def build(
        cls,
        max_tokens: Optional[int] = 256,
        temperature: float = 0.8,
        top_k: int = 40,
        top_p: float = 0.95,
        min_p: float = 0.05,
        typical_p: float = 1.0,
        repeat_penalty: float = 1.0,
        repeat_last_n: int = 64,
        frequency_penalty: float = 0.0,
        presence_penalty: float = 0.0,
        seed: Optional[int] = None,
        stop: Union[str, Sequence[str], None] = None,
        logit_bias: Optional[Mapping[int, float]] = None,
        add_special: bool = True,
        parse_special: bool = False,
        ignore_eos: bool = False,
        on_prompt_progress: Optional[PromptProgressFn] = None,
    ) -> "_GenerateArgs":
        p = _lib.GenerateParams()
        _lib.check(_lib.lib().ember_generate_default_params(byref(p), ctypes.sizeof(p)))
        keep: list[object] = []
        p.temperature = temperature
        p.top_k = _int_arg("top_k", top_k, -_INT32_MAX, _INT32_MAX)
        p.top_p = top_p
        p.min_p = min_p
        p.typical_p = typical_p
        p.repeat_penalty = repeat_penalty
        p.repeat_last_n = _int_arg("repeat_last_n", repeat_last_n, -1, _INT32_MAX)
        p.frequency_penalty = frequency_penalty
        p.presence_penalty = presence_penalty
        p.seed = _lib.SEED_RANDOM if seed is None else _int_arg("seed", seed, 0, 2**64 - 1)
        p.n_predict = -1 if max_tokens is None else _int_arg("max_tokens", max_tokens, -1, _INT32_MAX)
        p.add_special = add_special
        p.parse_special = parse_special
        p.ignore_eos = ignore_eos
        if stop is not None:
            stops = [stop] if isinstance(stop, str) else list(stop)
            encoded = [s.encode("utf-8") for s in stops]
            arr = (c_char_p * max(len(encoded), 1))(*encoded)
            keep.append(arr)
            p.stop = ctypes.cast(arr, POINTER(c_char_p))
            p.n_stop = len(encoded)
        if logit_bias:
            items = list(logit_bias.items())
            toks = (c_int32 * len(items))(*(int(t) for t, _ in items))
            bias = (c_float * len(items))(*(float(b) for _, b in items))
            keep.extend((toks, bias))
            p.logit_bias_tokens = ctypes.cast(toks, POINTER(c_int32))
            p.logit_bias = ctypes.cast(bias, POINTER(c_float))
            p.n_logit_bias = len(items)
        return cls(p, keep, on_prompt_progress)


class Session:
    """Runs a model: owns a KV cache, scratch buffers and worker threads.

    Args:
        model: the :class:`ember.Model` (which may be closed afterwards: the
            session keeps the library's model alive).
        n_ctx: positions per sequence; 0: min(n_ctx_train, 4096).
        kv_type: KV cache element type, ``"f16"``, ``"q8_0"`` or ``"q4_0"``.
        n_batch: tokens per forward pass.
        n_threads: 0: the model's n_threads.
        n_seq_max: independent sequences (seq ids 0..n_seq_max-1) for :meth:`decode`.

    A Session is for one thread at a time; a call made while another is
    running on it raises RuntimeError instead of corrupting it. Only
    :meth:`cancel` and :meth:`close` may come from another thread.
    """

    def __init__(
        self,
        model: "Model",
        n_ctx: int = 0,
        kv_type: KvType = "f16",
        n_batch: int = 512,
        n_threads: int = 0,
        n_seq_max: int = 1,
    ) -> None:
        self._handle: Optional[int] = None
        self._busy = threading.Lock()
        self._stop_requested = threading.Event()
        # Chats over this session: freed before it (the library's chat must not outlive its session).
        self._chats: "weakref.WeakSet[Chat]" = weakref.WeakSet()
        self._default_chat: Optional["Chat"] = None
        self.model = model
        self.last_stats: Optional[GenerateStats] = None
        """Statistics of the last generate call (None before the first)."""
        if kv_type not in _KV_TYPES:
            raise InvalidArgumentError(
                f"[ember.Session] kv_type must be one of {', '.join(_KV_TYPES)}, got {kv_type!r}"
            )
        lib = _lib.lib()
        p = _lib.SessionParams()
        _lib.check(lib.ember_session_default_params(byref(p), ctypes.sizeof(p)))
        p.n_ctx = _int_arg("n_ctx", n_ctx, -(2**31), _INT32_MAX)
        p.n_batch = _int_arg("n_batch", n_batch, -(2**31), _INT32_MAX)
        p.n_threads = _int_arg("n_threads", n_threads, -(2**31), _INT32_MAX)
        p.kv_type = _KV_TYPES[kv_type]
        p.n_seq_max = _int_arg("n_seq_max", n_seq_max, -(2**31), _INT32_MAX)
        handle = _lib.session_p()
        _lib.check(lib.ember_session_create(model.handle, byref(p), byref(handle)))
        self._handle = handle.value
        self.kv_type: KvType = kv_type

    # --- lifetime -----------------------------------------------------------------

    def close(self) -> None:
        """Frees the session. A generation running on it (a stream being
        iterated, or a call on another thread) is cancelled first."""
        if self._handle is None:
            return
        if not self._busy.acquire(blocking=False):
            self.cancel()
            self._busy.acquire()  # the running call stops at its next token or chunk
        try:
            for chat in list(self._chats):
                chat._free_handle()
            self._default_chat = None
            handle, self._handle = self._handle, None
            if handle is not None:
                _lib.lib().ember_session_free(handle)
        finally:
            self._busy.release()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._handle is None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn down ctypes
            pass

    def __repr__(self) -> str:
        if self.closed:
            return "<ember.Session closed>"
        return f"<ember.Session n_ctx={self.n_ctx} kv_type={self.kv_type!r}>"

    @property
    def handle(self) -> int:
        """The ``ember_session*`` address; raises if closed."""
        if self._handle is None:
            raise ValueError("ember.Session: the session is closed")
        return self._handle

    @property
    def n_ctx(self) -> int:
        """The context size in force (n_ctx = 0 resolved)."""
        out = c_int32(0)
        _lib.check(_lib.lib().ember_session_n_ctx(self.handle, byref(out)))
        return out.value

    def cancel(self) -> None:
        """Stops the running generate (at its next token or prompt chunk) or
        decode (at its next chunk). Callable from any thread; a cancel with
        nothing running is forgotten."""
        # The flag also catches a cancel that lands just before the C call
        # starts (which the library forgets): every callback checks it.
        self._stop_requested.set()
        handle = self._handle
        if handle is not None:
            _lib.check(_lib.lib().ember_session_cancel(handle))

    # --- generation -----------------------------------------------------------------

    @overload
    def generate(
        self,
        prompt: Prompt,
        max_tokens: Optional[int] = ...,
        temperature: float = ...,
        top_k: int = ...,
        top_p: float = ...,
        min_p: float = ...,
        typical_p: float = ...,
        repeat_penalty: float = ...,
        repeat_last_n: int = ...,
        frequency_penalty: float = ...,
        presence_penalty: float = ...,
        seed: Optional[int] = ...,
        stop: Union[str, Sequence[str], None] = ...,
        logit_bias: Optional[Mapping[int, float]] = ...,
        add_special: bool = ...,
        parse_special: bool = ...,
        ignore_eos: bool = ...,
        on_prompt_progress: Optional[PromptProgressFn] = ...,
        stream: Literal[False] = ...,
    ) -> str: ...

    @overload
    def generate(
        self,
        prompt: Prompt,
        max_tokens: Optional[int] = ...,
        temperature: float = ...,
        top_k: int = ...,
        top_p: float = ...,
        min_p: float = ...,
        typical_p: float = ...,
        repeat_penalty: float = ...,
        repeat_last_n: int = ...,
        frequency_penalty: float = ...,
        presence_penalty: float = ...,
        seed: Optional[int] = ...,
        stop: Union[str, Sequence[str], None] = ...,
        logit_bias: Optional[Mapping[int, float]] = ...,
        add_special: bool = ...,
        parse_special: bool = ...,
        ignore_eos: bool = ...,
        on_prompt_progress: Optional[PromptProgressFn] = ...,
        *,
        stream: Literal[True],
    ) -> TextStream: ...

    def generate(
        self,
        prompt: Prompt,
        max_tokens: Optional[int] = 256,
        temperature: float = 0.8,
        top_k: int = 40,
        top_p: float = 0.95,
        min_p: float = 0.05,
        typical_p: float = 1.0,
        repeat_penalty: float = 1.0,
        repeat_last_n: int = 64,
        frequency_penalty: float = 0.0,
        presence_penalty: float = 0.0,
        seed: Optional[int] = None,
        stop: Union[str, Sequence[str], None] = None,
        logit_bias: Optional[Mapping[int, float]] = None,
        add_special: bool = True,
        parse_special: bool = False,
        ignore_eos: bool = False,
        on_prompt_progress: Optional[PromptProgressFn] = None,
        stream: bool = False,
    ) -> Union[str, TextStream]:
        """Generates text after prompt on sequence 0, reusing the longest
        prefix the KV cache already holds.

        Sampling runs penalties -> logit bias -> top_k -> typical_p -> top_p ->
        min_p -> temperature.

        Args:
            prompt: text (``str``/UTF-8 ``bytes``), or token ids (an empty list starts from BOS).
            max_tokens: tokens to generate at most; None or -1: until end of generation or a full context.
            temperature: <= 0 is greedy (argmax).
            top_k: <= 0 is off.
            top_p: in (0, 1]; 1 is off.
            min_p: in [0, 1]; 0 is off.
            typical_p: in (0, 1]; 1 is off.
            repeat_penalty: > 0; 1 is off.
            repeat_last_n: tokens the penalties see; 0: off, -1: all.
            frequency_penalty, presence_penalty: OpenAI-style penalties; 0 is off.
            seed: a fixed seed gives the same text every time; None: random.
            stop: a string or strings that end the generation (not returned).
            logit_bias: token id -> value added to its logit (``-math.inf`` bans it).
            add_special: add BOS/EOS to a text prompt as the vocabulary asks.
            parse_special: read control tokens in a text prompt (``"<|im_start|>"``) as their ids.
            ignore_eos: keep generating past end-of-generation tokens.
            on_prompt_progress: called after each prompt chunk with (done, total);
                returning False stops before any token is sampled.
            stream: return an iterator of text pieces as they are made.

        Returns:
            The text (a stop by :meth:`cancel` returns the text so far), or with
            ``stream=True`` an iterator of pieces; leaving that iteration early
            (``break``, ``close()``) cancels the generation, and the session is
            usable again right after. :attr:`last_stats` holds the call's figures.

        Raises:
            ember.InvalidArgumentError: a bad parameter, or a prompt that does not fit the context.
        """
        args = _GenerateArgs.build(
            max_tokens=max_tokens,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            min_p=min_p,
            typical_p=typical_p,
            repeat_penalty=repeat_penalty,
            repeat_last_n=repeat_last_n,
            frequency_penalty=frequency_penalty,
            presence_penalty=presence_penalty,
            seed=seed,
            stop=stop,
            logit_bias=logit_bias,
            add_special=add_special,
            parse_special=parse_special,
            ignore_eos=ignore_eos,
            on_prompt_progress=on_prompt_progress,
        )
        call = _prompt_call(prompt)
        if stream:
            return self._stream(call, args)
        return self._generate(call, args)

    @overload
    def chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Optional[Sequence[Mapping[str, Any]]] = ...,
        stream: Literal[False] = ...,
        **kwargs: Any,
    ) -> str: ...

    @overload
    def chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Optional[Sequence[Mapping[str, Any]]] = ...,
        *,
        stream: Literal[True],
        **kwargs: Any,
    ) -> TextStream: ...

    def chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Optional[Sequence[Mapping[str, Any]]] = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> Union[str, TextStream]:
        """The assistant's reply to a conversation (OpenAI-style message
        dicts) in the model's chat template, as text, or with ``stream=True``
        an iterator of its pieces.

        Runs on this session's own :class:`ember.Chat` (made on first use), so
        resending the grown conversation on the next turn reuses the KV cache
        of the earlier ones. The text is the reply's content: with ``tools``,
        tool calls are taken out of it; use :meth:`ember.Chat.send` (or this
        session's :attr:`default_chat`'s ``last_reply``) to read them.
        **kwargs: the generation arguments of :meth:`generate` (``add_special``
        and ``parse_special`` are decided by the chat and ignored).
        """
        chat = self.default_chat
        if stream:
            return chat._stream_turn(messages, tools, kwargs)
        return chat._reply_turn(messages, tools, kwargs).content

    @property
    def default_chat(self) -> "Chat":
        """The :class:`ember.Chat` that :meth:`chat` uses (the model's template), made on first use."""
        from .chat import Chat

        if self._default_chat is None or self._default_chat.closed:
            self._default_chat = Chat(self)
        return self._default_chat

    def _acquire(self) -> int:
        handle = self.handle
        if not self._busy.acquire(blocking=False):
            raise RuntimeError(
                "ember.Session: another call is running on this session (use one session per thread, "
                "and finish or close a stream before the next call)"
            )
        if self._handle is None:  # closed while we waited
            self._busy.release()
            raise ValueError("ember.Session: the session is closed")
        self._stop_requested.clear()
        return handle

    def _run(self, handle: int, call: _GenerateCall, args: _GenerateArgs, on_piece: Callable[[bytes], bool]) -> None:
        """One generating C call, on the calling thread, with args' parameters
        and callbacks that feed on_piece (which returns False to stop).
        Exceptions raised by the callbacks are re-raised after the call;
        :attr:`last_stats` gets the call's figures."""
        raised: list[BaseException] = []
        user_progress = args.on_prompt_progress
        stop_requested = self._stop_requested

        def piece_cb(ptr: "ctypes._Pointer[ctypes.c_char]", n: int, _ud: object) -> int:
            try:
                if stop_requested.is_set():
                    return 1
                return 0 if on_piece(ctypes.string_at(ptr, n)) else 1
            except BaseException as e:  # noqa: BLE001 - re-raised after the call
                raised.append(e)
                return 1

        def progress_cb(done: int, total: int, _ud: object) -> int:
            try:
                if stop_requested.is_set():
                    return 1
                if user_progress is not None and user_progress(int(done), int(total)) is False:
                    return 1
                return 0
            except BaseException as e:  # noqa: BLE001 - re-raised after the call
                raised.append(e)
                return 1

        p = _lib.GenerateParams.from_buffer_copy(args.params)
        c_piece = _lib.PieceCallback(piece_cb)
        c_progress = _lib.PromptProgressCallback(progress_cb)
        p.on_piece = c_piece
        p.on_prompt_progress = c_progress
        stats = _lib.GenerateStatsC()
        stats.struct_size = ctypes.sizeof(stats)
        status = call(handle, byref(p), byref(stats))
        if status != _lib.OK:
            err = _lib.make_error(status)
            if raised:
                raise raised[0] from err
            raise err
        self.last_stats = GenerateStats._from_c(stats)
        if raised:
            raise raised[0]

    def _generate(self, call: _GenerateCall, args: _GenerateArgs, after: Optional[Callable[[], None]] = None) -> str:
        """Runs call with the session held and returns the text of its pieces.
        after: run next, still holding the session (a chat reads its reply)."""
        handle = self._acquire()
        try:
            pieces: list[bytes] = []

            def on_piece(b: bytes) -> bool:
                pieces.append(b)
                return True

            self._run(handle, call, args, on_piece)
            if after is not None:
                after()
            return b"".join(pieces).decode("utf-8", errors="replace")
        finally:
            self._busy.release()

    def _stream(
        self,
        call: _GenerateCall,
        args: _GenerateArgs,
        after: Optional[Callable[[], None]] = None,
        on_done: Optional[Callable[[], None]] = None,
    ) -> TextStream:
        """Pieces of a generation (call) that runs on a worker thread.

        A generator cannot yield from inside the C callback, so the C call
        runs on its own thread and hands each piece over a queue. Leaving the
        iteration early sets the stop request (every callback then returns
        non-zero) and cancels, then waits for the thread: the session is free
        again when the generator is closed.

        after: run on the worker right after a successful call, still holding
        the session (a chat reads its reply). on_done: run when the iteration
        ends in any way, with the session free (closes a one-off session).
        """
        done = object()
        pieces: "queue.SimpleQueue[object]" = queue.SimpleQueue()
        failure: list[BaseException] = []
        worker: Optional[threading.Thread] = None
        try:
            handle = self._acquire()

            def hand_over(piece: bytes) -> bool:
                pieces.put(piece)
                return True

            def run() -> None:
                try:
                    self._run(handle, call, args, hand_over)
                    if after is not None:
                        after()
                except BaseException as e:  # noqa: BLE001 - handed to the consuming thread
                    failure.append(e)
                finally:
                    self._busy.release()
                    pieces.put(done)

            worker = threading.Thread(target=run, name="ember-generate", daemon=True)
            try:
                worker.start()
            except BaseException:
                self._busy.release()
                raise
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            while True:
                item = pieces.get()
                if item is done:
                    break
                text = decoder.decode(item)  # type: ignore[arg-type]
                if text:
                    yield text
            tail = decoder.decode(b"", final=True)
            worker.join()
            if failure:
                raise failure[0]
            if tail:
                yield tail
        finally:
            if worker is not None and worker.is_alive():
                self.cancel()
                worker.join()
            if on_done is not None:
                on_done()

    # --- raw decoding -------------------------------------------------------------

    def decode(self, tokens: Sequence[int], pos0: Optional[int] = None, seq_id: int = 0, all_logits: bool = False) -> None:
        """Evaluates tokens at positions pos0, pos0+1, ... of sequence seq_id,
        writing their keys and values into the KV cache.

        Args:
            pos0: the first position; None: right after the sequence's last one.
            all_logits: keep every token's logits (rows 0..n-1), otherwise the last one's only.

        Then :meth:`get_logits` reads the rows. Invalid tokens, positions or
        sequence ids raise before anything changes.
        """
        handle = self._acquire()
        try:
            if pos0 is None:
                pos0 = self._pos_max(handle, seq_id) + 1
            ids = (c_int32 * len(tokens))(*tokens)
            _lib.check(_lib.lib().ember_session_decode(handle, ids, len(tokens), pos0, seq_id, all_logits))
        finally:
            self._busy.release()

    @property
    def n_outputs(self) -> int:
        """Rows of logits the last decode kept."""
        out = c_int32(0)
        _lib.check(_lib.lib().ember_session_n_outputs(self.handle, byref(out)))
        return out.value

    def get_logits(self, i: int = -1) -> "np.ndarray":
        """Row i of the last decode's (or generation step's) logits, a float32
        array of n_vocab (a copy); negative i counts from the end."""
        import numpy as np

        ptr = POINTER(c_float)()
        n = c_size_t(0)
        _lib.check(_lib.lib().ember_session_logits(self.handle, i, byref(ptr), byref(n)))
        return np.ctypeslib.as_array(ptr, shape=(n.value,)).copy()

    def logits(self, tokens: Sequence[int], pos0: int = 0, seq_id: int = 0) -> "np.ndarray":
        """Logits of every token: evaluates tokens at positions pos0.. of
        seq_id (dropping whatever the cache held there and after) and returns
        a float32 array of shape ``[len(tokens), n_vocab]``."""
        import numpy as np

        n_tok = len(tokens)
        if n_tok == 0:
            return np.zeros((0, self.model.n_vocab), dtype=np.float32)
        handle = self._acquire()
        try:
            lib = _lib.lib()
            _lib.check(lib.ember_session_kv_remove(handle, seq_id, pos0, -1))
            ids = (c_int32 * n_tok)(*tokens)
            _lib.check(lib.ember_session_decode(handle, ids, n_tok, pos0, seq_id, True))
            rows = []
            for i in range(n_tok):
                ptr = POINTER(c_float)()
                n = c_size_t(0)
                _lib.check(lib.ember_session_logits(handle, i, byref(ptr), byref(n)))
                rows.append((ptr, n.value))
            n_vocab = rows[0][1]
            first = ctypes.cast(rows[0][0], ctypes.c_void_p).value or 0
            last = ctypes.cast(rows[-1][0], ctypes.c_void_p).value or 0
            if last - first == (n_tok - 1) * n_vocab * ctypes.sizeof(c_float):
                # One contiguous block (the usual case): copy it at once.
                return np.ctypeslib.as_array(rows[0][0], shape=(n_tok, n_vocab)).copy()
            out = np.empty((n_tok, n_vocab), dtype=np.float32)
            for i, (row, width) in enumerate(rows):
                out[i] = np.ctypeslib.as_array(row, shape=(width,))
            return out
        finally:
            self._busy.release()

    def embed(self, tokens: Union[str, Sequence[int]], normalize: bool = True) -> "np.ndarray":
        """Embedding of tokens (or of a text, tokenized with BOS): the last
        hidden state after the model's final norm, averaged over the tokens
        and, with ``normalize``, scaled to unit length; a float32 array of
        n_embd. Uses sequence 0 of the KV cache and leaves it empty.

        Raises:
            ember.InvalidArgumentError: no tokens, too many for the context, or a bad id.
        """
        import numpy as np

        ids_list = self.model.tokenize(tokens) if isinstance(tokens, str) else list(tokens)
        n_embd = self.model.n_embd
        out = np.zeros(n_embd, dtype=np.float32)
        handle = self._acquire()
        try:
            ids = (c_int32 * len(ids_list))(*ids_list)
            out_n = c_size_t(0)
            out_ptr = out.ctypes.data_as(POINTER(c_float))
            _lib.check(
                _lib.lib().ember_session_embed(handle, ids, len(ids_list), bool(normalize), out_ptr, n_embd, byref(out_n))
            )
            return out
        finally:
            self._busy.release()

    # --- KV cache -----------------------------------------------------------------

    def kv_clear(self) -> None:
        """Empties every sequence of the KV cache."""
        self._kv(lambda h, lib: lib.ember_session_kv_clear(h))

    def kv_remove(self, seq_id: int = -1, p0: int = -1, p1: int = -1) -> None:
        """Drops positions [p0, p1) of seq_id (seq_id < 0: every sequence;
        p0 < 0: from 0; p1 < 0: to the end)."""
        self._kv(lambda h, lib: lib.ember_session_kv_remove(h, seq_id, p0, p1))

    def kv_keep_seq(self, seq_id: int) -> None:
        """Drops every sequence but seq_id."""
        self._kv(lambda h, lib: lib.ember_session_kv_keep_seq(h, seq_id))

    def kv_copy(self, src_seq: int, dst_seq: int, p0: int = -1, p1: int = -1) -> None:
        """Copies positions [p0, p1) of src_seq into dst_seq (p0 < 0: from 0; p1 < 0: to the end)."""
        self._kv(lambda h, lib: lib.ember_session_kv_copy(h, src_seq, dst_seq, p0, p1))

    def kv_pos_max(self, seq_id: int = 0) -> int:
        """Largest position held for seq_id, -1 if none."""
        return self._pos_max(self.handle, seq_id)

    @property
    def kv_bytes(self) -> int:
        """Bytes of the KV cache."""
        out = c_size_t(0)
        _lib.check(_lib.lib().ember_session_kv_bytes(self.handle, byref(out)))
        return out.value

    def _pos_max(self, handle: int, seq_id: int) -> int:
        out = c_int32(-1)
        _lib.check(_lib.lib().ember_session_kv_pos_max(handle, seq_id, byref(out)))
        return out.value

    def _kv(self, call: Callable[[int, ctypes.CDLL], int]) -> None:
        handle = self._acquire()
        try:
            _lib.check(call(handle, _lib.lib()))
        finally:
            self._busy.release()
