"""Bad input gets an OpenAI-style JSON error with the right status, and the
server keeps serving: malformed JSON, wrong types, oversized bodies, prompts
beyond the context, a full queue, clients that hang up mid-stream."""
import http.client
import json
import socket
import time
import urllib.request

import pytest

from conftest import post_json

CHAT = "/v1/chat/completions"
HELLO = [{"role": "user", "content": "Hello"}]


def assert_error(status, body, want_status, param=None, words=()):
    assert status == want_status, body
    assert isinstance(body, dict) and "error" in body, body
    err = body["error"]
    assert isinstance(err["message"], str) and err["message"]
    assert err["type"] in ("invalid_request_error", "not_found_error", "authentication_error", "unavailable_error",
                           "server_error")
    if param is not None:
        assert err["param"] == param, err
    for w in words:
        assert w in err["message"], err
    return err


def assert_healthy(server):
    assert server.alive()
    status, body = post_json(server.base_url, CHAT, {"messages": HELLO, "max_tokens": 2})
    assert status == 200, body
    assert body["choices"][0]["message"]["role"] == "assistant"


def test_malformed_json(server):
    for raw in [b"{", b"{'messages': []}", b"not json", b"", b'{"messages": [}', b"\xff\xfe{}"]:
        status, body = post_json(server.base_url, CHAT, raw)
        err = assert_error(status, body, 400)
        assert err["type"] == "invalid_request_error"
    assert_healthy(server)


def test_body_must_be_an_object(server):
    for raw in [b"[1, 2]", b'"text"', b"42", b"null"]:
        status, body = post_json(server.base_url, CHAT, raw)
        assert_error(status, body, 400, words=("object",))


@pytest.mark.parametrize("field, value", [
    ("temperature", "hot"), ("temperature", 7), ("temperature", [1]), ("top_p", 1.5),
    ("top_p", "x"), ("max_tokens", 0), ("max_tokens", -3), ("max_tokens", 2.5), ("max_tokens", "10"),
    ("seed", "abc"), ("stream", "yes"), ("stop", 5), ("stop", [1, 2]), ("n", 2), ("logit_bias", [1]),
    ("logit_bias", {"abc": 1}), ("logit_bias", {"999999999": 1}), ("presence_penalty", 3),
    ("frequency_penalty", {}), ("stream_options", "x"), ("top_k", -1), ("min_p", 2), ("tools", "x"),
    ("tool_choice", 5), ("response_format", {"type": "json_schema"}), ("logprobs", True),
])
def test_wrong_field_is_named(server, field, value):
    status, body = post_json(server.base_url, CHAT, {"messages": HELLO, "max_tokens": 2, field: value})
    err = assert_error(status, body, 400)
    assert field in err["message"], err
    assert err["param"] == field, err


@pytest.mark.parametrize("messages, words", [
    ("hello", ("'messages' must be a list",)),
    ({"role": "user"}, ("'messages' must be a list",)),
    ([], ("must not be empty",)),
    ([1], ("messages[0]",)),
    ([{"content": "hi"}], ("messages[0].role",)),
    ([{"role": "wizard", "content": "hi"}], ("messages[0].role",)),
    ([{"role": "user", "content": 5}], ("messages[0].content",)),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}], ("image_url",)),
    ([{"role": "assistant", "content": None, "tool_calls": "x"}], ("tool_calls",)),
])
def test_bad_messages(server, messages, words):
    status, body = post_json(server.base_url, CHAT, {"messages": messages})
    assert_error(status, body, 400, param="messages", words=words)


def test_missing_messages(server):
    status, body = post_json(server.base_url, CHAT, {"model": "x"})
    assert_error(status, body, 400, param="messages", words=("required",))


def test_completion_and_embedding_input_types(server):
    status, body = post_json(server.base_url, "/v1/completions", {"prompt": {"a": 1}})
    assert_error(status, body, 400, param="prompt")
    status, body = post_json(server.base_url, "/v1/completions", {"prompt": [[-1, 2]]})
    assert_error(status, body, 400, param="prompt")
    status, body = post_json(server.base_url, "/v1/completions", {"prompt": [1, 2, 99999999]})
    assert_error(status, body, 400, param="prompt", words=("vocabulary",))
    status, body = post_json(server.base_url, "/v1/embeddings", {"input": 3})
    assert_error(status, body, 400, param="input")
    status, body = post_json(server.base_url, "/v1/embeddings", {"input": ""})
    assert_error(status, body, 400, param="input")
    status, body = post_json(server.base_url, "/v1/embeddings", {"input": "x", "encoding_format": "int8"})
    assert_error(status, body, 400, param="encoding_format")


def test_unknown_route_is_a_json_404(server):
    status, body = post_json(server.base_url, "/v1/nothing", {})
    assert_error(status, body, 404, words=("/v1/nothing",))
    status, body = post_json(server.base_url, "/v1/models/other-model", {})
    assert status == 404


def test_oversized_body_is_413(server):
    # The shared server accepts at most 1 MiB.
    big = json.dumps({"messages": [{"role": "user", "content": "x" * (2 << 20)}]}).encode()
    try:
        status, body = post_json(server.base_url, CHAT, big)
    except (ConnectionError, urllib.error.URLError) as e:  # the server may close before reading it all
        pytest.fail(f"no 413 answer: {e}")
    assert_error(status, body, 413, words=("1048576",))
    assert_healthy(server)


def test_prompt_beyond_the_context_names_the_counts(server):
    text = "hello " * 3000  # ~3000 tokens; the shared server has 2048 per sequence
    status, body = post_json(server.base_url, CHAT, {"messages": [{"role": "user", "content": text}]})
    err = assert_error(status, body, 400, param="messages", words=("2048",))
    assert "tokens" in err["message"]
    status, body = post_json(server.base_url, "/v1/completions", {"prompt": text})
    assert_error(status, body, 400, param="prompt", words=("2048",))
    status, body = post_json(server.base_url, "/v1/embeddings", {"input": text})
    assert_error(status, body, 400, param="input", words=("2048",))


def test_deeply_nested_json_does_not_crash(server):
    for raw in [b"[" * 100000, b'{"a":' * 50000 + b"1" + b"}" * 50000]:
        status, body = post_json(server.base_url, CHAT, raw)
        assert status == 400
    assert_healthy(server)


def test_garbage_bodies_never_crash_the_server(server):
    values = [None, True, -1, 0, 1e308, -1e308, "", "x" * 1000, [], {}, [None], {"": None}, 2**64, -(2**63)]
    fields = ["messages", "temperature", "top_p", "top_k", "max_tokens", "stop", "seed", "stream", "tools",
              "logit_bias", "n", "stream_options", "tool_choice", "min_p", "repeat_penalty", "prompt", "input"]
    for path in [CHAT, "/v1/completions", "/v1/embeddings"]:
        for f in fields:
            for v in values:
                if (f == "stream" and v is True) or (f == "max_tokens" and v is None):
                    continue  # a valid streaming request (not JSON); no token limit
                body = {"messages": HELLO, "prompt": "hi", "input": "hi", "max_tokens": 1, f: v}
                status, resp = post_json(server.base_url, path, body)
                assert status in (200, 400), (path, f, v, status, resp)
                if status == 400:
                    assert resp["error"]["type"] == "invalid_request_error"
    assert_healthy(server)


def read_sse_event(resp):
    """The next non-empty SSE line of an http.client response."""
    while True:
        line = resp.readline()
        if not line:
            return None
        line = line.strip()
        if line and not line.startswith(b":"):
            return line


def stream_request(port, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", CHAT, body=json.dumps(body), headers={"Content-Type": "application/json"})
    return conn, conn.getresponse()


def test_disconnect_mid_stream_frees_the_sequence(server_factory):
    # One sequence: if the hung-up request kept it, the next request could not start.
    s = server_factory("-c", "1024", "--parallel", "1", "--queue", "4")
    conn, resp = stream_request(s.port, {"messages": [{"role": "user", "content": "Write a very long essay."}],
                                         "stream": True, "max_tokens": 900, "temperature": 1.0, "seed": 1})
    assert resp.status == 200
    assert resp.getheader("Content-Type").startswith("text/event-stream")
    for _ in range(3):
        line = read_sse_event(resp)
        assert line.startswith(b"data: {"), line
    # Hang up abruptly (RST), mid-generation.
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.sock.close()
    conn.close()
    assert s.wait_for_log(r"client gone, request cancelled", timeout=30), s.log_text()[-3000:]
    assert_healthy(s)
    status, body = post_json(s.base_url, "/v1/completions", {"prompt": "The sky is", "max_tokens": 4})
    assert status == 200 and body["choices"][0]["text"]


def test_full_queue_is_503(server_factory):
    s = server_factory("-c", "1024", "--parallel", "1", "--queue", "0")
    conn, resp = stream_request(s.port, {"messages": HELLO, "stream": True, "max_tokens": 900,
                                         "temperature": 1.0, "seed": 2})
    assert read_sse_event(resp).startswith(b"data: {")  # the one sequence is busy now
    status, body = post_json(s.base_url, CHAT, {"messages": HELLO, "max_tokens": 2})
    assert_error(status, body, 503, words=("busy",))
    assert body["error"]["type"] == "unavailable_error"
    conn.close()
    # Once the streaming client is gone its sequence frees up again.
    deadline = time.monotonic() + 60
    while True:
        status, body = post_json(s.base_url, CHAT, {"messages": HELLO, "max_tokens": 2})
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200, body


def test_stream_error_after_a_bad_request_is_still_json(server):
    # stream=true with a bad field fails before streaming starts: a plain JSON 400.
    status, body = post_json(server.base_url, CHAT, {"messages": HELLO, "stream": True, "temperature": "hot"})
    assert_error(status, body, 400, param="temperature")
