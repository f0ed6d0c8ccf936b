"""A real Chroma server (`chroma run`) on 127.0.0.1, started in its own process group and stopped with it.

Used by the store's server tests and by the web server's tests against a frozen or shared Chroma server.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaClientSettings

from common import free_port

CHROMA = Path(sys.executable).parent / "chroma"
HOST = "127.0.0.1"


@dataclass
class ChromaServer:
    host: str
    port: int
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass


def start_server(path: Path, log: Path, timeout: float = 60.0) -> ChromaServer:
    if not CHROMA.exists():
        pytest.skip(f"no chroma CLI at {CHROMA}")
    port = free_port(HOST)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(path), "--host", HOST, "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    server = ChromaServer(HOST, port, process)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"chroma run exited with {process.returncode}:\n{log.read_text(errors='replace')[-2000:]}"
            )
        try:
            chromadb.HttpClient(
                host=HOST, port=port, settings=ChromaClientSettings(anonymized_telemetry=False)
            ).heartbeat()
            return server
        except Exception:
            if time.monotonic() > deadline:
                server.stop()
                raise TimeoutError(
                    f"Chroma server on port {port} not up after {timeout} s:\n{log.read_text(errors='replace')[-2000:]}"
                ) from None
            time.sleep(0.2)
