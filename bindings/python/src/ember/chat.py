"""Chat templates: rendering a conversation into a model's prompt.

Rendering runs in libember's own Jinja interpreter (``ember_render_chat_template_json``),
which reproduces Hugging Face transformers' output byte for byte.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

from . import _lib
from .errors import InvalidArgumentError, UnsupportedError

if TYPE_CHECKING:
    from .model import Model

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
