"""What the customer gets: the receipt as an email (text + HTML with the PNG) or an SMS line.

The email is the printed receipt, not a second layout: its text/plain part is the printer's
text preview and its HTML part shows the PNG preview inline (``cid:``), both from
:mod:`minipos.printing`'s one layout. So paper, preview and email cannot disagree. Structure::

    multipart/alternative
      text/plain; charset="utf-8"       intro line + the receipt text
      multipart/related
        text/html; charset="utf-8"      intro line + <img src="cid:…">
        image/png                       the receipt as printed, one pixel per printer dot

Everything is UTF-8 (headers RFC 2047-encoded by the standard library), so Latvian letters
arrive intact. The PNG is drawn in the previews' bounded pool (:mod:`minipos.printing.pool`),
under the same size and time limits; building it costs tens of milliseconds and waits for the
pool, so callers run this in a thread.
"""

from __future__ import annotations

import dataclasses
import email.utils
import html
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from minipos.printing import PrintableReceipt, PrinterProfile, pool, to_png, to_text
from minipos.printing.wording import Wording


@dataclass(frozen=True, slots=True)
class MessageWords:
    """The words of the email and the SMS around the receipt (the receipt has its own)."""

    language: str
    #: ``{number}`` and ``{shop}`` are replaced.
    subject: str
    intro: str
    receipt_number: str
    sms_refund: str
    thanks: str


LATVIAN_WORDS = MessageWords(
    language="lv",
    subject="Čeks Nr. {number} — {shop}",
    intro="Labdien! Nosūtām Jūsu čeku Nr. {number} ({shop}).",
    receipt_number="čeks Nr.",
    sms_refund="atmaksa",
    thanks="Paldies!",
)
ENGLISH_WORDS = MessageWords(
    language="en",
    subject="Receipt No. {number} — {shop}",
    intro="Hello! Here is your receipt No. {number} ({shop}).",
    receipt_number="receipt No.",
    sms_refund="refund",
    thanks="Thank you!",
)


def words_for(language: str) -> MessageWords:
    return ENGLISH_WORDS if language == "en" else LATVIAN_WORDS


@dataclass(frozen=True, slots=True)
class CustomerReceipt:
    """A receipt ready to be rendered for a customer."""

    document: PrintableReceipt
    #: The printer profile of the receipt's station: the email shows what the paper shows.
    profile: PrinterProfile
    wording: Wording
    words: MessageWords

    def __post_init__(self) -> None:
        # The customer's copy of the document: never a drawer pulse, never marked as a copy.
        document = dataclasses.replace(self.document, open_drawer=False, is_copy=False)
        object.__setattr__(self, "document", document)

    @property
    def shop_label(self) -> str:
        """The shop's name, or the station's when the shop has none configured."""
        return self.document.shop.name or self.document.station_name

    def fill(self, template: str) -> str:
        return template.format(number=self.document.document_id, shop=self.shop_label)


def receipt_text(receipt: CustomerReceipt) -> str:
    """The printer's text preview, without the paper cut mark."""
    text = to_text(receipt.document, receipt.profile, receipt.wording)
    lines = [line.rstrip() for line in text.splitlines() if not line.startswith("8<")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def build_email(
    receipt: CustomerReceipt, *, sender: str, recipient: str, message_id: int
) -> EmailMessage:
    """The receipt as an email from ``sender`` (``MINIPOS_MAIL_FROM``) to ``recipient``."""
    document = receipt.document
    domain = _domain(sender)
    intro = receipt.fill(receipt.words.intro)
    message = EmailMessage()
    message["Subject"] = receipt.fill(receipt.words.subject)
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = email.utils.format_datetime(datetime.now(UTC))
    # Stable across resends of this message (delivery is at least once): a mail client that
    # sees the same Message-ID twice may show it once. The chain hash makes it unique per shop.
    marker = document.chain_hash[:16] or document.document_id
    message["Message-ID"] = f"<receipt.{marker}.{message_id}@{domain}>"
    # RFC 3834: sent by a program, so autoresponders ("out of office") do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = receipt.words.language
    # Quoted-printable keeps the parts 7-bit: any relay takes them, 8BITMIME or not.
    message.set_content(
        f"{intro}\n\n{receipt_text(receipt)}", charset="utf-8", cte="quoted-printable"
    )

    image_id = email.utils.make_msgid("receipt", domain=domain)
    alt = f"{receipt.wording.document} {document.document_id}, {receipt.wording.total} "
    alt += f"{document.total:.2f}"
    message.add_alternative(
        _HTML.format(
            lang=receipt.words.language,
            title=html.escape(str(message["Subject"])),
            intro=html.escape(intro),
            cid=html.escape(image_id[1:-1]),
            alt=html.escape(alt),
        ),
        subtype="html",
        charset="utf-8",
        cte="quoted-printable",
    )
    png = pool.shared().render(
        pool.content_key("png", document, receipt.profile, receipt.wording),
        lambda deadline: to_png(document, receipt.profile, receipt.wording, deadline),
    )
    html_part = next(p for p in message.iter_parts() if p.get_content_type() == "text/html")
    html_part.add_related(
        png,
        maintype="image",
        subtype="png",
        cid=image_id,
        disposition="inline",
        filename=f"receipt-{document.pos_id}-{document.document_id}.png",
    )
    return message


def sms_text(receipt: CustomerReceipt) -> str:
    """One short line: shop, receipt number, total (marked on a refund), date and time."""
    document = receipt.document
    words = receipt.words
    refund = f"{words.sms_refund} " if document.refund_of is not None else ""
    when = document.printed_at.strftime("%d.%m.%Y %H:%M")
    # Latvian letters make it a UCS-2 SMS: 70 characters a segment, so every word counts.
    return (
        f"{receipt.shop_label}: {words.receipt_number} {document.document_id}, "
        f"{refund}{document.total:.2f} EUR, {when}. {words.thanks}"
    )


def _domain(address: str) -> str:
    found = email.utils.parseaddr(address)[1]
    return found.rpartition("@")[2] or "minipos.invalid"


_HTML = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="margin:0;padding:16px;background:#f2f2f2;font-family:sans-serif">
<p>{intro}</p>
<img src="cid:{cid}" alt="{alt}" style="max-width:100%;height:auto;background:#fff">
</body></html>
"""
