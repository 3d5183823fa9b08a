"""Domain errors.

The hierarchy, all raised by domain and service code and mapped to HTTP by the API layer:

- ``DomainError``
  - ``ValidationFailed``: the input breaks a rule; carries every ``FieldError`` found (400).
  - ``NotFound``: the named resource does not exist or is not visible to the caller (404).
  - ``Conflict``: the request is valid but clashes with current state (409).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

#: A location in a request document: keys and list indexes, e.g. ``("rows", 1, "price")``.
#: The empty path means the document as a whole (rendered as ``non_field_errors``).
Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class FieldError:
    path: Path
    message: str


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class ValidationFailed(DomainError):
    """One or more rules are broken; ``errors`` lists each with its field path."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(f"{_dotted(e.path)}: {e.message}" for e in self.errors))

    @classmethod
    def single(cls, path: Path, message: str) -> ValidationFailed:
        return cls([FieldError(path, message)])


class NotFound(DomainError):
    """The resource does not exist (or the caller may not know that it does)."""

    def __init__(self, detail: str = "Not found.") -> None:
        self.detail = detail
        super().__init__(detail)


class Forbidden(DomainError):
    """The caller may see the resource but not do this to it."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class Conflict(DomainError):
    """The request clashes with the resource's current state."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


@dataclass
class ErrorCollector:
    """Gathers field errors so that a client learns of every problem in one response."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, path: Path, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def extend(self, prefix: Path, errors: Iterable[FieldError]) -> None:
        for error in errors:
            self.errors.append(FieldError(prefix + error.path, error.message))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __iter__(self) -> Iterator[FieldError]:
        return iter(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def _dotted(path: Path) -> str:
    return ".".join(str(p) for p in path) or "non_field_errors"
