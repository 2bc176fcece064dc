"""Helpers shared by several test modules (imported as ``from _helpers import ...``;
pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import torch

from gancourse.homework import CheckResult, check

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def block_network(monkeypatch) -> None:
    """Let only loopback connections through for the rest of the test."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(self, address):
        if isinstance(address, tuple) and address[0] not in LOCAL_HOSTS:
            raise OSError("network disabled in tests")
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOCAL_HOSTS:
            raise socket.gaierror("network disabled in tests")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@contextlib.contextmanager
def http_server(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def sane_random_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random TFInception weights whose activations neither explode nor vanish.

    The default init shrinks activations layer after layer (FIDs of its features
    round to 0); He-scaled convolutions and batch-norm statistics near the identity
    keep them of order one.
    """
    from gancourse.metrics.inception import TFInception

    g = torch.Generator().manual_seed(seed)
    state = TFInception().state_dict()
    for key, value in state.items():
        if key.endswith("conv.weight"):
            fan_in = value[0].numel()
            state[key] = torch.randn(value.shape, generator=g) * (2 / fan_in) ** 0.5
        elif key.endswith(("running_var", "bn.weight")):
            state[key] = torch.rand(value.shape, generator=g) * 0.5 + 0.75
        elif key.endswith(("running_mean", "bn.bias")):
            state[key] = torch.randn(value.shape, generator=g) * 0.1
        elif key.startswith("fc."):
            state[key] = torch.randn(value.shape, generator=g) * 0.02
    return state


def run(exercise_id: str, fn) -> CheckResult:
    """The homework check, silently."""
    return check(exercise_id, fn, verbose=False)


def assert_pass(exercise_id: str, fn) -> None:
    res = run(exercise_id, fn)
    assert isinstance(res, CheckResult)
    assert res.passed and bool(res), res.line
    assert res.status == "passed"


def assert_fail(exercise_id: str, fn, *words: str) -> CheckResult:
    """The check rejects ``fn``; its one-line message mentions each of ``words``."""
    res = run(exercise_id, fn)
    assert not res and not res.passed, f"wrongly accepted: {res.line}"
    assert "\n" not in res.line
    assert "Traceback" not in res.line
    for word in words:
        assert word.lower() in res.line.lower(), (word, res.line)
    return res


def assert_one_line_verdicts(capsys, exercise_id: str, right, wrong, words) -> None:
    """``check`` prints "✓ id: correct" for ``right`` and one "✗ id: ..." line,
    without a traceback and mentioning each of ``words``, for ``wrong``."""
    assert check(exercise_id, right)
    assert capsys.readouterr().out == f"✓ {exercise_id}: correct\n"
    assert not check(exercise_id, wrong)
    out = capsys.readouterr().out
    assert out.startswith(f"✗ {exercise_id}: ") and out.count("\n") == 1
    assert "Traceback" not in out
    for word in words:
        assert word in out, (word, out)
