#!/usr/bin/env python3
"""Generate text with ember from Python, streaming it as it is made.

    pip install ./bindings/python
    python examples/python/generate.py MODEL.gguf "Once upon a time" --max-tokens 64

Ctrl-C stops the generation cleanly (leaving the stream cancels it).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import ember


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="a GGUF file")
    ap.add_argument("prompt", nargs="?", default="Once upon a time")
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--top-k", type=int, default=40)
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--stop", action="append", default=None, help="a stop string (repeatable)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--chat", action="store_true", help="wrap the prompt in the model's chat template")
    args = ap.parse_args()

    try:
        return run(args)
    except ember.EmberError as e:  # the library's message names the place
        print(f"error: {e}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace) -> int:
    with ember.Model(args.model, n_threads=args.threads) as model, model.create_session() as session:
        print(model.description, file=sys.stderr)
        sampling: dict[str, Any] = dict(
            max_tokens=args.max_tokens,
            temperature=args.temperature,
            top_k=args.top_k,
            top_p=args.top_p,
            seed=args.seed,
            stop=args.stop,
        )
        if args.chat:  # the model's chat template, stopping at its end of turn
            stream: ember.TextStream = session.chat([{"role": "user", "content": args.prompt}], stream=True, **sampling)
        else:
            print(args.prompt, end="", flush=True)
            stream = session.generate(args.prompt, stream=True, **sampling)
        try:
            for piece in stream:
                print(piece, end="", flush=True)
        except KeyboardInterrupt:
            stream.close()
        print()
        st = session.last_stats
        if st is not None:
            print(
                f"[{st.prompt_tokens} prompt tokens at {st.prefill_tok_s:.1f} tok/s, "
                f"{st.generated_tokens} generated at {st.decode_tok_s:.1f} tok/s, stop: {st.stop_reason}]",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
