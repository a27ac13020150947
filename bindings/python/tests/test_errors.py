"""Every failure raises the class of its status with the library's message."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import ember


def test_a_missing_file_is_a_file_not_found_io_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.gguf"
    with pytest.raises(FileNotFoundError) as info:
        ember.Model(path)
    e = info.value
    assert isinstance(e, ember.IoError) and isinstance(e, ember.EmberError) and isinstance(e, OSError)
    assert e.status == -3 and e.filename == str(path)
    assert str(e) == e.message and "nope.gguf" in str(e) and str(e).startswith("[")


def test_a_directory_is_an_io_error_but_not_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(ember.EmberError) as info:
        ember.Model(tmp_path)
    assert not isinstance(info.value, FileNotFoundError)
    assert str(info.value)


def test_a_truncated_gguf_is_an_invalid_file(tiny_path: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    data = tiny_path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ember.InvalidFileError) as info:
        ember.Model(cut)
    assert info.value.status == -2 and "cut.gguf" in str(info.value)
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 56)  # version 3, absurd counts
    with pytest.raises(ember.InvalidFileError):
        ember.Model(garbage)
    shutil.copy(tiny_path, tmp_path / "whole.gguf")
    ember.Model(tmp_path / "whole.gguf").close()


def test_bad_sampling_parameters_are_invalid_arguments(model: ember.Model, expected: dict[str, Any]) -> None:
    with pytest.raises(ember.InvalidArgumentError) as info:
        model.generate(expected["prompt"], top_p=2)
    assert isinstance(info.value, ValueError) and info.value.status == -1
    assert "top_p" in str(info.value)
    with pytest.raises(ember.InvalidArgumentError, match="top_p"):
        list(model.generate(expected["prompt"], top_p=2, stream=True))
    with pytest.raises(ember.InvalidArgumentError, match="seed"):
        model.generate(expected["prompt"], seed=-1)
    with pytest.raises(ember.InvalidArgumentError, match="kv_type"):
        model.create_session(kv_type="q5_1")  # type: ignore[arg-type]
    with pytest.raises(ember.InvalidArgumentError, match="n_ctx"):
        model.create_session(n_ctx=-1)


def test_a_prompt_longer_than_the_context_fails_before_anything_changes(model: ember.Model) -> None:
    with model.create_session(n_ctx=16) as s:
        with pytest.raises(ember.InvalidArgumentError) as info:
            s.generate("word " * 40, max_tokens=1)
        assert "context" in str(info.value)
        assert s.kv_pos_max() == -1


def test_bad_tokens_are_invalid_arguments(model: ember.Model) -> None:
    with pytest.raises(ember.InvalidArgumentError, match="out of range"):
        model.token_is_eog(-5)
    with model.create_session(n_ctx=32) as s:
        with pytest.raises(ember.InvalidArgumentError):
            s.decode([1, 99999])
        assert s.kv_pos_max() == -1


def test_a_closed_model_or_session_refuses_calls(tiny_path: Path) -> None:
    m = ember.Model(tiny_path)
    s = m.create_session(n_ctx=64)
    m.close()
    assert m.closed
    with pytest.raises(ValueError, match="closed"):
        m.tokenize("x")
    assert s.generate("Once upon a time, there was a little robot who", max_tokens=5, temperature=0) == (
        " divs divs divs divs divs"
    )  # the session keeps the library's model alive
    s.close()
    s.close()
    with pytest.raises(ValueError, match="closed"):
        s.generate("x")


def test_context_managers_close(tiny_path: Path) -> None:
    with ember.Model(tiny_path) as m:
        with m.create_session(n_ctx=32) as s:
            assert not s.closed
        assert s.closed
        assert not m.closed
    assert m.closed
    assert "closed" in repr(m)
