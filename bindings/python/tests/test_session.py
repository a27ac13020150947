"""Raw decoding, logits, the KV cache and embeddings of a Session."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import ember

from conftest import REPO_ROOT


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


EMBEDDINGS = REPO_ROOT / "tests" / "data" / "reference" / "tiny_llama_embeddings.json"


def test_embeddings_have_one_unit_row_per_text(model: ember.Model) -> None:
    vecs = model.embed(["Once upon a time", "A robot"])
    assert vecs.shape == (2, model.n_embd) and vecs.dtype == np.float32 and np.isfinite(vecs).all()
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=0, atol=1e-5)
    again = model.embed("Once upon a time")
    assert again.shape == (model.n_embd,)
    np.testing.assert_allclose(again, vecs[0], rtol=0, atol=1e-5)
    assert not np.allclose(vecs[0], vecs[1], atol=1e-2)
    raw = model.embed("Once upon a time", normalize=False)
    assert abs(float(np.linalg.norm(raw)) - 1.0) > 0.1  # the raw mean is not unit length...
    np.testing.assert_allclose(raw / np.linalg.norm(raw), again, rtol=0, atol=1e-5)  # ...but points the same way
    assert model.embed([]).shape == (0, model.n_embd)


def test_embeddings_match_llama_cpps_mean_pooling(model: ember.Model) -> None:
    cases = json.loads(EMBEDDINGS.read_text(encoding="utf-8"))["cases"]
    assert cases
    with model.create_session(n_ctx=64) as s:
        for case in cases:
            ref = np.asarray(case["embedding"], dtype=np.float64)
            limit = 2e-3 * float(np.abs(ref).max())
            assert model.tokenize(case["text"]) == case["tokens"]
            raw = model.embed(case["text"], normalize=False)
            assert raw.shape == ref.shape
            diff = float(np.abs(raw - ref).max())
            assert diff < limit, f"{case['text']!r}: max abs diff {diff:.2e} >= {limit:.2e}"
            # a session of one's own, from token ids, gives the same vector
            np.testing.assert_allclose(s.embed(case["tokens"], normalize=False), raw, rtol=0, atol=1e-5)
            unit = s.embed(case["tokens"])
            assert abs(float(np.linalg.norm(unit)) - 1.0) < 1e-5
            np.testing.assert_allclose(unit, ref / np.linalg.norm(ref), rtol=0, atol=2e-3 * float(np.abs(unit).max()))


def test_embedding_leaves_the_session_empty_and_bad_tokens_raise(model: ember.Model, expected: dict[str, Any]) -> None:
    with model.create_session(n_ctx=16) as s:
        s.embed("Hello there")
        assert s.kv_pos_max() == -1
        # the next generation starts from an empty cache, and gives the canonical text
        with model.create_session(n_ctx=64) as g:
            g.embed("Hello there")
            assert g.generate(expected["prompt"], max_tokens=expected["n_predict"], temperature=0) == expected["text"]
            assert g.last_stats is not None and g.last_stats.reused_tokens == 0
        with pytest.raises(ember.InvalidArgumentError) as info:
            s.embed([])
        assert info.value.status == -1 and str(info.value).startswith("[")
        with pytest.raises(ember.InvalidArgumentError) as info:
            s.embed([1, model.n_vocab + 5])
        assert str(info.value).startswith("[")
        with pytest.raises(ember.InvalidArgumentError) as info:
            s.embed([1] * 40)  # more tokens than the 16 positions
        assert str(info.value).startswith("[")
        assert s.embed([1, 2, 3]).shape == (model.n_embd,)  # still usable
