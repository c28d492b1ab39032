#!/usr/bin/python3
"""Stand-ins for the outside world of notify's integration test and bench
(not part of the product).

  notify_sinks.py smtp PORT DIR [CERT KEY]
      An SMTP server on 127.0.0.1:PORT (Debian's python3-aiosmtpd), offering
      STARTTLS when CERT and KEY are given. Every message is kept once per
      Message-ID as DIR/mail/<sha1 of the Message-ID>.eml; a message whose
      Message-ID was seen before adds a line to DIR/mail-duplicates.log
      instead, so files count what arrived exactly once and the log what
      arrived twice, across restarts of the server. A recipient whose local
      part starts with "bounce" is refused with 550 (an address the relay
      does not know). DIR/mail-sessions.log gets "tls" or "plain" per message.

  notify_sinks.py sms PORT DIR
      An HTTP SMS gateway on 127.0.0.1:PORT: a POST with a JSON body
      {"mobile", "text", "id"} and an Idempotency-Key header is kept as
      DIR/sms/<key>.json (the body, plus the path and query it came to and
      its Authorization header) the first time, and counted in
      DIR/sms-duplicates.log after that; a mobile number ending in 0000 is
      refused with 400 (a number the gateway rejects).

Both write DIR/<mode>.ready once they listen, and run until killed.
"""
import asyncio
import email
import email.policy
import hashlib
import http.server
import json
import os
import signal
import ssl
import sys
import time

# seconds either server takes per message, after keeping it (NOTIFY_SINK_DELAY_MS)
DELAY = int(os.environ.get("NOTIFY_SINK_DELAY_MS") or 0) / 1000.0


def smtp(port, root, cert, key):
    from aiosmtpd.controller import Controller

    os.makedirs(os.path.join(root, "mail"), exist_ok=True)

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.split("@")[0].lower().startswith("bounce"):
                return "550 5.1.1 <%s>: recipient address rejected: no such user" % address
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            raw = envelope.original_content or envelope.content
            msg = email.message_from_bytes(raw, policy=email.policy.compat32)
            mid = (msg.get("Message-ID") or "").strip()
            name = hashlib.sha1(mid.encode()).hexdigest() + ".eml"
            path = os.path.join(root, "mail", name)
            with open(os.path.join(root, "mail-sessions.log"), "a") as f:
                f.write("%s %s\n" % ("tls" if session.ssl else "plain", mid))
            if os.path.exists(path):
                with open(os.path.join(root, "mail-duplicates.log"), "a") as f:
                    f.write(mid + "\n")
            else:
                with open(path + ".tmp", "wb") as f:
                    f.write(raw)
                os.rename(path + ".tmp", path)
            # The delay comes after the message is kept and before the client
            # hears 250: a client killed meanwhile has sent it without knowing.
            if DELAY:
                await asyncio.sleep(DELAY)
            return "250 Message accepted for delivery"

    ctx = None
    if cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=ctx,
                     require_starttls=False, ready_timeout=10)
    ctl.start()
    open(os.path.join(root, "smtp.ready"), "w").close()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    ctl.stop()


def sms(port, root):
    os.makedirs(os.path.join(root, "sms"), exist_ok=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n)
            try:
                doc = json.loads(body)
            except ValueError:
                return self.answer(400, {"error": "the body is not JSON"})
            key = self.headers.get("Idempotency-Key") or ""
            if not key or not all(c.isalnum() or c == "-" for c in key):
                return self.answer(400, {"error": "Idempotency-Key missing"})
            if str(doc.get("mobile", "")).endswith("0000"):
                return self.answer(400, {"error": "invalid mobile number"})
            path = os.path.join(root, "sms", key + ".json")
            if os.path.exists(path):
                with open(os.path.join(root, "sms-duplicates.log"), "a") as f:
                    f.write(key + "\n")
                return self.answer(200, {"status": "duplicate", "id": key})
            doc["_path"] = self.path
            doc["_authorization"] = self.headers.get("Authorization") or ""
            doc["_received_at"] = time.time()
            with open(path + ".tmp", "w") as f:
                json.dump(doc, f, ensure_ascii=False)
            os.rename(path + ".tmp", path)
            # As the SMTP server: kept first, answered after the delay.
            if DELAY:
                time.sleep(DELAY)
            return self.answer(200, {"status": "queued", "id": key})

        def answer(self, code, doc):
            data = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    open(os.path.join(root, "sms.ready"), "w").close()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    httpd.serve_forever()


if __name__ == "__main__":
    mode, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "smtp":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        smtp(port, root, *(sys.argv[4:6] if len(sys.argv) >= 6 else (None, None)))
    elif mode == "sms":
        sms(port, root)
    else:
        sys.exit("usage: notify_sinks.py smtp|sms PORT DIR [CERT KEY]")
