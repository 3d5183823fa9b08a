"""The invoice every POST of the benchmark sends (about 2 KB, 10 rows).

It is meant to look like a real supermarket receipt rather than a minimal valid document, so
that validation and pricing do their usual amount of work: Latvian letters in every text, a
weighed quantity, a percent and an amount row discount, tax groups 0/1/2, a document discount,
print blocks and two payments (a card amount and cash for the rest).
"""

from __future__ import annotations

import json
from typing import Any

#: Stands for the invoice number in the template; the wrk script puts a unique one there.
INVOICE_NO_PLACEHOLDER = "@@INVOICE_NO@@"


def _row(
    code: str,
    text: str,
    quantity: float,
    price: float,
    tax: int,
    **extra: Any,
) -> dict[str, Any]:
    return {"code": code, "text": text, "quantity": quantity, "price": price, "tax": tax, **extra}


def invoice(invoice_no: str) -> dict[str, Any]:
    """The benchmark invoice as a JSON-ready dict."""
    rows = [
        _row("4750000000012", "Piens Rīgas 2,5% tauku, 1 l pudelē", 2, 1.29, 2),
        _row("4750000000029", "Rudzu maize Lāči ar ķimenēm, 400 g", 1, 1.89, 0),
        _row(
            "2100000012357",
            "Āboli Gala, sveramie (Latvija)",
            1.235,
            2.49,
            2,
            is_weight=True,
            fiscal_section=2,
        ),
        _row(
            "4750000000043",
            "Siers Krējuma 45% šķēlēs, 200 g",
            1,
            3.45,
            0,
            discount=10,
            discount_type="percent",
        ),
        _row(
            "4750000000050",
            "Kafija malta Ļoti stipra, 250 g",
            1,
            4.99,
            0,
            discount=0.5,
            discount_type="amount",
        ),
        _row(
            "4750000000067",
            "Šokolāde Laima tumšā 70%, 100 g",
            3,
            1.59,
            0,
            info={"blocks": [{"kind": "text", "content": "Akcija: trešā tāfelīte par velti"}]},
        ),
        _row("4750000000074", "Minerālūdens Mangaļi gāzēts, 1,5 l", 2, 0.89, 0),
        _row("4750000000081", "Griķi Ķekava vārāmie maisiņos, 1 kg", 1, 2.15, 1),
        _row("4750000000098", "Žāvēta reņģe Ģimenes, 300 g", 1, 5.79, 1, fiscal_section=3),
        _row("0", "Iepirkumu maisiņš (papīra)", 1, 0.09, 0),
    ]
    return {
        "invoice_no": invoice_no,
        "mode": 1,
        "pos_id": 3,
        "discount": 1.0,
        "discount_type": "amount",
        "comment": "Klienta kartes atlaide; pasūtījums no e-veikala, saņemšana veikalā Nr. 3.",
        "print_paper_receipt": True,
        "info": {
            "header": [
                {"kind": "text", "content": "SIA Mazā Bodīte, Brīvības iela 1, Rīga"},
                {"kind": "text", "content": "Paldies, ka iepērkaties pie mums!"},
                {"kind": "barcode", "code": "4750000000012", "type": 2},
            ],
            "footer": [
                {"kind": "text", "content": "Preces apmaiņa 14 dienu laikā ar čeku."},
                {"kind": "text", "content": "Uz redzēšanos! Jūsu Mazā Bodīte"},
            ],
            "customer": {"phone": "+37120000000", "email": "janis.berzins@example.lv"},
        },
        "rows": rows,
        "payments": [
            {"method_id": 2, "amount": 20.0},
            {"method_id": 1, "amount": None},
        ],
    }


def encode(document: dict[str, Any]) -> bytes:
    # Real UTF-8, not \\u escapes: clients send the letters as they are.
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def template() -> bytes:
    """The body with :data:`INVOICE_NO_PLACEHOLDER` where the number goes."""
    body = encode(invoice(INVOICE_NO_PLACEHOLDER))
    assert body.count(INVOICE_NO_PLACEHOLDER.encode()) == 1
    return body


def body(invoice_no: str) -> bytes:
    return encode(invoice(invoice_no))
