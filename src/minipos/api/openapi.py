"""The OpenAPI 3.1 document, built from the declared operations and their msgspec types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from minipos.api.routing import PATH_PARAMETER, Operation

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_FIELD_ERRORS = {
    "type": "object",
    "description": 'DRF-style field errors: {"field": ["message"], "rows": [{}, {"price": ["…"]}]}'
    ' or {"non_field_errors": ["…"]} or {"detail": "…"} for unparsable JSON.',
    "additionalProperties": True,
}
_ERRORS = {
    "400": ("Invalid input; every field at fault is named.", _FIELD_ERRORS),
    "401": ("No or unknown API key.", _DETAIL),
    "403": ("The key's role may not do this.", _DETAIL),
    "404": ("No such resource.", _DETAIL),
    "409": ("Conflicts with the current state, or the same Idempotency-Key is in flight.", _DETAIL),
    "413": ("Request body too large.", _DETAIL),
    "415": ("Content-Type is not application/json.", _DETAIL),
    "422": ("Idempotency-Key reused with another request.", _DETAIL),
    "503": ("Database unavailable; retry.", _DETAIL),
}
#: Reads may conflict with state too (an X-report with no open shift is a 409).
_READ_ERRORS = ("400", "401", "403", "404", "409", "503")

#: OpenAPI links: an operation → the operations that take the ``id`` of what it answered, as
#: their one path parameter. Clients (and schemathesis's stateful runs) follow them from a new
#: invoice to its claim and completion, from a new station to its shift, and so on.
_LINKS: dict[str, tuple[str, ...]] = {
    "create_invoice": ("get_invoice", "claim_invoice", "cancel_invoice", "preview_invoice"),
    "claim_invoice": ("complete_invoice", "release_invoice", "cancel_invoice"),
    "complete_invoice": ("get_invoice", "preview_invoice"),
    "register_station": ("get_station", "open_shift", "x_report", "close_shift", "sell"),
    "sell": ("reprint_receipt", "preview_receipt"),
    "reprint_receipt": ("get_print_job", "retry_print_job"),
    "create_product": ("get_product", "replace_product", "patch_product", "delete_product"),
    "create_category": ("get_category", "replace_category", "delete_category"),
    "create_webhook": ("get_webhook", "patch_webhook", "list_deliveries", "delete_webhook"),
    "get_message": ("retry_message",),
    "create_key": ("get_key", "revoke_key"),
}

#: Decimals travel as JSON numbers; requests may also send them as strings (docs/decisions.md §1).
_DECIMAL_IN = {"anyOf": [{"type": "number"}, {"type": "string", "format": "decimal"}]}
_DECIMAL_OUT = {"type": "number"}
_EMPTY = {"type": "string", "maxLength": 0}


def build(operations: Iterable[Operation], *, title: str, version: str) -> dict[str, Any]:
    ops = list(operations)
    request_types = [op.body for op in ops if op.body is not None]
    response_types = [op.response for op in ops if op.response is not None]
    request_schemas, components = _schemas(request_types, _DECIMAL_IN)
    response_schemas, response_components = _schemas(response_types, _DECIMAL_OUT)
    components.update(response_components)
    components["Detail"] = _DETAIL
    components["FieldErrors"] = _FIELD_ERRORS

    paths: dict[str, dict[str, Any]] = {}
    path_of = {op.handler.__name__: op.path for op in ops}
    for op in ops:
        entry: dict[str, Any] = {
            "tags": [op.tag],
            "summary": op.summary,
            "operationId": op.handler.__name__,
            "security": [{"token": []}],
            "parameters": _parameters(op),
            "responses": {
                str(op.status): {
                    "description": "Success",
                    # JSON when the operation has a shape, and any other form it can answer
                    # in (a report's CSV) beside it.
                    "content": (
                        {
                            "application/json": {
                                "schema": response_schemas[response_types.index(op.response)]
                            }
                        }
                        if op.response is not None
                        else {}
                    )
                    | {media: {"schema": _document(media)} for media in op.media_types},
                }
            },
        }
        links = {
            target: {
                "operationId": target,
                "parameters": {PATH_PARAMETER.findall(path_of[target])[0]: "$response.body#/id"},
            }
            for target in _LINKS.get(op.handler.__name__, ())
        }
        if links:
            entry["responses"][str(op.status)]["links"] = links
        if op.description:
            entry["description"] = op.description
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": request_schemas[request_types.index(op.body)]}
                },
            }
        codes = _ERRORS if op.method in ("POST", "PUT", "PATCH") else _READ_ERRORS
        for code in codes:
            description, schema = _ERRORS[code]
            entry["responses"][code] = {
                "description": description,
                "content": {"application/json": {"schema": schema}},
            }
        paths.setdefault(op.path, {})[op.method.lower()] = entry

    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`Authorization: Bearer <key>` or `Authorization: Token <key>`",
                }
            },
        },
    }


def _schemas(types: list[Any], decimal: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    if not types:
        return [], {}
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    return _decimals(list(schemas), decimal), _decimals(components, decimal)


def _decimals(node: Any, decimal: dict[str, Any]) -> Any:
    """msgspec describes Decimal as a string; we read and write it as a number."""
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "decimal":
            return dict(decimal)
        return {key: _decimals(value, decimal) for key, value in node.items()}
    if isinstance(node, list):
        return [_decimals(value, decimal) for value in node]
    return node


def _document(media_type: str) -> dict[str, Any]:
    """The schema of a non-JSON body: text, or bytes of the given type."""
    if media_type.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "contentMediaType": media_type}


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
        }
        for name in PATH_PARAMETER.findall(op.path)
    ]
    if op.query is not None:
        for field in msgspec.structs.fields(op.query):
            # An empty value means "not given" (as DRF filters treat it), so say it is allowed.
            schema = {"anyOf": [msgspec.json.schema(field.type), _EMPTY]}
            params.append(
                {"name": field.encode_name, "in": "query", "required": False, "schema": schema}
            )
    for name, (schema, description) in op.extra_query.items():
        params.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": schema,
                "description": description,
            }
        )
    return params
