"""Server memory under a big request body: serve the app as `symbiose serve` does, stream a 200 MB
JSON body (anonymous, then with a valid token) to a protected route, and read the server's
resident memory (VmRSS, and its peak VmHWM) before and after. Writes bench/results/body-memory.json.

    .venv/bin/python bench/body_memory.py [--megabytes 200]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

RESULTS = Path(__file__).resolve().parent / "results" / "body-memory.json"
PASSWORD = "bench-password-long"


def _memory(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) // 1024  # MiB
    return fields


def _stream(port: int, path: str, size: int, token: str | None) -> tuple[str, int, float]:
    """Send `size` bytes of JSON with a Content-Length; returns the status line, the bytes the
    server let us send before answering or closing, and the seconds taken."""
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port))
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {size}",
    ]
    if token:
        head.append(f"Authorization: Bearer {token}")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    chunk = b"[" + b"1," * (512 * 1024 - 1) + b"1"  # 1 MiB of a JSON array, repeated
    sent = 0
    sock.settimeout(0.0)
    answer = b""
    try:
        while sent < size:
            try:
                answer += sock.recv(65536)
                if answer:
                    break  # the server answered before the body was sent
            except BlockingIOError:
                pass
            sock.setblocking(True)
            part = chunk[: min(len(chunk), size - sent)]
            sock.sendall(part)
            sent += len(part)
            sock.setblocking(False)
    except (BrokenPipeError, ConnectionResetError):
        pass
    sock.setblocking(True)
    sock.settimeout(300)
    try:
        while b"\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    sock.close()
    status = answer.split(b"\r\n", 1)[0].decode() or "(connection closed)"
    return status, sent, round(time.monotonic() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    size = args.megabytes * 1024 * 1024
    symbiose = str(Path(sys.executable).with_name("symbiose"))
    workdir = Path(tempfile.mkdtemp(prefix="body-memory-"))
    env = {**os.environ, "SYMBIOSE_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}"}
    subprocess.run([symbiose, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [symbiose, "users", "create", "bench@example.fr", "--role", "facilitator",
         "--password", PASSWORD],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [symbiose, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        token = httpx.post(
            f"{base}/api/v1/auth/token", json={"email": "bench@example.fr", "password": PASSWORD}
        ).json()["access_token"]
        results: dict[str, object] = {"megabytes": args.megabytes, "idle": _memory(server.pid)}
        for name, credential in (("anonymous", None), ("authenticated", token)):
            status, sent, seconds = _stream(port, "/api/v1/flows", size, credential)
            time.sleep(1)
            results[name] = {
                "status": status,
                "body_bytes_sent": sent,
                "seconds": seconds,
                "memory_after_mib": _memory(server.pid),
            }
        print(json.dumps(results, indent=2))
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
