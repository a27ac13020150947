#!/usr/bin/env python3
"""llama.cpp's prefill and decode speed through llama-cpp-python, measured the
way `ember bench` measures: a PP-token prompt in one go, then NG single-token
decode steps, on T threads; best of R runs. Prints JSON like `ember bench --json`.
Usage: llamacpp_bench.py MODEL.gguf [-p 512] [-n 128] [-t 2] [-r 3]"""
import argparse, json, time
import llama_cpp
from llama_cpp import Llama

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("-p", type=int, default=512)
ap.add_argument("-n", type=int, default=128)
ap.add_argument("-t", type=int, default=2)
ap.add_argument("-r", type=int, default=3)
a = ap.parse_args()

llm = Llama(model_path=a.model, n_ctx=a.p + a.n + 16, n_batch=a.p, n_ubatch=a.p, n_threads=a.t,
            n_threads_batch=a.t, verbose=False)
prompt = [(i * 7919) % 1000 + 100 for i in range(a.p)]  # fixed, vocabulary-safe ids
best_pp, best_tg = 0.0, 0.0
for _ in range(a.r):
    llm.reset()
    llm._ctx.kv_cache_clear() if hasattr(llm._ctx, "kv_cache_clear") else None
    t0 = time.perf_counter()
    llm.eval(prompt)
    t1 = time.perf_counter()
    tok = 100
    for i in range(a.n):
        llm.eval([tok])
        tok = (tok * 31 + 7) % 1000 + 100
    t2 = time.perf_counter()
    best_pp = max(best_pp, a.p / (t1 - t0))
    best_tg = max(best_tg, a.n / (t2 - t1))
print(json.dumps({"engine": "llama.cpp", "version": "llama-cpp-python " + llama_cpp.__version__,
                  "model": a.model, "threads": a.t, "n_prompt": a.p, "n_gen": a.n,
                  "prefill_tok_s": round(best_pp, 2), "decode_tok_s": round(best_tg, 2)}))
