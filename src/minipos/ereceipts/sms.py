"""SMS receipts: the sender interface, the logging sender, and loading a provider's sender.

No SMS provider account exists here, so the default sender (``MINIPOS_SMS_SENDER=log``) only
writes the text to the server log. A provider plugs in as ``package.module:factory``: a
callable without arguments that returns an object with ``send(to, text)``, imported once at
start-up (docs/e-receipts.md has an example). ``send`` runs in a worker thread and may block.
"""

from __future__ import annotations

import importlib
import logging
from typing import Protocol, runtime_checkable

from minipos.config import ConfigError

# The loggers keep the names docs/e-receipts.md publishes: log configurations select them.
log = logging.getLogger("minipos.messages.sms")


class PermanentSmsError(Exception):
    """The provider refused this message for good (an unknown number): it is not retried.

    Any other exception from :meth:`SmsSender.send` counts as temporary and is retried with
    backoff until the give-up time.
    """


@runtime_checkable
class SmsSender(Protocol):
    def send(self, to: str, text: str) -> None:
        """Send ``text`` to ``to`` (digits with an optional leading ``+``); raise on failure."""
        ...


class LoggingSmsSender:
    """Writes each SMS to the log (logger ``minipos.ereceipts.sms``): nothing leaves the host."""

    def send(self, to: str, text: str) -> None:
        log.info("SMS to %s: %s", to, text)


def load_sms_sender(spec: str) -> SmsSender:
    """The sender ``MINIPOS_SMS_SENDER`` names: ``log``, or ``package.module:factory``."""
    spec = spec.strip()
    if spec in ("", "log"):
        return LoggingSmsSender()
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(
            f"MINIPOS_SMS_SENDER: {spec!r} is neither 'log' nor 'package.module:factory'"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # an import may fail with anything its module raises
        raise ConfigError(f"MINIPOS_SMS_SENDER: cannot import {module_name!r}: {exc!r}") from exc
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ConfigError(f"MINIPOS_SMS_SENDER: {module_name!r} has no callable {attribute!r}")
    try:
        sender = factory()
    except Exception as exc:
        raise ConfigError(f"MINIPOS_SMS_SENDER: {spec} failed: {exc!r}") from exc
    if not isinstance(sender, SmsSender):
        raise ConfigError(
            f"MINIPOS_SMS_SENDER: {spec} returned {type(sender).__name__}, which has no "
            "send(to, text) method"
        )
    return sender
