"""``/api/products``, ``/api/categories`` and the read-only reference data
(``/api/taxes``, ``/api/fiscal-sections``, ``/api/payment-methods``)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from minipos.api import jsonio
from minipos.api.jsonio import (
    HTTPProblem,
    JSONResponse,
    canonical,
    decode,
    encode,
    read_body,
    require_json,
)
from minipos.api.paging import paged_response
from minipos.api.routing import Router
from minipos.appcontext import AppContext, context
from minipos.auth.access import ADMIN_ONLY, ANY_ROLE
from minipos.auth.principal import Principal
from minipos.catalogue import files
from minipos.catalogue.schemas import (
    CategoryDeleteQuery,
    CategoryIn,
    CategoryOut,
    CategoryQuery,
    FiscalSectionOut,
    ImportFieldChange,
    ImportOut,
    ImportQuery,
    ImportRowChange,
    ImportRowError,
    PaymentMethodOut,
    ProductChange,
    ProductIn,
    ProductOut,
    ProductPatch,
    ProductQuery,
    TaxOut,
    TaxRateOut,
)
from minipos.catalogue.service import (
    CatalogueContext,
    categories,
    import_export,
    products,
    sync_feed,
)
from minipos.db import Connection
from minipos.domain.errors import FieldError, Forbidden
from minipos.domain.money import json_number
from minipos.idempotency.service import StoredResponse, describe
from minipos.timeutil import now_us

router = Router("Catalogue")
reference_router = Router("Reference data")


def _catalogue(ctx: AppContext) -> CatalogueContext:
    # Reference data and the shop's timezone are configured once, beside the invoice settings.
    return CatalogueContext(reference=ctx.invoices.reference, zone=ctx.invoices.zone)


def _writable(request: Request) -> None:
    """A store's catalogue is a copy of its centre's: changed there, or it would diverge and
    be overwritten by the next pull (docs/stores.md)."""
    settings = context(request).settings
    if settings.mode == "store":
        raise Forbidden(
            f"The catalogue is kept at the centre ({settings.central_url}); change it there."
        )


async def _create(
    request: Request, document: object, make: Callable[[Connection], object]
) -> Response:
    """Run a create job and answer 201; ``document``, the decoded body, is what an
    ``Idempotency-Key`` replay must match, and the answer is kept in the job's transaction
    (minipos.idempotency)."""
    ctx = context(request)
    describe(lambda: canonical(document))
    stored = await ctx.db.write(lambda conn: StoredResponse(201, encode(make(conn))))
    return JSONResponse(stored.body, status_code=stored.status_code)


async def _body(request: Request) -> bytes:
    require_json(request)
    return await read_body(request, context(request).settings.max_body_bytes)


# --- products -------------------------------------------------------------------------------


@router.endpoint(
    "GET",
    "/api/products",
    summary="List products, or follow catalogue changes (the station sync feed)",
    roles=ANY_ROLE,
    query=ProductQuery,
    response=list[ProductOut],
    description=(
        "Without `updated_since`: live products in id order, filtered by `barcode`, `code`,"
        " `category`, `status`, and `search` (the name contains it in any case, or the code"
        " or a barcode is exactly it). With `updated_since` (a revision, or an ISO"
        " date-time): every product changed or deleted since, in change order, each with two"
        " more fields, `revision` and `deleted`; pass the last `revision` seen to get the next"
        " changes (the `Link: rel=next` header does). See docs/catalogue.md."
    ),
)
async def list_products(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    catalogue = _catalogue(ctx)
    query = jsonio.query(request, ProductQuery)
    if query.updated_since is None:
        items, total = await ctx.db.read(lambda conn: products.search(conn, query, catalogue))
        return paged_response(request, items, total, query.limit)
    changes, total = await ctx.db.read(lambda conn: sync_feed.changes(conn, query, catalogue))
    return _feed_page(request, changes, total, query.limit)


def _feed_page(
    request: Request, items: Sequence[ProductChange], total: int, limit: int
) -> Response:
    # As api.paging.paged_response, but the cursor of the feed is the last revision, not id.
    headers = {"X-Total-Count": str(total)}
    if items and len(items) == limit:
        params = dict(request.query_params)
        params.pop("offset", None)
        params["updated_since"] = str(items[-1].revision)
        params["limit"] = str(limit)
        headers["Link"] = f'<{request.url.replace_query_params(**params)}>; rel="next"'
    return JSONResponse(encode(items), headers=headers)


@router.endpoint(
    "GET", "/api/products/{id}", summary="One product", roles=ANY_ROLE, response=ProductOut
)
async def get_product(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    catalogue = _catalogue(ctx)
    product_id: int = request.path_params["id"]
    found = await ctx.db.read(lambda conn: products.get(conn, product_id, catalogue))
    return JSONResponse(encode(found))


@router.endpoint(
    "POST",
    "/api/products",
    summary="Create a product (basic: name and price; advanced: every field)",
    roles=ADMIN_ONLY,
    body=ProductIn,
    response=ProductOut,
    status=201,
    description='Money and quantities may be sent as JSON numbers or strings (`"1.00"`).',
)
async def create_product(request: Request, principal: Principal) -> Response:
    _writable(request)
    catalogue = _catalogue(context(request))
    product = decode(await _body(request), ProductIn)
    return await _create(
        request,
        product,
        lambda conn: products.create(conn, product, catalogue, now_us()),
    )


@router.endpoint(
    "PUT",
    "/api/products/{id}",
    summary="Replace a product (fields not sent take their defaults)",
    roles=ADMIN_ONLY,
    body=ProductIn,
    response=ProductOut,
)
async def replace_product(request: Request, principal: Principal) -> Response:
    _writable(request)
    ctx = context(request)
    catalogue = _catalogue(ctx)
    product_id: int = request.path_params["id"]
    product = decode(await _body(request), ProductIn)
    saved = await ctx.db.write(
        lambda conn: products.replace(conn, product_id, product, catalogue, now_us())
    )
    return JSONResponse(encode(saved))


@router.endpoint(
    "PATCH",
    "/api/products/{id}",
    summary="Change some fields of a product (a list sent replaces the whole list)",
    roles=ADMIN_ONLY,
    body=ProductPatch,
    response=ProductOut,
)
async def patch_product(request: Request, principal: Principal) -> Response:
    _writable(request)
    ctx = context(request)
    catalogue = _catalogue(ctx)
    product_id: int = request.path_params["id"]
    changes = decode(await _body(request), ProductPatch)
    saved = await ctx.db.write(
        lambda conn: products.patch(conn, product_id, changes, catalogue, now_us())
    )
    return JSONResponse(encode(saved))


@router.endpoint(
    "DELETE",
    "/api/products/{id}",
    summary="Delete a product (it stays in the sync feed as deleted)",
    roles=ADMIN_ONLY,
    status=204,
    description="Products that list it as an addon lose it from their `addons`.",
)
async def delete_product(request: Request, principal: Principal) -> Response:
    _writable(request)
    ctx = context(request)
    product_id: int = request.path_params["id"]
    await ctx.db.write(lambda conn: products.delete(conn, product_id, _catalogue(ctx), now_us()))
    return Response(status_code=204)


# --- import ---------------------------------------------------------------------------------

#: Its own limit, as ``/api/sync/push`` has: a catalogue file is far larger than any other
#: body (100,000 products with a barcode each is about 6 MB of CSV); MINIPOS_MAX_BODY_BYTES
#: does not apply (docs/catalogue.md).
MAX_IMPORT_BYTES = 64 * 1024 * 1024
_CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})


@router.endpoint(
    "POST",
    "/api/catalogue/import",
    summary="Import a catalogue file (CSV or JSON): create new products, update by code",
    roles=ADMIN_ONLY,
    query=ImportQuery,
    body=list[ProductIn],
    response=ImportOut,
    description=(
        "The body is the file: `text/csv` (the columns of `minipos catalogue import`; with `;`"
        " a decimal comma is read) or `application/json` (an array of products as"
        " `POST /api/products` takes them). A row whose `code` is a live product's updates it,"
        " others create products, rows equal to their product change nothing; all or nothing,"
        " one transaction. `dry_run=1` answers what would change and writes nothing; a file"
        " with bad rows answers 400, dry run or not, with the rows listed in `errors` in the same"
        f" body. Bodies up to {MAX_IMPORT_BYTES} bytes (`MINIPOS_MAX_BODY_BYTES` does not"
        " apply). See docs/catalogue.md."
    ),
)
async def import_catalogue(request: Request, principal: Principal) -> Response:
    _writable(request)
    ctx = context(request)
    query = jsonio.query(request, ImportQuery)
    rows, unit = await _import_rows(request)
    reference = _catalogue(ctx).reference

    def run(conn: Connection) -> import_export.ImportResult:
        return import_export.import_products(
            conn,
            rows,
            reference=reference,
            now_us=now_us(),
            unit=unit,
            dry_run=query.dry_run,
            show=query.show,
        )

    try:
        # A dry run reads only: it takes no revision lock, so it never waits for writers.
        result = await (ctx.db.read(run) if query.dry_run else ctx.db.write(run))
    except import_export.ImportFailed as failed:
        errors = [_row_error(error) for error in failed.errors]
        answer = ImportOut(
            dry_run=query.dry_run, unit=unit, rows=len(rows), created=0, updated=0,
            unchanged=0, changes=[], errors=errors,
        )  # fmt: skip
        # A dry run of a file with bad rows is a 400 too: the request would be refused.
        return JSONResponse(encode(answer), status_code=400)
    return JSONResponse(encode(_import_out(result, unit, len(rows))))


async def _import_rows(request: Request) -> tuple[list[import_export.SourceRow], str]:
    """The body as import rows: CSV or JSON by its ``Content-Type``; 400 for a file that
    cannot be read as a whole, naming why."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in _CSV_TYPES:
        require_json(request)
    body = await read_body(request, MAX_IMPORT_BYTES)
    try:
        if media in _CSV_TYPES:
            try:
                text = body.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise HTTPProblem(400, "The CSV file is not valid UTF-8.") from None
            if "\x00" in text:  # PostgreSQL text cannot hold NUL
                raise HTTPProblem(400, "The CSV file contains the NUL character.")
            return files.read_csv(io.StringIO(text, newline="")), "line"
        # The JSON body's checks first (depth, NUL, syntax): 400s as on every other route.
        decode(body, msgspec.Raw)
        return files.read_json(body), "index"
    except files.UnreadableFile as exc:
        raise HTTPProblem(400, f"Cannot read the file: {exc}") from None


def _row_error(error: FieldError) -> ImportRowError:
    line, *field = error.path or (0,)
    return ImportRowError(
        line=int(line), field=".".join(str(step) for step in field), message=error.message
    )


def _import_out(result: import_export.ImportResult, unit: str, rows: int) -> ImportOut:
    return ImportOut(
        dry_run=result.dry_run,
        unit=unit,
        rows=rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        changes=[
            ImportRowChange(
                line=change.line,
                action=change.action,
                id=change.id,
                code=change.code,
                name=change.name,
                changes=[
                    ImportFieldChange(field=c.field, before=c.before, after=c.after)
                    for c in change.changes
                ],
            )
            for change in result.changes
        ],
        errors=[],
    )


# --- categories -----------------------------------------------------------------------------


@router.endpoint(
    "GET",
    "/api/categories",
    summary="List categories in id order",
    roles=ANY_ROLE,
    query=CategoryQuery,
    response=list[CategoryOut],
)
async def list_categories(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    catalogue = _catalogue(ctx)
    query = jsonio.query(request, CategoryQuery)
    items, total = await ctx.db.read(lambda conn: categories.search(conn, query, catalogue))
    return paged_response(request, items, total, query.limit)


@router.endpoint(
    "GET", "/api/categories/{id}", summary="One category", roles=ANY_ROLE, response=CategoryOut
)
async def get_category(request: Request, principal: Principal) -> Response:
    ctx = context(request)
    catalogue = _catalogue(ctx)
    category_id: int = request.path_params["id"]
    found = await ctx.db.read(lambda conn: categories.get(conn, category_id, catalogue))
    return JSONResponse(encode(found))


@router.endpoint(
    "POST",
    "/api/categories",
    summary="Create a category (optionally under a parent category)",
    roles=ADMIN_ONLY,
    body=CategoryIn,
    response=CategoryOut,
    status=201,
)
async def create_category(request: Request, principal: Principal) -> Response:
    _writable(request)
    catalogue = _catalogue(context(request))
    category = decode(await _body(request), CategoryIn)
    return await _create(
        request,
        category,
        lambda conn: categories.create(conn, category, catalogue, now_us()),
    )


@router.endpoint(
    "PUT",
    "/api/categories/{id}",
    summary="Rename or move a category",
    roles=ADMIN_ONLY,
    body=CategoryIn,
    response=CategoryOut,
)
async def replace_category(request: Request, principal: Principal) -> Response:
    _writable(request)
    ctx = context(request)
    catalogue = _catalogue(ctx)
    category_id: int = request.path_params["id"]
    category = decode(await _body(request), CategoryIn)
    saved = await ctx.db.write(
        lambda conn: categories.replace(conn, category_id, category, catalogue, now_us())
    )
    return JSONResponse(encode(saved))


@router.endpoint(
    "DELETE",
    "/api/categories/{id}",
    summary="Delete a category (409 while products or child categories use it)",
    roles=ADMIN_ONLY,
    query=CategoryDeleteQuery,
    status=204,
    description=(
        "`detach=1`: set the category of its products to null (they show in the sync feed)"
        " and move its child categories up to its parent, then delete it."
    ),
)
async def delete_category(request: Request, principal: Principal) -> Response:
    _writable(request)
    ctx = context(request)
    category_id: int = request.path_params["id"]
    detach = jsonio.query(request, CategoryDeleteQuery).detach
    await ctx.db.write(
        lambda conn: categories.delete(conn, category_id, _catalogue(ctx), now_us(), detach=detach)
    )
    return Response(status_code=204)


# --- reference data (configuration, read-only) ----------------------------------------------


@reference_router.endpoint(
    "GET",
    "/api/taxes",
    summary="Tax groups: the `tax` of products and invoice rows, with its VAT rate",
    roles=ANY_ROLE,
    response=list[TaxOut],
)
async def list_taxes(request: Request, principal: Principal) -> Response:
    shop = context(request).invoices
    now = now_us()
    return JSONResponse(
        encode(
            [
                TaxOut(
                    t.id,
                    json_number(t.rate_at(now, shop.zone)),
                    t.name,
                    [
                        TaxRateOut(None if start is None else start.isoformat(), json_number(rate))
                        for start, rate in t.history()
                    ],
                )
                for t in shop.reference.taxes.values()
            ]
        )
    )


@reference_router.endpoint(
    "GET",
    "/api/fiscal-sections",
    summary="Fiscal sections (departments): the `fiscal_section` of products and rows",
    roles=ANY_ROLE,
    response=list[FiscalSectionOut],
)
async def list_fiscal_sections(request: Request, principal: Principal) -> Response:
    sections = context(request).invoices.reference.fiscal_sections.values()
    return JSONResponse(encode([FiscalSectionOut(s.id, s.name) for s in sections]))


@reference_router.endpoint(
    "GET",
    "/api/payment-methods",
    summary="Payment methods: the `method_id` of invoice payments",
    roles=ANY_ROLE,
    response=list[PaymentMethodOut],
)
async def list_payment_methods(request: Request, principal: Principal) -> Response:
    methods = context(request).invoices.reference.payment_methods.values()
    return JSONResponse(
        encode([PaymentMethodOut(m.id, m.code, m.name, m.is_cash) for m in methods])
    )
