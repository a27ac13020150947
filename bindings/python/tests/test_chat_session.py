"""ember.Chat over the C chat API (ember_chat_*): replies from OpenAI-style
messages, multi-turn KV reuse, streaming, tools in the prompt, errors."""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import pytest

import ember
from ember import _lib

pytestmark = pytest.mark.skipif(not _lib.has("ember_chat_create"), reason="this libember has no chat API")

HI = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}]
GREEDY: dict[str, Any] = {"max_tokens": 6, "temperature": 0}

# A small Hermes-style template (Qwen's layout): the tools go into the system
# turn, assistant tool calls come back as <tool_call> JSON, tool results as
# <tool_response>.
HERMES = (
    "{%- if tools %}<|im_start|>system\n"
    "You may call these tools:\n<tools>\n{% for t in tools %}{{ t | tojson }}\n{% endfor %}</tools>\n"
    'Call one as <tool_call>{"name": <name>, "arguments": <args>}</tool_call><|im_end|>\n'
    "{% endif %}"
    "{%- for m in messages %}"
    "{% if m.role == 'tool' %}<|im_start|>user\n<tool_response>\n{{ m.content }}\n</tool_response><|im_end|>\n"
    "{% else %}<|im_start|>{{ m.role }}\n{% if m.content %}{{ m.content }}{% endif %}"
    "{% for c in m.tool_calls or [] %}<tool_call>\n"
    '{"name": "{{ c.function.name }}", "arguments": {{ c.function.arguments | tojson }}}\n</tool_call>'
    "{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}"
    "{%- if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
WEATHER = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def check_reply(reply: ember.ChatReply) -> None:
    """The reply's fields agree with each other and have the OpenAI shapes."""
    assert isinstance(reply.content, str)
    assert reply.finish_reason in ("stop", "length", "tool_calls", "cancelled")
    assert reply.message["role"] == "assistant"
    assert (reply.message.get("content") or "") == reply.content
    assert reply.message.get("tool_calls", []) == reply.tool_calls
    for call in reply.tool_calls:
        assert set(call) == {"id", "type", "function"} and call["type"] == "function"
        assert set(call["function"]) == {"name", "arguments"}
        json.loads(call["function"]["arguments"])
    assert (reply.finish_reason == "tool_calls") == bool(reply.tool_calls)
    assert reply.stats.generated_tokens > 0 or reply.finish_reason == "cancelled"


def test_a_reply_from_messages(model: ember.Model) -> None:
    with model.create_chat(n_ctx=256) as chat:
        assert chat.uses_fallback_template  # the tiny model has no template: ChatML
        assert chat.last_reply is None
        reply = chat.send(HI, **GREEDY)
        check_reply(reply)
        assert reply.content and reply.tool_calls == [] and reply.finish_reason in ("stop", "length")
        assert chat.last_reply == reply and chat.session.last_stats == reply.stats
        assert reply.stats.prompt_tokens > 0 and reply.stats.reused_tokens == 0
        # the prompt is the model's template (ChatML) rendering, generated from as a plain prompt
        prompt = chat.render(HI)
        assert prompt == model.apply_chat_template(HI)
        assert model.generate(prompt, parse_special=True, **GREEDY).startswith(reply.content)
    # the one-off forms agree
    assert model.chat(HI, **GREEDY) == reply.content
    assert "".join(model.chat(HI, stream=True, **GREEDY)) == reply.content
    assert chat.closed and chat.session.closed  # the chat made its session, and closed it


def test_the_second_turn_reuses_the_first_from_the_kv_cache(model: ember.Model) -> None:
    with model.create_session(n_ctx=256) as session, ember.Chat(session) as chat:
        first = chat.send(HI, **GREEDY)
        messages = HI + [first.message, {"role": "user", "content": "Tell me more."}]
        second = chat.send(messages, **GREEDY)
        check_reply(second)
        assert second.stats.reused_tokens > 0
        assert second.stats.prompt_tokens > second.stats.reused_tokens
        assert second.stats.reused_tokens >= first.stats.prompt_tokens - 1
        # reusing the cache does not change the (greedy) reply
        with model.create_chat(n_ctx=256) as fresh:
            alone = fresh.send(messages, **GREEDY)
        assert alone.content == second.content and alone.stats.reused_tokens == 0
    assert chat.closed and session.closed


def test_streamed_pieces_join_to_the_reply_and_breaking_cancels(model: ember.Model) -> None:
    with model.create_chat(n_ctx=256) as chat:
        whole = chat.send(HI, **GREEDY)
        pieces = list(chat.send(HI, stream=True, **GREEDY))
        assert len(pieces) > 1 and "".join(pieces) == whole.content
        assert chat.last_reply is not None and chat.last_reply.content == whole.content
        assert chat.last_reply.stats.reused_tokens > 0
        stream = chat.send(HI, stream=True, max_tokens=50, temperature=0)
        for _ in stream:
            break
        stream.close()  # what leaving a for loop does once the generator is collected
        assert chat.last_reply is not None and chat.last_reply.finish_reason == "cancelled"
        check_reply(chat.last_reply)
        assert chat.send(HI, **GREEDY).content == whole.content  # usable right after


def test_a_chat_shares_its_sessions_guard(model: ember.Model) -> None:
    with model.create_session(n_ctx=256) as session:
        chat = ember.Chat(session)
        stream = chat.send(HI, stream=True, max_tokens=20, temperature=0)
        next(stream)
        with pytest.raises(RuntimeError):
            session.generate("x", max_tokens=1)
        with pytest.raises(RuntimeError):
            chat.send(HI, max_tokens=1)
        stream.close()
        assert session.chat(HI, **GREEDY) == chat.send(HI, **GREEDY).content
        chat.close()
        assert chat.closed and not session.closed
        with pytest.raises(ValueError):
            chat.send(HI)
        other = ember.Chat(session)
    # closing the session closes the chats on it
    assert other.closed
    with pytest.raises(ValueError):
        other.send(HI)
    other.close()  # and closing again is harmless


def test_close_from_another_thread_stops_a_turn(model: ember.Model) -> None:
    chat = model.create_chat(n_ctx=512)
    started = threading.Event()
    pieces: list[str] = []

    def consume() -> None:
        for piece in chat.send(HI, stream=True, max_tokens=400, temperature=0, ignore_eos=True):
            pieces.append(piece)
            started.set()

    t = threading.Thread(target=consume)
    t.start()
    assert started.wait(30)
    chat.close()  # cancels the running turn, then frees the chat and its session
    t.join(30)
    assert not t.is_alive() and chat.closed and chat.session.closed
    assert len(pieces) < 400


def test_tools_render_into_a_hermes_template(model: ember.Model) -> None:
    with model.create_chat(template=HERMES, n_ctx=512) as chat:
        assert not chat.uses_fallback_template
        plain = chat.render(HI[1:])
        assert "<tools>" not in plain and plain.endswith("<|im_start|>assistant\n")
        with_tools = chat.render(HI[1:], tools=WEATHER)
        assert "<tools>" in with_tools and '"name": "get_weather"' in with_tools
        assert '"required": ["city"]' in with_tools and with_tools.endswith(plain)
        # an OpenAI conversation with a tool call and its result: the library hands the
        # template the call's arguments as an object (templates write them with tojson)
        call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
        messages = HI[1:] + [
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "12 C, rain"},
        ]
        prompt = chat.render(messages, tools=WEATHER)
        assert '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>' in prompt
        assert "<tool_response>\n12 C, rain\n</tool_response>" in prompt
        # a turn with tools: the prompt holds them, and the reply has the OpenAI shape
        reply = chat.send(messages, tools=WEATHER, **GREEDY)
        check_reply(reply)
        assert reply.stats.prompt_tokens == len(model.tokenize(prompt, parse_special=True))
        assert not chat.send(HI[1:], **GREEDY).tool_calls


def test_bad_messages_raise_the_librarys_message(model: ember.Model) -> None:
    with model.create_chat(n_ctx=256) as chat:
        good = chat.send(HI, **GREEDY).content
        cases: list[tuple[Any, str]] = [
            ([{"role": 3, "content": "x"}], "messages[0].role"),
            ([{"role": "user", "content": 42}], "messages[0].content"),
            ([{"role": "user"}, {"content": "no role"}], "messages[1]"),
            ("hello", "messages"),
            ([], "no messages"),
        ]
        for messages, where in cases:
            with pytest.raises(ember.InvalidArgumentError) as info:
                chat.send(messages, **GREEDY)
            msg = str(info.value)
            assert msg.startswith("[") and where in msg, msg
            assert info.value.status == -1
            if messages:  # rendering no messages is fine; a turn needs one
                with pytest.raises(ember.InvalidArgumentError) as info:
                    chat.render(messages)
                assert where in str(info.value)
        # values JSON cannot hold are refused before the library
        for content in ({"a": object()}, math.nan, b"bytes"):
            with pytest.raises(ember.InvalidArgumentError) as info:
                chat.send([{"role": "user", "content": content}], **GREEDY)
            assert "cannot be sent as JSON" in str(info.value)
        with pytest.raises(ember.InvalidArgumentError) as info:
            chat.send(HI, tools=[{"type": "function", "function": {"name": "f", "parameters": {1, 2}}}])
        assert "[ember.Chat.send] tools" in str(info.value)
        # bad generation parameters: the sampler's message
        with pytest.raises(ember.InvalidArgumentError) as info:
            chat.send(HI, temperature=math.nan)
        assert "temperature" in str(info.value)
        with pytest.raises(ember.InvalidArgumentError) as info:
            chat.send(HI, top_p=2.0)
        assert "top_p" in str(info.value)
        # a streamed turn raises from its first step
        with pytest.raises(ember.InvalidArgumentError) as info:
            next(chat.send([{"role": 3}], stream=True))
        assert "messages[0].role" in str(info.value)
        # the chat is still usable, and replies as before
        assert chat.send(HI, **GREEDY).content == good


def test_a_bad_template_raises_naming_its_line(model: ember.Model) -> None:
    with pytest.raises(ember.InvalidArgumentError) as info:
        model.create_chat(template="line one\n{% for %}")
    assert "[jinja] line 2" in str(info.value)
    with model.create_session(n_ctx=64) as session:
        with pytest.raises(ember.InvalidArgumentError) as info:
            ember.Chat(session, template="{{ messages[0].content }")
        assert "[jinja]" in str(info.value)
        # a template that raises at render time: the template's own message
        with ember.Chat(session, template="{{ raise_exception('only user turns') }}") as chat:
            with pytest.raises(ember.InvalidArgumentError) as info:
                chat.send(HI)
            assert "only user turns" in str(info.value)
        assert session.generate("Hello", max_tokens=2, temperature=0)  # the session is fine


def test_two_threads_each_with_a_chat_get_what_they_get_alone(model: ember.Model) -> None:
    conversations = [HI, [{"role": "user", "content": "Write a poem about the sea."}]]
    alone = [model.chat(c, max_tokens=12, temperature=0) for c in conversations]
    results: list[Any] = [None, None]

    def run(i: int) -> None:
        try:
            with model.create_chat(n_ctx=256) as chat:
                results[i] = [chat.send(conversations[i], max_tokens=12, temperature=0).content for _ in range(3)]
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for i in range(2):
        assert results[i] == [alone[i]] * 3


def _smollm2_path() -> str:
    import os

    base = os.environ.get("EMBER_MODEL_DIR") or os.path.expanduser("~/.cache/ember/models")
    return os.path.join(base, "SmolLM2-135M-Instruct.Q4_1.gguf")


def test_smollm2_writes_a_tool_call_that_comes_back_structured() -> None:
    """A real model choosing a tool: with Qwen 2.5's template (tools in the system
    turn) and one worked example, SmolLM2-135M greedily writes a Hermes <tool_call>,
    which the library parses into an OpenAI tool call; its result then goes back in."""
    import os

    path = _smollm2_path()
    template = os.path.join(os.environ.get("EMBER_SHARED_DIR", str(_shared())), "testdata", "templates",
                            "Qwen-Qwen2.5-7B-Instruct.jinja")
    if not os.path.exists(path) or not os.path.exists(template):
        pytest.skip("SmolLM2 or the Qwen template is missing (scripts/fetch-models)")
    with open(template, encoding="utf-8") as f:
        qwen = f.read()

    def call(i: int, city: str) -> dict[str, Any]:
        return {"role": "assistant", "content": None, "tool_calls": [
            {"id": f"call_{i}", "type": "function",
             "function": {"name": "get_weather", "arguments": json.dumps({"city": city})}}]}

    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You answer every question by calling a tool."},
        {"role": "user", "content": "Weather in London?"}, call(1, "London"),
        {"role": "user", "content": "Weather in Paris?"},
    ]
    with ember.Model(path) as m, m.create_chat(template=qwen, n_ctx=2048) as chat:
        reply = chat.send(messages, tools=WEATHER, max_tokens=48, temperature=0)
        check_reply(reply)
        assert reply.finish_reason == "tool_calls"
        assert [c["function"]["name"] for c in reply.tool_calls] == ["get_weather"]
        assert json.loads(reply.tool_calls[0]["function"]["arguments"]) == {"city": "Paris"}
        messages += [reply.message, {"role": "tool", "tool_call_id": reply.tool_calls[0]["id"],
                                     "content": json.dumps({"temperature_c": 21, "sky": "sunny"})}]
        answer = chat.send(messages, tools=WEATHER, max_tokens=24, temperature=0)
        check_reply(answer)
        assert answer.stats.reused_tokens > 0


def _shared() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parents[3].parent / "shared"
