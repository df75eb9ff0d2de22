"""A stranger's HTTP server on 127.0.0.1: it records the Basic-auth password of every request it gets (what a
server entry pointed at it would leak) and answers what the test sets, by path."""
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Enough of Hummingbot's shapes (docs/hummingbot-api.md §1) for a check and a status sync to go through.
HUMMINGBOT_LIKE = {
    "/": (200, "application/json", json.dumps({"name": "Hummingbot API", "version": "1.0.1", "status": "running"})),
    "/accounts/": (200, "application/json", "[]"),
    "/bot-orchestration/status": (200, "application/json", json.dumps({"status": "success", "data": {}})),
}


class Listener:
    def __init__(self):
        self.passwords: list[str] = []
        self.paths: list[str] = []
        self.answers = dict(HUMMINGBOT_LIKE)
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                header = self.headers.get("Authorization", "")
                if header.startswith("Basic "):
                    listener.passwords.append(base64.b64decode(header[6:]).decode().partition(":")[2])
                listener.paths.append(self.path)
                status, content_type, body = listener.answers.get(self.path.split("?")[0],
                                                                  (200, "application/json", "{}"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body.encode())))
                self.end_headers()
                self.wfile.write(body.encode())

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
