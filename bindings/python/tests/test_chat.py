"""Chat templates through libember's renderer: the shared renderings made by
transformers' configuration of jinja2, and a chat with the tiny model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import ember
from ember import _lib

from conftest import shared_dir

pytestmark = pytest.mark.skipif(
    not _lib.has("ember_render_chat_template_json"), reason="this libember has no chat template functions"
)

TEMPLATES = shared_dir() / "testdata" / "templates"


def rendering_cases() -> list[Any]:
    path = TEMPLATES / "renderings.json"
    if not path.is_file():
        return []
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    return [pytest.param(c, id=f"{c['template']}-{c['conversation']}-{i}") for i, c in enumerate(cases)]


@pytest.mark.parametrize("case", rendering_cases())
def test_render_chat_template_matches_transformers(case: dict[str, Any]) -> None:
    template = (TEMPLATES / case["template"]).read_text(encoding="utf-8")
    kwargs = dict(
        add_generation_prompt=case["add_generation_prompt"],
        tools=case["tools"],
        bos_token=case["bos_token"],
        eos_token=case["eos_token"],
    )
    if "expected_error" in case:
        with pytest.raises(ember.InvalidArgumentError) as info:
            ember.render_chat_template(template, case["messages"], **kwargs)
        assert str(info.value)
    else:
        assert ember.render_chat_template(template, case["messages"], **kwargs) == case["expected"]


def test_a_broken_template_is_an_invalid_argument_naming_its_line() -> None:
    with pytest.raises(ember.InvalidArgumentError) as info:
        ember.render_chat_template("line one\n{% for m in messages %}{{ m.content }", [{"role": "user", "content": "x"}])
    assert "2" in str(info.value)


def test_the_tiny_model_chats_in_chatml(model: ember.Model) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
    prompt = model.apply_chat_template(messages)
    assert "<|im_start|>user\nHello<|im_end|>" in prompt and prompt.endswith("<|im_start|>assistant\n")
    reply = model.chat(messages, max_tokens=4, temperature=0)
    assert reply == model.generate(prompt, max_tokens=4, temperature=0, parse_special=True)
    with model.create_session(n_ctx=256) as s:
        assert s.chat(messages, max_tokens=4, temperature=0) == reply
        assert "".join(s.chat(messages, max_tokens=4, temperature=0, stream=True)) == reply
