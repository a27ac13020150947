"""Fixtures for the server tests: start `ember serve` on a free loopback port
with SmolLM2-135M-Instruct, stop it afterwards.

The binary is taken from $EMBER_BIN (the `ember` CLI) or $EMBER_SERVER_BIN
(ember-server), else from the first build directory that has one
(build/, then build-*/ newest first). The model comes from the model cache
($EMBER_MODEL_DIR or ~/.cache/ember/models); scripts/fetch-models is run if
it is missing, and the tests are skipped if that fails.
"""
import glob
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
START_TIMEOUT_S = 120


def shared_dir():
    d = os.environ.get("EMBER_SHARED_DIR") or os.path.join(ROOT, "..", "shared")
    return os.path.abspath(d)


def find_binary():
    """(argv prefix) for starting the server."""
    if os.environ.get("EMBER_BIN"):
        return [os.environ["EMBER_BIN"], "serve"]
    if os.environ.get("EMBER_SERVER_BIN"):
        return [os.environ["EMBER_SERVER_BIN"]]
    dirs = [os.path.join(ROOT, "build")]
    dirs += sorted(glob.glob(os.path.join(ROOT, "build-*")), key=os.path.getmtime, reverse=True)
    for d in dirs:
        cli = os.path.join(d, "examples", "ember")
        srv = os.path.join(d, "examples", "server", "ember-server")
        if os.access(srv, os.X_OK) and os.access(cli, os.X_OK):
            return [cli, "serve"]
    return None


def find_server_binary():
    """The stand-alone ember-server next to the CLI found by find_binary()."""
    argv = find_binary()
    if argv is None:
        return None
    if len(argv) == 1:
        return argv
    srv = os.path.join(os.path.dirname(argv[0]), "server", "ember-server")
    return [srv] if os.access(srv, os.X_OK) else argv


def find_model():
    cache = os.environ.get("EMBER_MODEL_DIR") or os.path.expanduser("~/.cache/ember/models")
    path = os.path.join(cache, MODEL_NAME)
    if os.path.exists(path):
        return path
    try:
        subprocess.run([os.path.join(ROOT, "scripts", "fetch-models")], check=True, timeout=900,
                       stdout=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as e:
        pytest.skip(f"model {MODEL_NAME} missing and scripts/fetch-models failed: {e}")
    if not os.path.exists(path):
        pytest.skip(f"model {MODEL_NAME} not in {cache} after scripts/fetch-models")
    return path


class Server:
    """A running server: base_url, the log it writes, the process."""

    def __init__(self, argv, log_path):
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "w+b")
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self.log, stdin=subprocess.DEVNULL)
        self.port = self._wait_for_port()
        self.base_url = f"http://127.0.0.1:{self.port}"

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _wait_for_port(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.log_text())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_text()}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not start within {START_TIMEOUT_S} s:\n{self.log_text()}")

    def wait_for_log(self, pattern, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.log_text()):
                return True
            time.sleep(0.05)
        return False

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        return self.proc.returncode


@pytest.fixture(scope="session")
def model_path():
    return find_model()


@pytest.fixture(scope="session")
def server_factory(model_path, tmp_path_factory):
    """start(*flags, binary=None) -> Server; every server started is stopped at the end."""
    base = find_binary()
    if base is None:
        pytest.skip("no ember build found (build it: cmake --build build --target ember-cli ember-server)")
    started = []

    def start(*flags, binary=None):
        argv = (binary or base) + ["-m", model_path, "--host", "127.0.0.1", "--port", "0", "-t", "2"] + list(flags)
        log_path = str(tmp_path_factory.mktemp("server") / "server.log")
        s = Server(argv, log_path)
        started.append(s)
        return s

    yield start
    for s in started:
        rc = s.stop()
        # A clean SIGTERM shutdown exits 0; anything else (a crash) fails the run.
        assert rc == 0, f"server {s.argv} exited with {rc}:\n{s.log_text()[-4000:]}"


@pytest.fixture(scope="session")
def server(server_factory):
    """The shared server: 4 sequences of 2048 positions, 1 MiB body limit, test hooks on."""
    return server_factory("-c", "2048", "--parallel", "4", "--max-body-bytes", "1048576", "--test-hooks")


@pytest.fixture(scope="session")
def client(server):
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key="unused", max_retries=0, timeout=120)


def post_json(base_url, path, body, headers=None, timeout=120):
    """(status, parsed JSON body) of a POST; body may be bytes (sent as is) or a JSON value."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(base_url + path, data=data, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw


def pytest_terminal_summary(terminalreporter):
    """The load test's figures, which -q would otherwise hide."""
    for rep in terminalreporter.stats.get("passed", []):
        props = dict(getattr(rep, "user_properties", []))
        if rep.when == "call" and "tokens_per_s" in props:
            terminalreporter.write_line(
                f"load test: {props['requests']} streamed requests, {props['completion_tokens']} tokens in "
                f"{props['seconds']:.1f} s = {props['tokens_per_s']:.1f} tokens/s served")
