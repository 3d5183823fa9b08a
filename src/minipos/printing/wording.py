"""Every word printed on receipts, slips and Z-reports, in one place per language."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ENGLISH", "LATVIAN", "Wording"]


@dataclass(frozen=True, slots=True)
class Wording:
    """Every word the layout prints; :data:`LATVIAN` is the default."""

    vat_number: str
    registration_number: str
    refund_title: str
    refund_of: str  # "{number}" is replaced with the original receipt's number
    copy: str
    non_fiscal: str
    discount: str
    document_discount: str
    subtotal: str
    vat_rate: str
    vat_net: str
    vat_tax: str
    vat_gross: str
    total: str
    refund_total: str
    change: str
    cashier: str
    station: str
    pos_id: str
    document: str
    z_number: str
    date: str
    chain_hash: str
    z_report: str
    shift_opened: str
    shift_closed: str
    receipt_count: str
    sales: str
    refunds: str
    turnover: str
    vat_total: str
    payments: str
    grand_total: str
    receipt_title: str
    supporting_document: str
    supporting_of: str  # "{number}": its number for this receipt, "{receipt}": the receipt's
    original_document: str
    chassis: str
    opened_by: str
    closed_by: str
    software: str
    fiscal_core: str
    document_counts: str
    count_sales: str
    count_refunds: str
    count_supporting: str
    count_cancelled: str
    count_training: str
    sale_discounts: str
    refund_discounts: str
    cash_drawer: str
    opening_float: str
    cash_sales: str
    cash_refunds: str
    cash_in: str
    cash_out: str
    cash_expected: str
    cash_counted: str
    cash_difference: str
    training_title: str
    training_number: str
    #: Cash rounding (docs/money.md): the receipt's rounding line and what cash pays, the Z's sum.
    cash_rounding: str = "Noapaļošana"
    to_pay: str = "Apmaksai"


#: Latvian shop wording (docs/decisions.md §11: the Latvian fiscal profile).
LATVIAN = Wording(
    vat_number="PVN reģ. Nr.",
    registration_number="Reģ. Nr.",
    refund_title="ATGRIEŠANA",
    refund_of="Atgriešana čekam Nr. {number}",
    copy="KOPIJA",
    non_fiscal="NEFISKĀLS DOKUMENTS",
    discount="Atlaide",
    document_discount="Čeka atlaide",
    subtotal="Starpsumma",
    vat_rate="Likme",
    vat_net="Bez PVN",
    vat_tax="PVN",
    vat_gross="Ar PVN",
    total="KOPĀ EUR",
    refund_total="ATMAKSAI EUR",
    change="Atlikums",
    cashier="Kasieris",
    station="Kase",
    pos_id="POS",
    document="Čeks Nr.",
    z_number="Z Nr.",
    date="Datums",
    chain_hash="Kontrolkods",
    z_report="Z ATSKAITE",
    shift_opened="Maiņa atvērta",
    shift_closed="Maiņa slēgta",
    receipt_count="Čeku skaits",
    sales="Pārdošana",
    refunds="Atgriešana",
    turnover="Apgrozījums",
    vat_total="PVN kopā",
    payments="Maksājumi",
    grand_total="Kopsumma (kopš sākuma)",
    receipt_title="ČEKS",
    supporting_document="ATTAISNOJUMA DOKUMENTS",
    supporting_of="Nr. {number} čekam Nr. {receipt}",
    original_document="Čeka Nr.",
    chassis="Šasijas Nr.",
    opened_by="Atvēra",
    closed_by="Slēdza",
    software="Programma",
    fiscal_core="Fiskālais kodols",
    document_counts="Dokumenti",
    count_sales="Čeki (pārdošana)",
    count_refunds="Atgriešanas čeki",
    count_supporting="Attaisnojuma dokumenti",
    count_cancelled="Atceltie rēķini",
    count_training="Mācību dokumenti",
    sale_discounts="Atlaides pārdošanā",
    refund_discounts="Atlaides atgriešanā",
    cash_drawer="Skaidrā nauda kasē",
    opening_float="Sākuma atlikums",
    cash_sales="Saņemta skaidrā nauda",
    cash_refunds="Izmaksāts atgriešanā",
    cash_in="Iemaksa",
    cash_out="Izmaksa",
    cash_expected="Jābūt kasē",
    cash_counted="Saskaitīts",
    cash_difference="Starpība",
    training_title="MĀCĪBU REŽĪMS",
    training_number="Mācību dok. Nr.",
)

ENGLISH = Wording(
    vat_number="VAT No.",
    registration_number="Reg. No.",
    refund_title="REFUND",
    refund_of="Refund of receipt No. {number}",
    copy="COPY",
    non_fiscal="NON-FISCAL DOCUMENT",
    discount="Discount",
    document_discount="Receipt discount",
    subtotal="Subtotal",
    vat_rate="Rate",
    vat_net="Net",
    vat_tax="VAT",
    vat_gross="Gross",
    total="TOTAL EUR",
    refund_total="REFUND EUR",
    change="Change",
    cashier="Cashier",
    station="Station",
    pos_id="POS",
    document="Receipt No.",
    z_number="Z No.",
    date="Date",
    chain_hash="Check code",
    z_report="Z REPORT",
    shift_opened="Shift opened",
    shift_closed="Shift closed",
    receipt_count="Receipts",
    sales="Sales",
    refunds="Refunds",
    turnover="Turnover",
    vat_total="VAT total",
    payments="Payments",
    grand_total="Grand total",
    receipt_title="RECEIPT",
    supporting_document="SUPPORTING DOCUMENT",
    supporting_of="No. {number} for receipt No. {receipt}",
    original_document="Of receipt No.",
    chassis="Chassis No.",
    opened_by="Opened by",
    closed_by="Closed by",
    software="Software",
    fiscal_core="Fiscal core",
    document_counts="Documents",
    count_sales="Sales receipts",
    count_refunds="Refund receipts",
    count_supporting="Supporting documents",
    count_cancelled="Cancelled invoices",
    count_training="Training documents",
    sale_discounts="Discounts on sales",
    refund_discounts="Discounts on refunds",
    cash_drawer="Cash drawer",
    opening_float="Opening float",
    cash_sales="Cash taken",
    cash_refunds="Cash refunded",
    cash_in="Cash in",
    cash_out="Cash out",
    cash_expected="Expected",
    cash_counted="Counted",
    cash_difference="Difference",
    training_title="TRAINING MODE",
    training_number="Training doc. No.",
    cash_rounding="Cash rounding",
    to_pay="To pay",
)
