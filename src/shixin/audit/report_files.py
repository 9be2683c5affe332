"""Writing the report: FILE (HTML) and FILE with the suffix .json (the same content), together.

Each file is written to a temporary file in its own directory, then renamed over the target, so a
Ctrl-C or a crash never leaves a half-written report; the two renames run with Ctrl-C held back,
so the HTML and the JSON on disk always come from the same report.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from shixin.audit.report_html import render_html
from shixin.projections.dumps import canonical_json
from shixin.runtime.logging import get_logger

log = get_logger(__name__)


def json_path_for(html_path: Path) -> Path:
    return html_path.with_suffix(".json")


def write_report(html_path: Path, content: Mapping[str, Any]) -> tuple[Path, Path]:
    """Render and write both files; return their paths (HTML, JSON)."""
    json_path = json_path_for(html_path)
    write_together({html_path: render_html(content), json_path: canonical_json(content)})
    log.debug("audit report written", html=str(html_path), json=str(json_path))
    return html_path, json_path


def write_together(files: Mapping[Path, str]) -> None:
    """Write every file atomically, all or none of them."""
    temps: dict[Path, str] = {}
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            temps[path] = tmp
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is for reading
        with _sigint_held():
            for path, tmp in list(temps.items()):
                os.replace(tmp, path)
                del temps[path]
    finally:
        for tmp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold a Ctrl-C back until the block is done, then deliver it as the process would have
    (a process started with SIGINT ignored, as a background job is, keeps ignoring it)."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous in (
        signal.SIG_IGN,
        None,  # (a handler not installed from Python: leave it be)
    ):
        yield
        return
    caught: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        caught.append(signum)

    signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            if callable(previous):  # Python's own handler raises KeyboardInterrupt
                previous(signal.SIGINT, None)
            else:
                raise KeyboardInterrupt  # SIG_DFL: the process would have stopped


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
