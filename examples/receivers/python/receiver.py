"""A receiver that accepts only requests Hookline signed, checked with the `standardwebhooks`
library (the webhook-id, webhook-timestamp and webhook-signature headers):

    pip install -r requirements.txt
    HOOKLINE_SECRET=whsec_... PORT=3000 python3 receiver.py

It answers 204 to a verified request and 401 to any other, and prints one JSON line for each.
"""

import base64
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def verifier_for(secret: str) -> Webhook:
    """standardwebhooks reads a str secret as base64, after `whsec_` if it has it. Hookline signs
    with the decoded bytes of a `whsec_<base64>` secret, but with the UTF-8 bytes of any other
    secret string, so such a secret is handed over as the base64 of its UTF-8 bytes."""
    if secret.startswith("whsec_"):
        return Webhook(secret)
    return Webhook(base64.b64encode(secret.encode("utf-8")).decode("ascii"))


class Handler(BaseHTTPRequestHandler):
    webhook: Webhook

    def do_POST(self) -> None:
        # Verify the bytes as they came: parsed and serialised again, JSON would not match.
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            event = self.webhook.verify(body, headers)
        except WebhookVerificationError as error:
            report({"verified": False, "id": headers.get("webhook-id"), "error": str(error)})
            self.send_response(401)
            self.end_headers()
            return
        report({"verified": True, "id": headers.get("webhook-id"), "eventType": event.get("eventType")})
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # one JSON line per request is the whole output


def report(line: dict) -> None:
    print(json.dumps(line), flush=True)


def main() -> None:
    secret = os.environ.get("HOOKLINE_SECRET")
    if not secret:
        sys.exit("HOOKLINE_SECRET is required")
    Handler.webhook = verifier_for(secret)
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "3000"))), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
