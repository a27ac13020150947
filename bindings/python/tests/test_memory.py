"""Loading and freeing a model many times does not grow resident memory."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

import ember


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
def test_loading_and_freeing_a_model_100_times_does_not_grow_resident_memory(tiny_path: Path) -> None:
    def cycle() -> None:
        with ember.Model(tiny_path, n_threads=1) as m:
            m.tokenize("Once upon a time")
        ember.Model(tiny_path).close()

    for _ in range(10):  # warm-up: allocator arenas, ctypes caches
        cycle()
    gc.collect()
    before = resident_bytes()
    for _ in range(100):
        cycle()
    gc.collect()
    grown = resident_bytes() - before
    # A leaked model would be megabytes each (the f16 tiny model maps ~ 24 MB).
    assert grown < 4 << 20, f"resident memory grew by {grown / 2**20:.1f} MiB over 100 load/free cycles"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
def test_sessions_and_generations_do_not_grow_resident_memory(model: ember.Model) -> None:
    def cycle() -> None:
        with model.create_session(n_ctx=64) as s:
            s.generate("Once upon a time", max_tokens=1, temperature=0)
            for _ in s.generate("Once upon a time", max_tokens=2, temperature=0, stream=True):
                break

    for _ in range(5):
        cycle()
    gc.collect()
    before = resident_bytes()
    for _ in range(20):
        cycle()
    gc.collect()
    grown = resident_bytes() - before
    assert grown < 4 << 20, f"resident memory grew by {grown / 2**20:.1f} MiB over 20 sessions"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
def test_chats_and_embeddings_do_not_grow_resident_memory(model: ember.Model) -> None:
    messages = [{"role": "user", "content": "Hi!"}]

    def cycle() -> None:
        with model.create_chat(n_ctx=128) as chat:
            reply = chat.send(messages, max_tokens=2, temperature=0)
            for _ in chat.send(messages + [reply.message, messages[0]], max_tokens=2, temperature=0, stream=True):
                break
        session = model.create_session(n_ctx=64)
        ember.Chat(session)  # dropped at once; closing the session frees any chat still on it
        ember.Chat(session).send(messages, max_tokens=1)
        session.chat(messages, max_tokens=1)  # its own chat, freed with it
        session.embed("Once upon a time")
        session.close()
        model.embed(["a", "b"])

    for _ in range(5):
        cycle()
    gc.collect()
    before = resident_bytes()
    for _ in range(20):
        cycle()
    gc.collect()
    grown = resident_bytes() - before
    # a leaked session holds a KV cache and scratch buffers: megabytes
    assert grown < 4 << 20, f"resident memory grew by {grown / 2**20:.1f} MiB over 20 chat cycles"
