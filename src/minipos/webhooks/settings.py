"""Webhook delivery settings, read from ``MINIPOS_WEBHOOK_*`` like the other settings structs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import msgspec
from msgspec import Meta

from minipos.config import ConfigError, load_env
from minipos.webhooks.addresses import Network, parse_networks


class WebhookSettings(msgspec.Struct, frozen=True, kw_only=True):
    #: Run the webhook sender in this process.
    webhook_worker: bool = True
    #: Networks webhooks may reach besides public addresses (comma-separated CIDRs).
    webhook_allow_networks: str = ""
    #: One request may take this long (connect, send, answer) before it counts as failed.
    webhook_timeout_seconds: Annotated[float, Meta(gt=0, le=120)] = 10.0
    #: The first retry waits this long; each further one twice as long, up to the cap.
    webhook_backoff_seconds: Annotated[float, Meta(gt=0, le=3600)] = 5.0
    webhook_backoff_cap_seconds: Annotated[float, Meta(gt=0, le=86400)] = 3600.0
    #: A delivery still failing this long after its event is marked failed, and the
    #: endpoint's next events go on (the issue asks for at least 24 hours of retries).
    webhook_give_up_hours: Annotated[float, Meta(gt=0)] = 72.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookSettings:
        settings = load_env(cls, environ)
        settings.networks()  # fail at start-up, not at the first delivery
        return settings

    def check_retention(self, retention_days: int) -> None:
        """Events must outlive their deliveries' retries, or a late retry finds nothing to send."""
        if self.webhook_give_up_hours >= retention_days * 24:
            raise ConfigError(
                "MINIPOS_WEBHOOK_GIVE_UP_HOURS must be shorter than MINIPOS_EVENT_RETENTION_DAYS"
            )

    def networks(self) -> tuple[Network, ...]:
        try:
            return parse_networks(self.webhook_allow_networks)
        except ValueError as exc:
            raise ConfigError(f"MINIPOS_WEBHOOK_ALLOW_NETWORKS: {exc}") from exc

    def backoff_us(self, attempts: int) -> int:
        """The wait after the ``attempts``-th failed try: base, 2 × base, 4 × base, … ≤ cap."""
        seconds = self.webhook_backoff_seconds * 2 ** min(max(attempts - 1, 0), 40)
        return int(min(seconds, self.webhook_backoff_cap_seconds) * 1_000_000)
