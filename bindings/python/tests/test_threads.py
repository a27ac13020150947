"""One Model shared by threads, each with its own Session, generating at the same time."""

from __future__ import annotations

import threading
from typing import Any, Callable

import ember

PROMPTS = [
    ("Once upon a time, there was a little robot who", {"temperature": 0}),
    ("The capital of France is", {"temperature": 0.9, "seed": 1234}),
    ("def fibonacci(n):", {"temperature": 0}),
]
N = 24


def run_concurrently(fns: list[Callable[[], str]]) -> list[str]:
    results: list[Any] = [None] * len(fns)
    start = threading.Barrier(len(fns))

    def worker(i: int) -> None:
        try:
            start.wait()
            results[i] = fns[i]()
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def test_threads_with_their_own_sessions_get_the_text_each_gets_alone(model: ember.Model) -> None:
    alone = []
    for prompt, kw in PROMPTS:
        with model.create_session(n_ctx=128, n_threads=1) as s:
            alone.append(s.generate(prompt, max_tokens=N, **kw))
    assert len(set(alone)) == len(alone)

    def job(i: int) -> Callable[[], str]:
        prompt, kw = PROMPTS[i]

        def run() -> str:
            with model.create_session(n_ctx=128, n_threads=1) as s:
                first = s.generate(prompt, max_tokens=N, **kw)
                streamed = "".join(s.generate(prompt, max_tokens=N, stream=True, **kw))
                assert streamed == first
                return first

        return run

    for _ in range(2):
        assert run_concurrently([job(i) for i in range(len(PROMPTS))]) == alone


def test_model_generate_is_safe_from_several_threads(model: ember.Model) -> None:
    prompt, kw = PROMPTS[0]
    want = model.generate(prompt, max_tokens=N, n_threads=1, **kw)
    got = run_concurrently([lambda: model.generate(prompt, max_tokens=N, n_threads=1, **kw) for _ in range(3)])
    assert got == [want] * 3
    toks = run_concurrently([lambda: str(model.tokenize(prompt)) for _ in range(4)])
    assert len(set(toks)) == 1
