"""Generation: the canonical greedy text, streaming, early break, stop strings, seeds, cancel."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import ember

# The text of 32 greedy tokens is llama.cpp's too (ref-tiny-llama-f16.gguf), but only its first 5 tokens have
# top-1 margins wide enough to be checked against another implementation; longer runs below compare ember with
# itself (streamed vs whole, threaded vs alone).
LONG = 32


def greedy(expected: dict[str, Any]) -> dict[str, Any]:
    return {"max_tokens": expected["n_predict"], "temperature": expected["temperature"]}


def test_greedy_text_equals_the_canonical_expectation(model: ember.Model, expected: dict[str, Any]) -> None:
    assert model.generate(expected["prompt"], **greedy(expected)) == expected["text"]
    assert model.generate(expected["prompt_tokens"], **greedy(expected)) == expected["text"]
    with model.create_session(n_ctx=128) as s:
        assert s.generate(expected["prompt"], **greedy(expected)) == expected["text"]
        st = s.last_stats
        assert st is not None
        assert (st.stop_reason, st.finish_reason) == ("length", "length")
        assert (st.prompt_tokens, st.reused_tokens, st.generated_tokens) == (12, 0, 5)
        assert st.ttft_ms > 0 and st.prefill_ms >= 0 and st.decode_tok_s >= 0


def test_a_session_reuses_the_cached_prefix(model: ember.Model, expected: dict[str, Any]) -> None:
    with model.create_session(n_ctx=128) as s:
        first = s.generate(expected["prompt"], max_tokens=LONG, temperature=0)
        again = s.generate(expected["prompt"], max_tokens=LONG, temperature=0)
        assert again == first and first.startswith(expected["text"])
        assert s.last_stats is not None and s.last_stats.reused_tokens == 11
        # a continuation: the old prompt and text are the prefix of the new prompt
        s.generate(expected["prompt"] + first + " and", max_tokens=4, temperature=0)
        assert s.last_stats.reused_tokens >= 12
        s.kv_clear()
        assert s.kv_pos_max() == -1
        assert s.generate(expected["prompt"], max_tokens=LONG, temperature=0) == first
        assert s.last_stats.reused_tokens == 0


def test_streamed_pieces_join_to_the_same_text(model: ember.Model, expected: dict[str, Any]) -> None:
    pieces = list(model.generate(expected["prompt"], stream=True, **greedy(expected)))
    assert "".join(pieces) == expected["text"]
    assert len(pieces) == expected["n_predict"]
    whole = model.generate(expected["prompt"], max_tokens=LONG, temperature=0)
    with model.create_session(n_ctx=128) as s:
        streamed = list(s.generate(expected["prompt"], max_tokens=LONG, temperature=0, stream=True))
        assert "".join(streamed) == whole
        assert all(isinstance(p, str) and p for p in streamed)
        assert s.last_stats is not None and s.last_stats.generated_tokens == LONG


def test_breaking_out_of_a_stream_cancels_the_generation(model: ember.Model, expected: dict[str, Any]) -> None:
    with model.create_session(n_ctx=1024) as s:
        got = []
        t0 = time.monotonic()
        for piece in s.generate(expected["prompt"], max_tokens=-1, ignore_eos=True, temperature=0, stream=True):
            got.append(piece)
            if len(got) == 3:
                break
        # the generator was closed by the break: the session is free again at once
        assert s.last_stats is not None and s.last_stats.stop_reason == "cancelled"
        assert s.last_stats.generated_tokens < 100
        assert time.monotonic() - t0 < 60
        assert "".join(got) == " divs divs divs"
        assert s.generate(expected["prompt"], **greedy(expected)) == expected["text"]

        # an explicit close() of a half-read stream, and one never started
        stream = s.generate(expected["prompt"], max_tokens=-1, ignore_eos=True, temperature=0, stream=True)
        assert next(stream) == " divs"
        stream.close()
        assert s.last_stats.stop_reason == "cancelled"
        unused = s.generate(expected["prompt"], stream=True)
        del unused
        assert s.generate(expected["prompt"], **greedy(expected)) == expected["text"]

    # Model.generate(stream=True) owns its session; breaking frees it
    for i, _ in enumerate(model.generate(expected["prompt"], max_tokens=-1, ignore_eos=True, stream=True)):
        if i == 1:
            break


def test_a_session_refuses_a_call_while_its_stream_is_open(model: ember.Model, expected: dict[str, Any]) -> None:
    with model.create_session(n_ctx=256) as s:
        stream = s.generate(expected["prompt"], max_tokens=50, temperature=0, stream=True)
        next(stream)
        with pytest.raises(RuntimeError, match="another call is running"):
            s.generate("x", max_tokens=1)
        stream.close()
        assert s.generate(expected["prompt"], **greedy(expected)) == expected["text"]


def test_stop_strings_end_the_text_and_are_not_returned(model: ember.Model, expected: dict[str, Any]) -> None:
    with model.create_session(n_ctx=128) as s:
        assert s.generate(expected["prompt"], max_tokens=LONG, temperature=0, stop="Start") == expected["text"]
        assert s.last_stats is not None and s.last_stats.stop_reason == "stop_string"
        assert s.last_stats.finish_reason == "stop"
        assert s.generate(expected["prompt"], max_tokens=LONG, temperature=0, stop=["zzz", " Ocean"]).endswith(
            "accomplished"
        )
        streamed = "".join(s.generate(expected["prompt"], max_tokens=LONG, temperature=0, stop="Start", stream=True))
        assert streamed == expected["text"]


def test_a_seed_fixes_the_sampled_text(model: ember.Model, expected: dict[str, Any]) -> None:
    a = model.generate(expected["prompt"], max_tokens=16, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, seed=42)
    b = model.generate(expected["prompt"], max_tokens=16, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, seed=42)
    c = model.generate(expected["prompt"], max_tokens=16, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, seed=7)
    assert a == b and a != c


def test_logit_bias_bans_the_greedy_token(model: ember.Model, expected: dict[str, Any]) -> None:
    banned = model.generate(expected["prompt"], max_tokens=1, temperature=0, logit_bias={24641: float("-inf")})
    assert banned != " divs" and banned


def test_prompt_progress_can_stop_before_the_first_token(model: ember.Model, expected: dict[str, Any]) -> None:
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> bool:
        calls.append((done, total))
        return False

    with model.create_session(n_ctx=128) as s:
        assert s.generate(expected["prompt"], max_tokens=5, on_prompt_progress=progress) == ""
        assert calls and calls[-1][1] == 12
        assert s.last_stats is not None and s.last_stats.stop_reason == "cancelled"


def test_cancel_from_another_thread_returns_the_text_so_far(model: ember.Model, expected: dict[str, Any]) -> None:
    with model.create_session(n_ctx=1024) as s:
        seen = threading.Event()

        def watch() -> None:
            seen.wait(30)
            s.cancel()

        t = threading.Thread(target=watch)
        t.start()
        text = s.generate(
            expected["prompt"],
            max_tokens=-1,
            ignore_eos=True,
            temperature=0,
            on_prompt_progress=lambda d, n: seen.set(),
        )
        t.join()
        assert s.last_stats is not None and s.last_stats.stop_reason == "cancelled"
        assert s.last_stats.generated_tokens < 1000
        assert text.startswith(expected["text"][: len(text)])


def test_an_exception_in_a_callback_stops_generation_and_propagates(model: ember.Model, expected: dict[str, Any]) -> None:
    def boom(done: int, total: int) -> None:
        raise ZeroDivisionError("progress")

    with model.create_session(n_ctx=128) as s:
        with pytest.raises(ZeroDivisionError):
            s.generate(expected["prompt"], on_prompt_progress=boom)
        assert s.generate(expected["prompt"], **greedy(expected)) == expected["text"]
