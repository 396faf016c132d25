"""Small helpers shared by the test modules: writing fixture files, stopping server processes."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path


def write_file(path: Path, content: str | bytes) -> Path:
    """Write text (UTF-8) or bytes, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative path: content} under `root`; returns `root`."""
    for relative, content in files.items():
        write_file(root / relative, content)
    return root


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a server started by a test, killing it if it does not exit in time."""
    proc.send_signal(signal.SIGCONT)  # a frozen (SIGSTOPped) server must be able to act on SIGTERM
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
