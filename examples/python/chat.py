#!/usr/bin/env python3
"""Chat with a model from Python: a multi-turn conversation in its chat template.

    pip install ./bindings/python
    python examples/python/chat.py MODEL.gguf --system "You are terse."
    python examples/python/chat.py MODEL.gguf --tools        # offer a get_time tool

Each turn resends the whole conversation; the session's KV cache already holds
all but the newest message, so only that is evaluated (the "reused" count
printed after each reply). An empty line or Ctrl-D ends the chat; Ctrl-C stops
the current reply.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from typing import Any

import ember

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "The current local time, as HH:MM",
            "parameters": {"type": "object", "properties": {}},
        },
    }
]


def call_tool(call: dict[str, Any]) -> str:
    """Runs one tool call of a reply and returns its result as text."""
    if call["function"]["name"] == "get_time":
        return datetime.datetime.now().strftime("%H:%M")
    return json.dumps({"error": f"no tool named {call['function']['name']}"})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="a GGUF file")
    ap.add_argument("--system", default=None, help="a system message")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--ctx", type=int, default=4096, help="context size (tokens) of the conversation")
    ap.add_argument("--tools", action="store_true", help="offer a get_time tool (for models trained on tool calls)")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    try:
        return run(args)
    except ember.EmberError as e:  # the library's message names the place
        print(f"error: {e}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace) -> int:
    tools = TOOLS if args.tools else None
    with ember.Model(args.model, n_threads=args.threads) as model, model.create_chat(n_ctx=args.ctx) as chat:
        print(model.description, file=sys.stderr)
        if chat.uses_fallback_template:
            print("(the model has no chat template: using ChatML)", file=sys.stderr)
        messages: list[dict[str, Any]] = []
        if args.system:
            messages.append({"role": "system", "content": args.system})
        while True:
            try:
                line = input("> ")
            except EOFError:
                break
            if not line.strip():
                break
            messages.append({"role": "user", "content": line})
            while True:  # one user turn may take several assistant turns when tools are called
                stream = chat.send(
                    messages, tools=tools, stream=True, max_tokens=args.max_tokens, temperature=args.temperature
                )
                try:
                    for piece in stream:
                        print(piece, end="", flush=True)
                except KeyboardInterrupt:
                    stream.close()  # cancels the turn; the reply so far is kept
                print()
                reply = chat.last_reply
                if reply is None:
                    break
                s = reply.stats
                print(
                    f"[{s.prompt_tokens} prompt tokens, {s.reused_tokens} reused; {s.generated_tokens} generated "
                    f"at {s.decode_tok_s:.1f} tok/s; {reply.finish_reason}]",
                    file=sys.stderr,
                )
                messages.append(reply.message)
                if not reply.tool_calls:
                    break
                for call in reply.tool_calls:
                    result = call_tool(call)
                    print(f"[tool {call['function']['name']}({call['function']['arguments']}) -> {result}]")
                    messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
