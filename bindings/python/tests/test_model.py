"""Loading, metadata, the tokenizer, and the library behind the package."""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import pytest

import ember
from ember import _lib


def test_the_bundled_library_is_loaded_and_matches_the_package_version() -> None:
    assert ember.abi_version() == 1
    assert ember.library_version() == ember.__version__
    assert ember.library_path().parent == Path(ember.__file__).resolve().parent


def test_the_option_structs_read_the_libraries_documented_defaults() -> None:
    # A ctypes struct laid out differently from ember.h would read other fields here.
    p = _lib.GenerateParams()
    _lib.check(_lib.lib().ember_generate_default_params(ctypes.byref(p), ctypes.sizeof(p)))
    assert p.struct_size == ctypes.sizeof(p)
    assert (p.temperature, p.top_k, p.top_p, p.min_p, p.typical_p) == pytest.approx((0.8, 40, 0.95, 0.05, 1.0))
    assert (p.repeat_penalty, p.repeat_last_n, p.frequency_penalty, p.presence_penalty) == (1.0, 64, 0.0, 0.0)
    assert (p.seed, p.n_predict, p.add_special, p.parse_special, p.ignore_eos) == (0xFFFFFFFF, 256, True, False, False)
    assert (p.n_stop, p.n_logit_bias, bool(p.on_piece), bool(p.on_prompt_progress)) == (0, 0, False, False)
    sp = _lib.SessionParams()
    _lib.check(_lib.lib().ember_session_default_params(ctypes.byref(sp), ctypes.sizeof(sp)))
    assert (sp.n_ctx, sp.n_batch, sp.n_threads, sp.kv_type, sp.n_seq_max) == (0, 512, 0, 0, 1)
    mp = _lib.ModelParams()
    _lib.check(_lib.lib().ember_model_default_params(ctypes.byref(mp), ctypes.sizeof(mp)))
    assert (mp.n_threads, mp.use_mmap, mp.vocab_only, bool(mp.progress)) == (0, True, False, False)


def test_tiny_llama_metadata(model: ember.Model) -> None:
    assert (model.n_vocab, model.n_ctx_train, model.n_embd, model.n_layer) == (32000, 1024, 256, 4)
    assert model.n_params > 0
    assert "llama" in model.description and "tiny-random-llama" in model.description
    meta = model.metadata
    assert meta["general.architecture"] == "llama"
    assert meta["llama.context_length"] == "1024"
    assert meta["tokenizer.ggml.add_bos_token"] == "true"
    assert meta["llama.attention.layer_norm_rms_epsilon"] == "0.00001"
    assert meta["tokenizer.ggml.tokens"].startswith('["<unk>", "<s>", "</s>"')
    assert list(meta)[:2] == ["tokenizer.ggml.model", "tokenizer.ggml.pre"]  # file order
    assert model.meta_get("general.name") == "tiny-random-llama"
    assert model.meta_get("no.such.key") is None
    assert model.chat_template is None  # the tiny model has none
    assert (model.token_bos, model.token_eos) == (1, 2)
    assert model.token_is_eog(2) and not model.token_is_eog(1)


def test_tokenize_gives_llama_cpps_ids_and_detokenize_round_trips(model: ember.Model, expected: dict[str, Any]) -> None:
    ids = model.tokenize(expected["prompt"])
    assert ids == expected["prompt_tokens"]
    assert model.tokenize(expected["prompt"], add_special=False) == expected["prompt_tokens"][1:]
    assert model.detokenize(ids) == expected["prompt"]
    assert model.detokenize(ids, special=True).startswith("<s>")
    for text in ["Hello, world!", "  two  spaces", "naïve café — 東京 🤖", "line\nbreak\ttab", ""]:
        assert model.detokenize(model.tokenize(text)) == text
    assert model.tokenize(b"bytes work too", add_special=False) == model.tokenize("bytes work too", add_special=False)
    assert model.tokenize("<s>", add_special=False, parse_special=True) == [1]
    assert model.tokenize("<s>", add_special=False, parse_special=False) != [1]


def test_token_to_piece_gives_raw_bytes(model: ember.Model) -> None:
    assert model.token_to_piece(1) == b""
    assert model.token_to_piece(1, special=True) == b"<s>"
    ids = model.tokenize("🤖", add_special=False)
    pieces = b"".join(model.token_to_piece(t) for t in ids)
    assert pieces.decode("utf-8").strip() == "🤖"  # byte-fallback pieces, each part of the character
    assert model.detokenize_bytes(ids) == "🤖".encode()


def test_a_long_text_needs_the_buffers_to_grow(model: ember.Model) -> None:
    text = "robot " * 3000
    ids = model.tokenize(text, add_special=False)
    assert len(ids) >= 3000
    assert model.detokenize(ids) == text


def test_load_progress_reaches_one_and_returning_false_cancels(tiny_path: Path) -> None:
    seen: list[float] = []
    with ember.Model(tiny_path, progress=seen.append):
        pass
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] == 1.0
    with pytest.raises(ember.CancelledError) as info:
        ember.Model(tiny_path, progress=lambda p: p < 0.5)
    assert info.value.status == -5 and str(info.value)


def test_an_exception_in_the_progress_callback_cancels_the_load_and_propagates(tiny_path: Path) -> None:
    def boom(p: float) -> None:
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        ember.Model(tiny_path, progress=boom)


def test_vocab_only_model_tokenizes_but_runs_no_session(tiny_path: Path) -> None:
    with ember.Model(tiny_path, vocab_only=True) as m:
        assert m.tokenize("Once upon") == [1, 9038, 2501]
        with pytest.raises(ember.EmberError) as info:
            m.create_session()
        assert "vocab" in str(info.value)


def test_log_callback_receives_the_load_message(tiny_path: Path) -> None:
    got: list[tuple[int, str]] = []
    ember.set_log_callback(lambda level, msg: got.append((level, msg)))
    ember.set_log_level(ember.LOG_INFO)
    try:
        ember.Model(tiny_path).close()
    finally:
        ember.set_log_callback(None)
        ember.set_log_level(ember.LOG_WARN)
    assert any("loaded" in msg and "tiny-llama-f16.gguf" in msg for _, msg in got), got
    assert all(ember.LOG_DEBUG <= level <= ember.LOG_ERROR for level, _ in got)
    n = len(got)
    ember.Model(tiny_path).close()
    assert len(got) == n  # the default sink again
    with pytest.raises(ember.InvalidArgumentError, match="level 9"):
        ember.set_log_level(9)
