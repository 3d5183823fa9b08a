"""Electronic receipt message shapes (docs/e-receipts.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from minipos.api.fields import QueryInt

ChannelName = Literal["email", "sms"]
MessageStatusName = Literal["pending", "sending", "sent", "failed"]


class MessageOut(Struct):
    """One receipt sent (or to be sent) to a customer by email or SMS."""

    id: int
    channel: str
    #: The email address or the phone number (digits, optional leading ``+``).
    recipient: str
    receipt_id: int
    invoice_id: int | None
    status: str
    #: Tries so far (since the message was queued, or since its last manual retry).
    attempts: int
    #: When the next try is due; only for pending messages.
    next_attempt_at: str | None
    #: Why the last try failed (the SMTP server's reply, the provider's error), or why the
    #: message could not be sent at all.
    last_error: str | None
    created_at: str
    sent_at: str | None


class MessageQuery(Struct, kw_only=True):
    receipt_id: QueryInt | None = None
    invoice_id: QueryInt | None = None
    status: MessageStatusName | None = None
    channel: ChannelName | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 1000
    offset: QueryInt = 0
    after_id: QueryInt | None = None
