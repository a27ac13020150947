"""Raw decoding, logits, the KV cache and embeddings of a Session."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember


def test_logits_have_one_row_per_token_and_llama_cpps_values(model: ember.Model, expected: dict[str, Any]) -> None:
    toks = expected["prompt_tokens"]
    logits = model.logits(toks)
    assert logits.shape == (len(toks), model.n_vocab) and logits.dtype == np.float32
    # llama.cpp's logit of the first greedy token after the prompt is 6.969857
    assert int(logits[-1].argmax()) == expected["greedy_tokens"][0]
    assert logits[-1, 24641] == pytest.approx(6.969857, abs=2e-3)
    assert np.isfinite(logits).all()
    assert model.logits([]).shape == (0, model.n_vocab)


def test_session_logits_in_chunks_and_from_a_cached_prefix_agree(model: ember.Model, expected: dict[str, Any]) -> None:
    toks = expected["prompt_tokens"]
    whole = model.logits(toks)
    with model.create_session(n_ctx=64, n_batch=5) as s:  # 12 tokens in 3 chunks
        chunked = s.logits(toks)
        np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-3)
        # the first 6 tokens stay cached; the rest evaluated after them
        tail = s.logits(toks[6:], pos0=6)
        np.testing.assert_allclose(tail, whole[6:], rtol=0, atol=1e-3)
        assert s.kv_pos_max() == 11


def test_decode_then_get_logits(model: ember.Model, expected: dict[str, Any]) -> None:
    toks = expected["prompt_tokens"]
    whole = model.logits(toks)
    with model.create_session(n_ctx=64, n_seq_max=2) as s:
        s.decode(toks[:6])
        s.decode(toks[6:])  # pos0 None: after the sequence's last position
        assert s.n_outputs == 1 and s.kv_pos_max(0) == 11
        last = s.get_logits()
        np.testing.assert_allclose(last, whole[-1], rtol=0, atol=1e-3)
        s.kv_copy(0, 1)
        assert s.kv_pos_max(1) == 11
        s.kv_remove(0, 6, -1)
        assert s.kv_pos_max(0) == 5
        s.kv_keep_seq(0)
        assert s.kv_pos_max(1) == -1
        s.decode(toks[6:], all_logits=True)
        assert s.n_outputs == 6
        np.testing.assert_allclose(s.get_logits(0), whole[6], rtol=0, atol=1e-3)
        assert s.kv_bytes > 0 and s.n_ctx == 64


def test_kv_types_each_run(model: ember.Model, expected: dict[str, Any]) -> None:
    for kv in ("f16", "q8_0", "q4_0"):
        with model.create_session(n_ctx=64, kv_type=kv) as s:
            assert s.kv_type == kv
            assert s.generate(expected["prompt"], max_tokens=2, temperature=0)


def test_embeddings(model: ember.Model) -> None:
    try:
        vecs = model.embed(["Once upon a time", "A robot"])
    except ember.UnsupportedError as e:
        assert e.status == -4 and "ember_session_embed" in str(e)
        pytest.xfail(f"libember has no embeddings yet: {e}")
    assert vecs.shape == (2, model.n_embd) and np.isfinite(vecs).all()
    again = model.embed("Once upon a time")
    assert again.shape == (model.n_embd,)
    np.testing.assert_allclose(again, vecs[0], rtol=0, atol=1e-4)
    assert not np.allclose(vecs[0], vecs[1])
