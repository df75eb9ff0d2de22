"""What an alert channel receives, on 127.0.0.1: an HTTP endpoint for Apprise's json:// and an SMTP server for its
mailto://. Tests wait on what arrived (with a hang guard), never on the clock."""
import json
import socketserver
import threading
import time
from email import message_from_bytes
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG_GUARD_SECONDS = 60


class Arrivals:
    """Messages in the order they arrived, each with the monotonic time it arrived at."""

    def __init__(self):
        self.items = []
        self._arrived = threading.Condition()

    def add(self, item: dict) -> None:
        with self._arrived:
            self.items.append({**item, "at": time.monotonic()})
            self._arrived.notify_all()

    def wait_for(self, count: int) -> list[dict]:
        """The first `count` messages, once they are there (an AssertionError if they never come: a hang guard)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.items) >= count, timeout=HANG_GUARD_SECONDS):
                raise AssertionError(f"{count} message(s) expected, {len(self.items)} arrived: {self.items}")
            return list(self.items[:count])


class JsonReceiver(Arrivals):
    """Apprise's json:// posts {"title", "message", "type", ...}; `answer` is the HTTP status it gets back."""

    def __init__(self):
        super().__init__()
        self.answer = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.answer
                if status == 200:
                    receiver.add({"path": self.path, **json.loads(body)})
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "alerts") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver(Arrivals):
    """Enough of SMTP (RFC 5321) for smtplib without TLS: each DATA becomes a parsed e-mail."""

    def __init__(self):
        super().__init__()
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.reply("220 127.0.0.1 test SMTP")
                recipients = []
                while line := self.rfile.readline():
                    command = line.decode().strip()
                    verb = command.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self.reply("250-127.0.0.1", "250 8BITMIME")
                    elif verb == "RCPT":
                        recipients.append(command.split(":", 1)[1].strip(" <>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        data = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                        mail = message_from_bytes(data, policy=email_policy)
                        receiver.add({"to": recipients, "subject": mail["Subject"],
                                      "body": mail.get_body(("plain", "html")).get_content()})
                        recipients = []
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:  # HELO, MAIL, RSET, NOOP
                        self.reply("250 OK")

            def reply(self, *lines):
                self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
