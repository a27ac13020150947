"""Load test: 32 concurrent streaming clients x 4 requests each on loopback.

Each request streams a chat completion with a fixed seed and max_tokens 32.
The 128 requests use 16 distinct (prompt, seed) pairs; each pair is also
asked once without streaming, and every streamed text must equal that
reference exactly (no lost, duplicated or reordered token, whatever else
shared the batch), with the same usage counts, one finish_reason and a final
[DONE]. Prints the tokens per second served.

Run by pytest (test_load_streaming_clients, with its own server), or on its
own against a running server:  python3 tests/server/load_test.py --url http://127.0.0.1:8080
Everything is bounded: 128 + 16 requests, each with a 300 s timeout, on 127.0.0.1 only.
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse

CLIENTS = 32
REQUESTS_PER_CLIENT = 4
MAX_TOKENS = 32
N_VARIANTS = 16
TIMEOUT_S = 300

TOPICS = ["the sea", "a robot", "autumn", "a lighthouse", "coffee", "mountains", "a library", "the moon"]


def variant(i):
    """The (messages, seed) of variant i."""
    topic = TOPICS[i % len(TOPICS)]
    return [{"role": "user", "content": f"Write two sentences about {topic}."}], 1000 + i


def chat_body(i, stream):
    messages, seed = variant(i)
    body = {"model": "any", "messages": messages, "max_tokens": MAX_TOKENS, "temperature": 0.8, "seed": seed}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def post(host, port, body):
    conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
    conn.request("POST", "/v1/chat/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    return conn, conn.getresponse()


def plain_request(host, port, i):
    conn, resp = post(host, port, chat_body(i, stream=False))
    try:
        raw = resp.read()
        if resp.status != 200:
            raise AssertionError(f"variant {i}: HTTP {resp.status}: {raw[:300]!r}")
        r = json.loads(raw)
        return r["choices"][0]["message"]["content"], r["choices"][0]["finish_reason"], r["usage"]
    finally:
        conn.close()


def stream_request(host, port, i):
    """(text, content chunks, finish_reason, usage) of one streamed request, checking the framing."""
    conn, resp = post(host, port, chat_body(i, stream=True))
    try:
        if resp.status != 200:
            raise AssertionError(f"variant {i}: HTTP {resp.status}: {resp.read()[:300]!r}")
        pieces, finishes, usage, done = [], [], None, False
        for raw in resp:
            line = raw.decode("utf-8").rstrip("\r\n")
            if not line or line.startswith(":"):
                continue
            assert line.startswith("data: "), line
            data = line[len("data: "):]
            assert not done, "data after [DONE]"
            if data == "[DONE]":
                done = True
                continue
            chunk = json.loads(data)
            assert "error" not in chunk, chunk
            if chunk.get("usage"):
                usage = chunk["usage"]
                continue
            choice = chunk["choices"][0]
            if choice["delta"].get("content"):
                pieces.append(choice["delta"]["content"])
            if choice["finish_reason"]:
                finishes.append(choice["finish_reason"])
        assert done, "stream ended without [DONE]"
        assert len(finishes) == 1, finishes
        assert usage is not None, "no usage chunk"
        return "".join(pieces), len(pieces), finishes[0], usage
    finally:
        conn.close()


def run_load(base_url, clients=CLIENTS, per_client=REQUESTS_PER_CLIENT, log=print):
    """Runs the load; returns a dict of figures. Raises AssertionError on any failed or wrong request."""
    u = urllib.parse.urlparse(base_url)
    host, port = u.hostname, u.port
    assert host in ("127.0.0.1", "localhost", "::1"), "the load test only runs against loopback"

    # References first, one per variant, non-streamed.
    refs = {i: plain_request(host, port, i) for i in range(N_VARIANTS)}

    results, failures = [], []
    lock = threading.Lock()

    def client(c):
        for k in range(per_client):
            i = (c * per_client + k) % N_VARIANTS
            try:
                out = stream_request(host, port, i)
                with lock:
                    results.append((i, out))
            except Exception as e:  # noqa: BLE001 - every failure is reported below
                with lock:
                    failures.append(f"client {c} request {k} (variant {i}): {type(e).__name__}: {e}")

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT_S * per_client)
    elapsed = time.monotonic() - t0
    if any(t.is_alive() for t in threads):
        failures.append("some clients did not finish in time")

    mismatches = []
    tokens = 0
    for i, (text, n_chunks, finish, usage) in results:
        ref_text, ref_finish, ref_usage = refs[i]
        tokens += usage["completion_tokens"]
        if text != ref_text:
            mismatches.append(f"variant {i}: streamed {text!r} != plain {ref_text!r}")
        if finish != ref_finish:
            mismatches.append(f"variant {i}: finish {finish} != {ref_finish}")
        if (usage["prompt_tokens"], usage["completion_tokens"]) != (ref_usage["prompt_tokens"],
                                                                    ref_usage["completion_tokens"]):
            mismatches.append(f"variant {i}: usage {usage} != {ref_usage}")
        # One chunk per generated token, except where a token held back part of a
        # UTF-8 character (then its text rides with the next chunk).
        if n_chunks > usage["completion_tokens"] or (text.isascii() and n_chunks != usage["completion_tokens"]):
            mismatches.append(f"variant {i}: {n_chunks} chunks for {usage['completion_tokens']} tokens")

    figures = {
        "requests": len(results),
        "failed": len(failures),
        "mismatched": len(mismatches),
        "completion_tokens": tokens,
        "seconds": elapsed,
        "tokens_per_s": tokens / elapsed if elapsed > 0 else 0.0,
    }
    log(f"load test: {clients} clients x {per_client} streamed requests, max_tokens {MAX_TOKENS}: "
        f"{len(results)} ok, {len(failures)} failed, {len(mismatches)} mismatched; "
        f"{tokens} tokens in {elapsed:.1f} s = {figures['tokens_per_s']:.1f} tokens/s served")
    problems = failures + mismatches
    assert not problems, "\n".join(problems[:20])
    assert len(results) == clients * per_client
    return figures


def test_load_streaming_clients(server_factory, record_property):
    s = server_factory("-c", "1024", "--parallel", "4", "--queue", "64")
    figures = run_load(s.base_url)
    for k, v in figures.items():
        record_property(k, v)  # shown in the summary by conftest.py
    assert figures["completion_tokens"] > 0
    assert s.alive()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8080", help="a running ember serve (loopback only)")
    ap.add_argument("--clients", type=int, default=CLIENTS)
    ap.add_argument("--requests", type=int, default=REQUESTS_PER_CLIENT)
    args = ap.parse_args()
    try:
        run_load(args.url, min(args.clients, 256), min(args.requests, 64))
    except AssertionError as e:
        print(f"FAILED:\n{e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
