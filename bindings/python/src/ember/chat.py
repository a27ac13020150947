"""Chats: conversations with a model, and chat templates.

:class:`Chat` wraps libember's ``ember_chat_*``: a conversation over a
session, rendered with the model's chat template, generated from with its
end-of-turn tokens as stops, and split into content and tool calls.
Rendering runs in libember's own Jinja interpreter, which reproduces Hugging
Face transformers' output byte for byte.
"""

from __future__ import annotations

import json
from ctypes import byref, c_bool, c_size_t
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Optional, Sequence, Union, overload

from . import _lib
from .errors import InternalError, InvalidArgumentError, UnsupportedError

if TYPE_CHECKING:
    from .model import Model
    from .session import GenerateStats, Session, TextStream, _GenerateArgs

#: One message: ``{"role": "user", "content": "Hello"}``, plus whatever else
#: the template reads (``tool_calls``, ``name``, ``tool_call_id``, ...).
Message = Mapping[str, Any]


def _require(name: str) -> None:
    if not _lib.has(name):
        raise UnsupportedError(
            f"[ember.chat] this libember {_lib.lib().ember_version().decode()} has no {name}: "
            "chat templates need a newer library",
            _lib.ERR_UNSUPPORTED,
        )


def render_chat_template(
    template: str,
    messages: Sequence[Message],
    add_generation_prompt: bool = False,
    tools: Optional[Sequence[Mapping[str, Any]]] = None,
    bos_token: str = "",
    eos_token: str = "",
    **variables: Any,
) -> str:
    """Renders a Jinja chat template as transformers' ``apply_chat_template`` does.

    Args:
        template: the template text (e.g. :attr:`ember.Model.chat_template`).
        messages: the conversation, as OpenAI-style dicts.
        add_generation_prompt: end with the start of an assistant turn.
        tools: OpenAI-style tool definitions, passed to the template as ``tools``
            (left undefined when None).
        bos_token, eos_token: the texts of the model's BOS/EOS tokens.
        **variables: further template variables (``documents``, ``date_string``, ...).

    Raises:
        ember.InvalidArgumentError: the template does not parse, or raises
            (``raise_exception``); the message gives its line.
        ember.UnsupportedError: the loaded libember cannot render templates.
    """
    _require("ember_render_chat_template_json")
    context: dict[str, Any] = {
        "messages": [dict(m) for m in messages],
        "add_generation_prompt": bool(add_generation_prompt),
        "bos_token": bos_token,
        "eos_token": eos_token,
    }
    # No tools: the variable is left undefined, as in the reference renderings
    # (templates test `tools is defined` or iterate it).
    if tools is not None:
        context["tools"] = [dict(t) for t in tools]
    context.update(variables)
    try:
        ctx = json.dumps(context, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"[ember.render_chat_template] the messages are not JSON: {e}") from e
    tmpl = template.encode("utf-8")
    lib = _lib.lib()
    raw = _lib.read_text(lambda b, n, out: lib.ember_render_chat_template_json(tmpl, ctx, b, n, out), guess=4096)
    return raw.decode("utf-8", errors="replace")


def _plain(messages: Sequence[Message]) -> bool:
    return all(set(m) <= {"role", "content"} and isinstance(m.get("content", ""), str) for m in messages)


def apply_chat_template(
    model: "Model",
    messages: Sequence[Message],
    add_generation_prompt: bool = True,
    tools: Optional[Sequence[Mapping[str, Any]]] = None,
) -> str:
    """The prompt for messages in model's chat template (ChatML when the file
    has none), rendered with its BOS/EOS token texts. See
    :meth:`ember.Model.apply_chat_template`."""
    if tools is None and _plain(messages):
        _require("ember_model_apply_chat_template")
        encoded = [(str(m.get("role", "")).encode("utf-8"), str(m.get("content", "")).encode("utf-8")) for m in messages]
        arr = (_lib.ChatMessage * max(len(encoded), 1))(*[_lib.ChatMessage(r, c) for r, c in encoded])
        h = model.handle
        lib = _lib.lib()
        n = len(encoded)
        raw = _lib.read_text(
            lambda b, size, out: lib.ember_model_apply_chat_template(h, arr, n, add_generation_prompt, b, size, out),
            guess=4096,
        )
        return raw.decode("utf-8", errors="replace")
    template = model.chat_template
    if template is None:
        raise InvalidArgumentError(
            "[ember.Model.apply_chat_template] the model has no chat template, and the ChatML default "
            "takes only plain role/content messages without tools: use ember.render_chat_template"
        )
    bos = model.token_to_piece(model.token_bos, special=True).decode("utf-8", "replace") if model.token_bos >= 0 else ""
    eos = model.token_to_piece(model.token_eos, special=True).decode("utf-8", "replace") if model.token_eos >= 0 else ""
    return render_chat_template(template, messages, add_generation_prompt, tools, bos, eos)


# --- Chat ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChatReply:
    """One assistant turn of a :class:`Chat`."""

    content: str
    """The reply's text, without its tool calls."""
    tool_calls: list[dict[str, Any]]
    """The calls the reply makes, in OpenAI form:
    ``{"id": ..., "type": "function", "function": {"name": ..., "arguments": "<JSON text>"}}``."""
    finish_reason: str
    """``"stop"`` (end of turn or a stop string), ``"length"`` (max_tokens or a
    full context), ``"tool_calls"`` or ``"cancelled"``."""
    message: dict[str, Any]
    """The reply as an OpenAI assistant message (``{"role": "assistant",
    "content": ..., "tool_calls": [...]}``), ready to append to the
    conversation for the next turn."""
    stats: "GenerateStats"
    """The turn's figures; ``stats.reused_tokens`` counts the prompt tokens
    the KV cache already held from the previous turn."""


def _to_json(value: Any, what: str, where: str) -> bytes:
    """value as JSON text for the library, which checks its shape (and names
    the place of what is wrong). Only values JSON cannot hold fail here."""

    def default(o: Any) -> Any:  # what json does not take itself
        if isinstance(o, Mapping):
            return dict(o)
        if isinstance(o, Sequence) and not isinstance(o, (bytes, bytearray)):
            return list(o)
        raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=default).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as e:
        raise InvalidArgumentError(f"[{where}] {what} cannot be sent as JSON: {e}") from e


class Chat:
    """A conversation with a model over a :class:`ember.Session` (``ember_chat``).

    Each :meth:`send` renders the messages with the chat template, generates
    the assistant's turn (stopping at the template's end-of-turn tokens) and
    returns it as a :class:`ChatReply`. The session's KV cache keeps the
    prompt, so the next turn (the same messages plus the reply and a new user
    message) only evaluates what is new::

        with model.create_chat() as chat:
            messages = [{"role": "user", "content": "Hi!"}]
            reply = chat.send(messages, max_tokens=64)
            messages += [reply.message, {"role": "user", "content": "And then?"}]
            for piece in chat.send(messages, stream=True):
                print(piece, end="")
            print(chat.last_reply.stats.reused_tokens)

    Args:
        session: the session to run on (sequence 0 of its KV cache); the chat
            must be closed before it, and :meth:`ember.Session.close` closes it.
        template: Jinja chat template source; None: the model's own, or
            ChatML (with a warning in the log) when the file has none.

    Like its session, a chat is for one thread at a time; it shares the
    session's guard, so a call while the session is busy raises RuntimeError.

    Raises:
        ember.InvalidArgumentError: the template does not parse (the message names its line).
        ember.UnsupportedError: the loaded libember has no chat API.
    """

    def __init__(self, session: "Session", template: Optional[str] = None) -> None:
        self._handle: Optional[int] = None
        self._owns_session = False
        self.session = session
        self.last_reply: Optional[ChatReply] = None
        """The reply of the last turn (after a stream, once it is exhausted or left)."""
        _require("ember_chat_create")
        tmpl = None if template is None else template.encode("utf-8")
        out = _lib.chat_p()
        handle = session._acquire()
        try:
            _lib.check(_lib.lib().ember_chat_create(handle, tmpl, byref(out)))
            self._handle = out.value
            session._chats.add(self)
        finally:
            session._busy.release()

    # --- lifetime -----------------------------------------------------------------

    def close(self) -> None:
        """Frees the chat (cancelling a turn still running on it), and the
        session too when the chat made it (:meth:`ember.Model.create_chat`)."""
        s = self.session
        if self._handle is not None:
            if not s._busy.acquire(blocking=False):
                s.cancel()
                s._busy.acquire()  # the running turn stops at its next token
            try:
                self._free_handle()
            finally:
                s._busy.release()
        if self._owns_session:
            s.close()

    def _free_handle(self) -> None:
        """Frees the library's chat; the caller holds the session's guard."""
        handle, self._handle = self._handle, None
        if handle is not None:
            _lib.lib().ember_chat_free(handle)
        self.session._chats.discard(self)

    @property
    def closed(self) -> bool:
        """True after :meth:`close` (or after its session was closed)."""
        return self._handle is None

    def __enter__(self) -> "Chat":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            s = self.session
            if s._busy.acquire(blocking=False):
                try:
                    self._free_handle()
                finally:
                    s._busy.release()
            else:
                # Never wait here: the collector may run on the thread that
                # holds the guard. A running turn keeps its chat alive, so this
                # chat is idle, and freeing it touches only its own memory.
                self._free_handle()
            if self._owns_session:
                s.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn down ctypes
            pass

    def __repr__(self) -> str:
        return "<ember.Chat closed>" if self.closed else f"<ember.Chat on {self.session!r}>"

    @property
    def handle(self) -> int:
        """The ``ember_chat*`` address; raises if closed."""
        if self._handle is None:
            raise ValueError("ember.Chat: the chat is closed")
        return self._handle

    @property
    def uses_fallback_template(self) -> bool:
        """True when the model has no chat template and ChatML is used instead."""
        out = c_bool(False)
        _lib.check(_lib.lib().ember_chat_uses_fallback_template(self.handle, byref(out)))
        return bool(out.value)

    # --- turns --------------------------------------------------------------------

    def render(
        self,
        messages: Sequence[Message],
        tools: Optional[Sequence[Mapping[str, Any]]] = None,
        add_generation_prompt: bool = True,
    ) -> str:
        """The prompt text the chat's template gives for messages (and tools),
        without generating: what :meth:`send` generates from.

        Raises:
            ember.InvalidArgumentError: bad messages or tools (the library's
                message names the place), or a template that raises.
        """
        mj = _to_json(messages, "messages", "ember.Chat.render")
        tj = None if tools is None else _to_json(tools, "tools", "ember.Chat.render")
        h = self.handle
        lib = _lib.lib()
        raw = _lib.read_text(
            lambda b, n, out: lib.ember_chat_render_json(h, mj, tj, bool(add_generation_prompt), b, n, out),
            guess=4096,
        )
        return raw.decode("utf-8", errors="replace")

    @overload
    def send(
        self,
        messages: Sequence[Message],
        tools: Optional[Sequence[Mapping[str, Any]]] = ...,
        stream: Literal[False] = ...,
        **generate_kwargs: Any,
    ) -> ChatReply: ...

    @overload
    def send(
        self,
        messages: Sequence[Message],
        tools: Optional[Sequence[Mapping[str, Any]]] = ...,
        *,
        stream: Literal[True],
        **generate_kwargs: Any,
    ) -> TextStream: ...

    def send(
        self,
        messages: Sequence[Message],
        tools: Optional[Sequence[Mapping[str, Any]]] = None,
        stream: bool = False,
        **generate_kwargs: Any,
    ) -> Union[ChatReply, TextStream]:
        """The assistant's next turn after messages (``ember_chat_generate_json``).

        Args:
            messages: the whole conversation so far, as OpenAI-style dicts:
                ``{"role": "system"|"user"|"assistant"|"tool", "content": ...}``,
                assistant turns with ``"tool_calls"`` (a :attr:`ChatReply.message`
                as it is), tool results with ``"tool_call_id"``. Resend it whole
                each turn: the KV cache keeps the prefix it shares with the last one.
            tools: OpenAI ``"tools"`` (``[{"type": "function", "function":
                {"name", "description", "parameters"}}]``): given to the
                template, and the reply is parsed for calls (Hermes/Qwen
                ``<tool_call>``, Llama 3.1 JSON, Mistral ``[TOOL_CALLS]``).
            stream: return an iterator of the reply's content pieces; the
                :class:`ChatReply` is in :attr:`last_reply` once the iteration
                ends (leaving it early cancels the turn: finish_reason
                ``"cancelled"``). With tools, text that may be a tool call is held
                back until it is known not to be one.
            **generate_kwargs: max_tokens, temperature, top_k, top_p, min_p,
                seed, stop, logit_bias, on_prompt_progress, ... as for
                :meth:`ember.Session.generate` (add_special and parse_special
                are decided by the chat and ignored).

        Returns:
            The :class:`ChatReply`, or with ``stream=True`` an iterator of pieces.

        Raises:
            ember.InvalidArgumentError: messages or tools of the wrong shape
                (the library's message names the place, e.g. ``messages[0].role``),
                values JSON cannot hold, a bad generation parameter, or a
                prompt that does not fit the context. With ``stream=True``, the
                library's errors come from the first step of the iteration.
        """
        if stream:
            return self._stream_turn(messages, tools, generate_kwargs)
        return self._reply_turn(messages, tools, generate_kwargs)

    def _reply_turn(
        self, messages: Sequence[Message], tools: Optional[Sequence[Mapping[str, Any]]], kwargs: dict[str, Any]
    ) -> ChatReply:
        call, args = self._prepare(messages, tools, kwargs)
        self.session._generate(call, args, after=self._read_reply)
        if self.last_reply is None:
            raise InternalError("[ember.Chat.send] the turn finished without a reply")
        return self.last_reply

    def _stream_turn(
        self,
        messages: Sequence[Message],
        tools: Optional[Sequence[Mapping[str, Any]]],
        kwargs: dict[str, Any],
        on_done: Optional[Callable[[], None]] = None,
    ) -> TextStream:
        """The pieces of a turn; on_done runs when the iteration ends."""
        call, args = self._prepare(messages, tools, kwargs)
        return self.session._stream(call, args, after=self._read_reply, on_done=on_done)

    def _prepare(
        self, messages: Sequence[Message], tools: Optional[Sequence[Mapping[str, Any]]], kwargs: dict[str, Any]
    ) -> tuple[Callable[[int, Any, Any], int], "_GenerateArgs"]:
        """The C call of a turn and its generation parameters; raises now for
        what can be checked before the library runs."""
        from .session import _GenerateArgs

        mj = _to_json(messages, "messages", "ember.Chat.send")
        tj = None if tools is None else _to_json(tools, "tools", "ember.Chat.send")
        args = _GenerateArgs.build(**{k: v for k, v in kwargs.items() if k not in ("add_special", "parse_special")})
        if self._handle is None:  # now, rather than on the first step of a stream
            raise ValueError("ember.Chat: the chat is closed")
        lib = _lib.lib()

        def call(_session: int, params: Any, stats: Any) -> int:
            h = self.handle  # the session's guard is held: a close waits for this turn
            self.last_reply = None
            return int(lib.ember_chat_generate_json(h, mj, tj, params, stats))

        return call, args

    def _read_reply(self) -> None:
        """Reads the last turn's reply into :attr:`last_reply` (session guard held)."""
        h = self.handle
        lib = _lib.lib()

        def text(fn: Callable[..., int], *head: Any) -> str:
            raw = _lib.read_text(lambda b, n, out: fn(h, *head, b, n, out), guess=1024)
            return raw.decode("utf-8", errors="replace")

        n_calls = c_size_t(0)
        _lib.check(lib.ember_chat_reply_n_tool_calls(h, byref(n_calls)))
        calls: list[dict[str, Any]] = []
        for i in range(n_calls.value):
            calls.append(
                {
                    "id": text(lib.ember_chat_reply_tool_call, i, _lib.TOOL_CALL_ID),
                    "type": "function",
                    "function": {
                        "name": text(lib.ember_chat_reply_tool_call, i, _lib.TOOL_CALL_NAME),
                        "arguments": text(lib.ember_chat_reply_tool_call, i, _lib.TOOL_CALL_ARGUMENTS),
                    },
                }
            )
        finish = lib.ember_chat_reply_finish_reason(h)
        stats = self.session.last_stats
        if stats is None:
            raise InternalError("[ember.Chat] a turn ended without statistics")
        self.last_reply = ChatReply(
            content=text(lib.ember_chat_reply_content),
            tool_calls=calls,
            finish_reason=finish.decode("utf-8") if finish else "",
            message=json.loads(text(lib.ember_chat_reply_json)),
            stats=stats,
        )
