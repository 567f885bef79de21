"""Standard Webhooks signatures, by the standardwebhooks package (what the clients verify)."""

from __future__ import annotations

import datetime

from standardwebhooks.webhooks import Webhook


def signed_headers(
    secret: str, message_id: str, at: datetime.datetime, body: bytes
) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64>` for one request."""
    signature = Webhook(secret).sign(message_id, at, body.decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
