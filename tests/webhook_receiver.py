"""A real webhook receiver process: `python tests/webhook_receiver.py PORT LOG_FILE`.

Appends one JSON line per request ({"headers": {...}, "body": "..."}) to LOG_FILE and
answers 200, or the status in the file LOG_FILE.status if it exists.
"""

from __future__ import annotations

import http.server
import json
import pathlib
import sys

PORT, LOG = int(sys.argv[1]), pathlib.Path(sys.argv[2])


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with LOG.open("a") as log:
            log.write(json.dumps({"headers": dict(self.headers), "body": body.decode()}) + "\n")
        status_file = LOG.with_suffix(".status")
        status = int(status_file.read_text()) if status_file.exists() else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Receiver).serve_forever()
