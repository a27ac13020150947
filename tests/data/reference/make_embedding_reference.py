#!/usr/bin/env python3
"""llama.cpp's mean-pooled embeddings of tiny-llama-f16 (the model of
tests/data/bindings_expected.json), written to tiny_llama_embeddings.json for
test_embeddings and the bindings' tests.

Needs llama-cpp-python (pip install llama-cpp-python). Run from the repository:
    python3 tests/data/reference/make_embedding_reference.py
"""
import json
import pathlib

import llama_cpp

ROOT = pathlib.Path(__file__).resolve().parents[3]
MODEL = ROOT.parent / "shared" / "testdata" / "models" / "tiny-llama-f16.gguf"
TEXTS = [
    "Once upon a time, there was a little robot who",
    "The capital of France is",
    "a",
]


def main() -> None:
    llm = llama_cpp.Llama(
        model_path=str(MODEL),
        embedding=True,
        pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
        n_ctx=256,
        n_batch=256,
        n_threads=2,
        verbose=False,
    )
    cases = []
    for text in TEXTS:
        tokens = llm.tokenize(text.encode(), add_bos=True, special=False)
        raw = llm.embed(text, normalize=False)
        cases.append({"text": text, "tokens": tokens, "embedding": [round(float(v), 6) for v in raw]})
    out = {
        "description": "llama.cpp (llama-cpp-python %s) mean-pooled last hidden state (after the output norm), "
        "not normalized, of tiny-llama-f16.gguf; tokens with BOS" % llama_cpp.__version__,
        "model": "testdata/models/tiny-llama-f16.gguf",
        "cases": cases,
    }
    path = pathlib.Path(__file__).with_name("tiny_llama_embeddings.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", path, "n_embd", len(cases[0]["embedding"]))


if __name__ == "__main__":
    main()
