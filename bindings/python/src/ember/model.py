"""ember.Model: a loaded GGUF model, its metadata and tokenizer.

A Model is immutable once loaded and may be shared by any number of threads;
each thread that generates text uses its own :class:`ember.Session` (or calls
:meth:`Model.generate`, which makes a short-lived one per call).
"""

from __future__ import annotations

import ctypes
import os
from ctypes import byref, c_bool, c_int32, c_size_t, c_uint64
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Optional, Sequence, Union, overload

from . import _lib
from .errors import NotFoundError

if TYPE_CHECKING:
    import numpy as np

    from .chat import Chat, Message
    from .session import KvType, Session, TextStream

#: A load progress callback: called with 0..1; returning False cancels the load.
ProgressFn = Callable[[float], Optional[bool]]

PathLike = Union[str, "os.PathLike[str]"]


def _token_array(ids: Sequence[int]) -> "ctypes.Array[ctypes.c_int32]":
    return (c_int32 * len(ids))(*ids)


class Model:
    """A GGUF model loaded by libember.

    Use it as a context manager (or call :meth:`close`) to free it promptly::

        with ember.Model("model.gguf") as model:
            print(model.generate("Once upon a time", max_tokens=32, temperature=0))

    Args:
        path: the GGUF file.
        n_threads: default threads of its sessions; 0: the hardware threads, at most 8.
        use_mmap: map the file (default) instead of reading it into memory.
        vocab_only: load metadata and tokenizer only; no session can run.
        progress: called with the load progress in 0..1; returning ``False`` cancels
            the load (:class:`ember.CancelledError`).

    Raises:
        FileNotFoundError: (:class:`ember.ModelFileNotFoundError`) the path does not exist.
        ember.IoError: the operating system refused to open or map the file.
        ember.InvalidFileError: the file is not a valid GGUF model.
        ember.UnsupportedError: a valid file ember cannot run (architecture, tensor type).
    """

    def __init__(
        self,
        path: PathLike,
        n_threads: int = 0,
        use_mmap: bool = True,
        vocab_only: bool = False,
        progress: Optional[ProgressFn] = None,
    ) -> None:
        self._handle: Optional[int] = None
        self._metadata: Optional[dict[str, str]] = None
        self.path: str = os.fspath(path)
        lib = _lib.lib()
        params = _lib.ModelParams()
        _lib.check(lib.ember_model_default_params(byref(params), ctypes.sizeof(params)))
        params.n_threads = n_threads
        params.use_mmap = use_mmap
        params.vocab_only = vocab_only

        # An exception raised inside the callback cannot cross C: it is kept,
        # the load cancelled, and the exception raised here instead.
        raised: list[BaseException] = []

        def on_progress(value: float, _user_data: object) -> int:
            try:
                return 1 if progress is not None and progress(float(value)) is False else 0
            except BaseException as e:  # noqa: BLE001 - re-raised after the call
                raised.append(e)
                return 1

        callback = _lib.ProgressCallback(on_progress) if progress is not None else None
        if callback is not None:
            params.progress = callback
        handle = _lib.model_p()
        status = lib.ember_model_load(self.path.encode(), byref(params), byref(handle))
        if raised:
            raise raised[0]
        _lib.check(status, path=self.path)
        self._handle = handle.value
        self.vocab_only: bool = vocab_only

        self._n_vocab = self._int(lib.ember_model_n_vocab)
        self._n_ctx_train = self._int(lib.ember_model_n_ctx_train)
        self._n_embd = self._int(lib.ember_model_n_embd)
        self._n_layer = self._int(lib.ember_model_n_layer)
        n_params = c_uint64(0)
        _lib.check(lib.ember_model_n_params(self._handle, byref(n_params)))
        self._n_params = n_params.value
        self._bos = self._token(lib.ember_token_bos)
        self._eos = self._token(lib.ember_token_eos)

    # --- lifetime -----------------------------------------------------------------

    def close(self) -> None:
        """Frees the model. Sessions made from it keep working (they hold the
        library's model alive); the Model itself can no longer be used."""
        handle, self._handle = self._handle, None
        if handle is not None:
            _lib.lib().ember_model_free(handle)

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._handle is None

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn down ctypes
            pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.description
        return f"<ember.Model {self.path!r}: {state}>"

    @property
    def handle(self) -> int:
        """The ``ember_model*`` address (for other C code); raises if closed."""
        if self._handle is None:
            raise ValueError("ember.Model: the model is closed")
        return self._handle

    # --- properties -----------------------------------------------------------------

    @property
    def n_vocab(self) -> int:
        """Tokens in the vocabulary."""
        return self._n_vocab

    @property
    def n_ctx_train(self) -> int:
        """The context length the model was trained with (its GGUF metadata)."""
        return self._n_ctx_train

    @property
    def n_embd(self) -> int:
        """Width of the hidden state (and of an embedding)."""
        return self._n_embd

    @property
    def n_layer(self) -> int:
        """Transformer blocks."""
        return self._n_layer

    @property
    def n_params(self) -> int:
        """Parameters (weights) in the model."""
        return self._n_params

    @property
    def token_bos(self) -> int:
        """Beginning-of-sequence token id, -1 if the vocabulary has none."""
        return self._bos

    @property
    def token_eos(self) -> int:
        """End-of-sequence token id, -1 if the vocabulary has none."""
        return self._eos

    @property
    def description(self) -> str:
        """One line: name, architecture, size, weight type, shape."""
        h = self.handle
        lib = _lib.lib()
        return _lib.read_text(lambda b, n, out: lib.ember_model_description(h, b, n, out)).decode(
            "utf-8", errors="replace"
        )

    @property
    def chat_template(self) -> Optional[str]:
        """The model's ``tokenizer.chat_template`` (Jinja text), None if it has none."""
        h = self.handle
        lib = _lib.lib()
        try:
            raw = _lib.read_text(lambda b, n, out: lib.ember_model_chat_template(h, b, n, out), guess=4096)
        except NotFoundError:
            return None
        return raw.decode("utf-8", errors="replace")

    def meta_get(self, key: str) -> Optional[str]:
        """One GGUF metadata value as text, None if the file has no such key.

        Strings come as they are, numbers in shortest round-trip form, bools as
        ``true``/``false``, arrays as ``[a, b, ...]`` with every element.
        """
        h = self.handle
        lib = _lib.lib()
        k = key.encode()
        try:
            raw = _lib.read_text(lambda b, n, out: lib.ember_model_meta_get(h, k, b, n, out))
        except NotFoundError:
            return None
        return raw.decode("utf-8", errors="replace")

    @property
    def metadata(self) -> dict[str, str]:
        """Every GGUF metadata key (file order) with its value as text (see
        :meth:`meta_get`). Tokenizer arrays are included in full, so this can
        be large for big vocabularies; it is read once and cached."""
        if self._metadata is None:
            h = self.handle
            lib = _lib.lib()
            count = c_size_t(0)
            _lib.check(lib.ember_model_meta_count(h, byref(count)))
            meta: dict[str, str] = {}
            for i in range(count.value):
                key = _lib.read_text(lambda b, n, out: lib.ember_model_meta_key(h, i, b, n, out)).decode(
                    "utf-8", errors="replace"
                )
                value = self.meta_get(key)
                meta[key] = value if value is not None else ""
            self._metadata = meta
        return dict(self._metadata)

    # --- tokenizer ------------------------------------------------------------------

    def tokenize(self, text: Union[str, bytes], add_special: bool = True, parse_special: bool = False) -> list[int]:
        """Token ids of text.

        Args:
            text: UTF-8 text (``str``, or ``bytes`` passed as they are).
            add_special: add BOS/EOS as the vocabulary asks.
            parse_special: read control tokens written in the text (``"<|im_start|>"``) as their ids.
        """
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        h = self.handle
        lib = _lib.lib()
        # A token covers at least one byte (byte fallback), plus BOS/EOS and a
        # space prefix: this first guess is nearly always enough.
        cap = len(data) + 8
        out_n = c_size_t(0)
        for _ in range(2):
            buf = (c_int32 * cap)()
            status = lib.ember_tokenize(h, data, len(data), add_special, parse_special, buf, cap, byref(out_n))
            if status == _lib.OK:
                return list(buf[: out_n.value])
            if status != _lib.ERR_BUFFER_TOO_SMALL:
                raise _lib.make_error(status)
            cap = out_n.value
        raise _lib.make_error(_lib.ERR_BUFFER_TOO_SMALL)

    def detokenize(self, tokens: Sequence[int], special: bool = False) -> str:
        """Text of tokens (the tokenizer's leading space removed).

        Args:
            special: also render control and unknown tokens (``"<s>"``); by default they produce nothing.
        """
        return self.detokenize_bytes(tokens, special).decode("utf-8", errors="replace")

    def detokenize_bytes(self, tokens: Sequence[int], special: bool = False) -> bytes:
        """Like :meth:`detokenize`, but the raw bytes (which need not be valid UTF-8)."""
        h = self.handle
        lib = _lib.lib()
        ids = _token_array(tokens)
        n = len(tokens)
        return _lib.read_text(
            lambda b, size, out: lib.ember_detokenize(h, ids, n, not special, b, size, out), guess=8 * n + 16
        )

    def token_to_piece(self, token: int, special: bool = False) -> bytes:
        """Raw bytes of one token (possibly part of a UTF-8 character).

        Args:
            special: render control and unknown tokens (``b"<s>"``); by default they give ``b""``.
        """
        h = self.handle
        lib = _lib.lib()
        return _lib.read_text(lambda b, n, out: lib.ember_token_to_piece(h, token, special, b, n, out), guess=64)

    def token_is_eog(self, token: int) -> bool:
        """True for end-of-generation tokens (EOS, EOT, ``<|im_end|>``, ...)."""
        out = c_bool(False)
        _lib.check(_lib.lib().ember_token_is_eog(self.handle, token, byref(out)))
        return bool(out.value)

    # --- sessions, generation -------------------------------------------------------

    def create_session(
        self,
        n_ctx: int = 0,
        kv_type: "KvType" = "f16",
        n_batch: int = 512,
        n_threads: int = 0,
        n_seq_max: int = 1,
    ) -> "Session":
        """A new :class:`ember.Session` on this model (see its documentation)."""
        from .session import Session

        return Session(self, n_ctx=n_ctx, kv_type=kv_type, n_batch=n_batch, n_threads=n_threads, n_seq_max=n_seq_max)

    @overload
    def generate(
        self,
        prompt: Union[str, bytes, Sequence[int]],
        max_tokens: Optional[int] = ...,
        temperature: float = ...,
        top_k: int = ...,
        top_p: float = ...,
        min_p: float = ...,
        repeat_penalty: float = ...,
        seed: Optional[int] = ...,
        stop: Union[str, Sequence[str], None] = ...,
        stream: Literal[False] = ...,
        n_ctx: Optional[int] = ...,
        kv_type: "KvType" = ...,
        n_threads: int = ...,
        **kwargs: Any,
    ) -> str: ...

    @overload
    def generate(
        self,
        prompt: Union[str, bytes, Sequence[int]],
        max_tokens: Optional[int] = ...,
        temperature: float = ...,
        top_k: int = ...,
        top_p: float = ...,
        min_p: float = ...,
        repeat_penalty: float = ...,
        seed: Optional[int] = ...,
        stop: Union[str, Sequence[str], None] = ...,
        *,
        stream: Literal[True],
        n_ctx: Optional[int] = ...,
        kv_type: "KvType" = ...,
        n_threads: int = ...,
        **kwargs: Any,
    ) -> TextStream: ...

    def generate(
        self,
        prompt: Union[str, bytes, Sequence[int]],
        max_tokens: Optional[int] = 256,
        temperature: float = 0.8,
        top_k: int = 40,
        top_p: float = 0.95,
        min_p: float = 0.05,
        repeat_penalty: float = 1.0,
        seed: Optional[int] = None,
        stop: Union[str, Sequence[str], None] = None,
        stream: bool = False,
        n_ctx: Optional[int] = None,
        kv_type: "KvType" = "f16",
        n_threads: int = 0,
        **kwargs: Any,
    ) -> Union[str, TextStream]:
        """Generates text after prompt in a fresh session that is freed afterwards.

        Safe to call from several threads at once on one Model. For several
        calls that share a prefix (a chat), a :class:`ember.Session` reuses
        its KV cache instead.

        Args:
            prompt: text, or token ids.
            max_tokens: tokens to generate at most; None: until end of generation or a full context.
            temperature: <= 0 is greedy.
            top_k, top_p, min_p, repeat_penalty: the sampling chain (see :meth:`ember.Session.generate`).
            seed: a fixed seed gives the same text every time; None: random.
            stop: a string or strings that end the generation (not returned).
            stream: return an iterator of text pieces instead of the text.
            n_ctx: context size of the session; None: the library's default
                (min(n_ctx_train, 4096)), or more if the prompt needs it.
            kv_type: ``"f16"``, ``"q8_0"`` or ``"q4_0"``.
            n_threads: 0: the model's default.
            **kwargs: the other parameters of :meth:`ember.Session.generate`
                (typical_p, repeat_last_n, frequency_penalty, presence_penalty,
                logit_bias, add_special, parse_special, ignore_eos, on_prompt_progress).

        Returns:
            The generated text, or with ``stream=True`` an iterator of its
            pieces; leaving the iteration early (``break``) cancels the
            generation.
        """
        from .session import Session, _GenerateArgs, _prompt_call

        args = _GenerateArgs.build(
            max_tokens=max_tokens,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            min_p=min_p,
            repeat_penalty=repeat_penalty,
            seed=seed,
            stop=stop,
            **kwargs,
        )
        ctx = 0 if n_ctx is None else n_ctx
        if n_ctx is None and not isinstance(prompt, (str, bytes)) and len(prompt) >= 4096:
            ctx = len(prompt) + (max_tokens if max_tokens and max_tokens > 0 else 0) + 1
        call = _prompt_call(prompt)
        session = Session(self, n_ctx=ctx, kv_type=kv_type, n_threads=n_threads)
        if stream:
            return session._stream(call, args, on_done=session.close)
        try:
            return session._generate(call, args)
        finally:
            session.close()

    # --- chat -----------------------------------------------------------------------

    def apply_chat_template(
        self,
        messages: Sequence["Message"],
        add_generation_prompt: bool = True,
        tools: Optional[Sequence[Mapping[str, Any]]] = None,
    ) -> str:
        """The prompt for a conversation in the model's chat template (ChatML
        when the file has none), rendered with its BOS/EOS token texts.

        Generate from it with ``parse_special=True`` (so ``<|im_start|>`` is
        one token) and ``add_special=False`` when it already starts with the
        BOS text; :meth:`chat` does both.

        Args:
            messages: OpenAI-style dicts (``{"role": "user", "content": "Hi"}``).
            add_generation_prompt: end with the start of an assistant turn.
            tools: OpenAI-style tool definitions for templates that take them.
        """
        from .chat import apply_chat_template

        return apply_chat_template(self, messages, add_generation_prompt, tools)

    def create_chat(
        self, session: Optional["Session"] = None, template: Optional[str] = None, **session_args: Any
    ) -> "Chat":
        """A new :class:`ember.Chat`: a conversation with this model.

        Args:
            session: the :class:`ember.Session` to run on; None: a new one
                (made with ``session_args``: n_ctx, kv_type, n_batch, n_threads)
                that the chat owns and closes with itself.
            template: Jinja chat template source; None: the model's own
                (ChatML when the file has none, see ``Chat.uses_fallback_template``).

        Raises:
            ember.InvalidArgumentError: the template does not parse (the message names its line).
        """
        from .chat import Chat
        from .session import Session

        if session is not None:
            if session_args:
                raise TypeError(f"ember.Model.create_chat: {', '.join(session_args)} given with a session")
            return Chat(session, template)
        own = Session(self, **session_args)
        try:
            chat = Chat(own, template)
        except BaseException:
            own.close()
            raise
        chat._owns_session = True
        return chat

    @overload
    def chat(
        self,
        messages: Sequence["Message"],
        tools: Optional[Sequence[Mapping[str, Any]]] = ...,
        stream: Literal[False] = ...,
        n_ctx: Optional[int] = ...,
        kv_type: "KvType" = ...,
        n_threads: int = ...,
        **kwargs: Any,
    ) -> str: ...

    @overload
    def chat(
        self,
        messages: Sequence["Message"],
        tools: Optional[Sequence[Mapping[str, Any]]] = ...,
        *,
        stream: Literal[True],
        n_ctx: Optional[int] = ...,
        kv_type: "KvType" = ...,
        n_threads: int = ...,
        **kwargs: Any,
    ) -> TextStream: ...

    def chat(
        self,
        messages: Sequence["Message"],
        tools: Optional[Sequence[Mapping[str, Any]]] = None,
        stream: bool = False,
        n_ctx: Optional[int] = None,
        kv_type: "KvType" = "f16",
        n_threads: int = 0,
        **kwargs: Any,
    ) -> Union[str, TextStream]:
        """The assistant's reply to a conversation, in a fresh session and
        :class:`ember.Chat` freed afterwards (for several turns, keep a Chat:
        :meth:`create_chat`, which also reuses the KV cache between turns).

        Args:
            messages: OpenAI-style dicts (``{"role": "user", "content": "Hi"}``).
            tools: OpenAI-style tool definitions, for templates that take them.
            stream: return an iterator of the reply's pieces instead of its text.
            n_ctx, kv_type, n_threads: the session's (see :meth:`generate`).
            **kwargs: generation arguments (max_tokens, temperature, stop, seed, ...,
                as for :meth:`ember.Session.generate`; add_special and
                parse_special are decided by the chat and ignored).

        Returns:
            The reply's content (tool calls, if the model makes any, are not in
            it: :meth:`ember.Chat.send` returns them), or its pieces.
        """
        chat = self.create_chat(n_ctx=0 if n_ctx is None else n_ctx, kv_type=kv_type, n_threads=n_threads)
        if stream:
            try:
                return chat._stream_turn(messages, tools, kwargs, on_done=chat.close)
            except BaseException:
                chat.close()
                raise
        try:
            return chat._reply_turn(messages, tools, kwargs).content
        finally:
            chat.close()

    def logits(self, tokens: Sequence[int], n_threads: int = 0) -> "np.ndarray":
        """Logits of every token of ``tokens`` evaluated from position 0 in a
        fresh session: a float32 array of shape ``[len(tokens), n_vocab]``."""
        from .session import Session

        with Session(self, n_ctx=max(len(tokens), 1) if len(tokens) > 4096 else 0, n_threads=n_threads) as s:
            return s.logits(tokens)

    def embed(self, texts: Union[str, Sequence[str]], normalize: bool = True, n_threads: int = 0) -> "np.ndarray":
        """Embeddings of one text, a float32 array of shape ``[n_embd]``, or of
        a list of texts, shape ``[len(texts), n_embd]``.

        Each text is tokenized with BOS (as :meth:`tokenize` does); its
        embedding is the model's last hidden state (after the final norm)
        averaged over its tokens, as llama.cpp's mean pooling computes it. The
        texts run one after another in a fresh session whose context fits the
        longest (:meth:`ember.Session.embed` reuses a session of your own).

        Args:
            normalize: scale each vector to unit length (cosine similarity is
                then a dot product); False gives the raw mean.
            n_threads: 0: the model's default.

        Raises:
            ember.InvalidArgumentError: a token list the session refuses (see :meth:`ember.Session.embed`).
        """
        import numpy as np

        from .session import Session

        single = isinstance(texts, str)
        items: list[str] = [texts] if isinstance(texts, str) else list(texts)
        token_lists = [self.tokenize(t) for t in items]
        longest = max((len(t) for t in token_lists), default=0)
        out = np.zeros((len(items), self.n_embd), dtype=np.float32)
        if not items:
            return out
        fits_default = longest <= min(self.n_ctx_train, 4096)
        with Session(self, n_ctx=0 if fits_default else longest, n_threads=n_threads) as s:
            for i, toks in enumerate(token_lists):
                out[i] = s.embed(toks, normalize=normalize)
        return out[0] if single else out

    # --- internals ----------------------------------------------------------------

    def _int(self, fn: Callable[..., int]) -> int:
        out = c_int32(0)
        _lib.check(fn(self._handle, byref(out)))
        return out.value

    def _token(self, fn: Callable[..., int]) -> int:
        out = c_int32(-1)
        _lib.check(fn(self._handle, byref(out)))
        return out.value
