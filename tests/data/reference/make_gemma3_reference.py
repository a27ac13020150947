#!/usr/bin/env python3
"""Writes gemma3_greedy.json: llama.cpp's (via llama-cpp-python) prompt tokens,
32 greedy tokens, the top-1 minus top-2 logit margin at each step and the
top-20 logits at the last prompt position, for four prompts on Gemma 3 270M
Q4_K_M. The last prompt is longer than the 512-token sliding window.
Run: python3 make_gemma3_reference.py MODEL.gguf"""
import json, sys, os
import numpy as np
from llama_cpp import Llama

PARAGRAPH = (
    "The old lighthouse keeper climbed the spiral stairs every evening at dusk. He carried a brass lantern, "
    "a notebook filled with weather observations, and a thermos of strong black tea. From the top of the tower "
    "he could see the fishing boats returning to the harbour, their sails glowing orange in the setting sun. "
    "He wrote down the direction of the wind, the height of the waves and the colour of the sky, because his "
    "father had done the same thing for forty years before him. "
)
PROMPTS = [
    "The capital of France is",
    "Once upon a time, there was a little robot who",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    PARAGRAPH * 7 + "The old lighthouse keeper",
]
N_GEN = 32
N_TOP = 20

def main():
    model = sys.argv[1]
    llm = Llama(model_path=model, n_ctx=1024, n_threads=2, logits_all=True, verbose=False, seed=0)
    cases = []
    for prompt in PROMPTS:
        toks = llm.tokenize(prompt.encode(), add_bos=True, special=False)
        llm.reset()
        llm.eval(toks)
        last = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
        top = np.argsort(-last, kind="stable")[:N_TOP]
        gen, margins = [], []
        for _ in range(N_GEN):
            logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
            order = np.argsort(-logits, kind="stable")
            gen.append(int(order[0]))
            margins.append(float(logits[order[0]] - logits[order[1]]))
            llm.eval([int(order[0])])
        text = llm.detokenize(gen).decode("utf-8", errors="replace")
        cases.append({"prompt": prompt, "prompt_tokens": [int(t) for t in toks], "greedy_tokens": gen,
                      "greedy_margin": margins, "text": text,
                      "top_ids": [int(t) for t in top], "top_logits": [float(last[t]) for t in top],
                      "logit_std": float(last.std())})
        print(len(toks), repr(prompt[:60]), "->", repr(text), file=sys.stderr)
    import llama_cpp
    out = {"description": "llama.cpp (llama-cpp-python %s) greedy decoding of gemma-3-270m-q4_k_m.gguf "
                          "(scripts/fetch-models --gemma), f16 KV cache: prompt_tokens (BOS per the vocab), "
                          "greedy_tokens (argmax), greedy_margin (top-1 minus top-2 logit before each step), "
                          "top_ids/top_logits (the 20 largest logits at the last prompt position) and logit_std "
                          "(their standard deviation over the vocabulary)" % llama_cpp.__version__,
           "model": os.path.basename(model), "cases": cases}
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gemma3_greedy.json"), "w") as f:
        json.dump(out, f, indent=1)

if __name__ == "__main__":
    main()
