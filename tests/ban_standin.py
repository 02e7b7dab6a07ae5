"""A stand-in for the national address service (Base Adresse Nationale's geocoder), run as its own
process by the tests: GET /search/?q=...&limit=N answers the documented GeoJSON shape. It is the
one faked gateway of the suite; the words of the query choose how it misbehaves: « panne » a 503,
« lenteur » an answer too slow to wait for, « charabia » a body that is not JSON, « vide » no
feature. Usage: python -m tests.ban_standin PORT, or ``with running() as url`` in a test.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

LYON = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [4.835, 45.7578]},
    "properties": {
        "label": "12 Rue de la République 69002 Lyon",
        "score": 0.93,
        "postcode": "69002",
        "citycode": "69382",
        "city": "Lyon",
        "context": "69, Rhône, Auvergne-Rhône-Alpes",
    },
}
GRAVELINES = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [2.1256, 50.9869]},
    "properties": {
        "label": "Rue de la République 59820 Gravelines",
        "score": 0.71,
        "postcode": "59820",
        "citycode": "59273",
        "city": "Gravelines",
        "context": "59, Nord, Hauts-de-France",
    },
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query).get("q", [""])[0]
        if url.path != "/search/":
            self._send(404, b'{"code": 404}')
        elif "panne" in query:
            self._send(503, b"<html>maintenance</html>", "text/html")
        elif "lenteur" in query:
            time.sleep(10)
            self._send(200, b'{"type": "FeatureCollection", "features": []}')
        elif "charabia" in query:
            self._send(200, b"{pas du json")
        else:
            features = [] if "vide" in query else [LYON, GRAVELINES]
            body = {"type": "FeatureCollection", "query": query, "features": features}
            self._send(200, json.dumps(body).encode())

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client may have given up waiting (the timeout case).
        with contextlib.suppress(BrokenPipeError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def running() -> Iterator[str]:
    """The stand-in in a process of its own on a free port; its base URL while the block runs."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    root = Path(__file__).resolve().parents[1]
    server = subprocess.Popen([sys.executable, "-m", "tests.ban_standin", str(port)], cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the address service stand-in did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
