"""What the event log tells: the kinds of change, and how a reader names the ones it wants.

Each type is ``<resource>.<change>``; the resource part names the API resource whose new state
the event carries (``invoice`` → the ``GET /api/invoice/{id}`` shape).
"""

from __future__ import annotations

from enum import StrEnum

from minipos.domain.errors import Path, ValidationFailed


class EventType(StrEnum):
    INVOICE_CREATED = "invoice.created"
    INVOICE_OPENED = "invoice.opened"
    #: Back to New: the station released it, or its claim expired.
    INVOICE_RELEASED = "invoice.released"
    INVOICE_DONE = "invoice.done"
    INVOICE_CANCELLED = "invoice.cancelled"
    RECEIPT_CREATED = "receipt.created"
    REFUND_CREATED = "refund.created"
    SHIFT_OPENED = "shift.opened"
    SHIFT_CLOSED = "shift.closed"
    PRINT_JOB_FAILED = "print_job.failed"
    PRODUCT_CHANGED = "product.changed"
    PRODUCT_DELETED = "product.deleted"
    #: A bulk import: one event for all of it (read the catalogue feed for the products).
    CATALOGUE_IMPORTED = "catalogue.imported"
    MESSAGE_SENT = "message.sent"
    MESSAGE_FAILED = "message.failed"
    #: A store's outbox item the centre refused for good (same key, other content; or
    #: malformed three times): it is kept, not sent again, and its lane waits behind it.
    SYNC_QUARANTINED = "sync.quarantined"
    #: The centre: a store offered an item under the key of a stored one with other content;
    #: the centre kept its original and the offer (``sync_conflicts``).
    SYNC_CONFLICT = "sync.conflict"

    @property
    def resource(self) -> str:
        return self.value.partition(".")[0]


ALL = frozenset(EventType)


def select_types(names: list[str], path: Path) -> frozenset[EventType]:
    """The types a list of names selects: exact types, ``invoice.*`` for a resource, or ``*``.

    An unknown name is a client error (a typo would otherwise subscribe to nothing, silently).
    """
    chosen: set[EventType] = set()
    for raw in names:
        name = raw.strip()
        if name == "*":
            chosen |= ALL
        elif name.endswith(".*") and any(t.resource == name[:-2] for t in EventType):
            chosen |= {t for t in EventType if t.resource == name[:-2]}
        elif name in ALL:
            chosen.add(EventType(name))
        else:
            known = ", ".join(sorted(ALL))
            raise ValidationFailed.single(path, f"Unknown event type {name!r}; one of: {known}.")
    if not chosen:
        raise ValidationFailed.single(path, "Name at least one event type.")
    return frozenset(chosen)


def type_names(types: frozenset[EventType]) -> list[str]:
    """Stored and shown form: ``["*"]`` for every type, else the sorted names."""
    return ["*"] if types == ALL else sorted(types)
