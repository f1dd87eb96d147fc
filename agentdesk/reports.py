"""The equipment sheet and the service report as documents (HTML), for printing to PDF.

Signatures are referenced by name (``signature-report``, ``signature-disk``); whoever renders
the document supplies the images.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Mapping
from typing import Any

from agentdesk.domain.customers import Customer, format_phone
from agentdesk.domain.visits import STATES, STEPS

REPORT_SIGNATURE = "signature-report"
DISK_SIGNATURE = "signature-disk"

STYLE = """
body { font-size: 10pt; }
h1 { font-size: 16pt; margin-bottom: 2pt; }
h2 { font-size: 12pt; margin-top: 10pt; margin-bottom: 2pt; }
td, th { padding: 2pt 6pt 2pt 0; vertical-align: top; }
th { text-align: left; }
.subtle { color: #475467; }
"""


def _e(value: object) -> str:
    return html.escape(str(value if value is not None else ""))


def _when(value: object, tz: dt.tzinfo) -> str:
    if not value:
        return ""
    return dt.datetime.fromisoformat(str(value)).astimezone(tz).strftime("%d %b %Y %H:%M")


def _lines(value: object) -> str:
    """Text with its line breaks kept."""
    return _e(value).replace("\n", "<br>")


def _rows(pairs: Iterable[tuple[str, object]]) -> str:
    return "".join(
        f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>" for label, value in pairs if value
    )


def equipment_html(
    customer: Customer,
    *,
    visit: Mapping[str, Any] | None = None,
    contacts: Iterable[Mapping[str, Any]] = (),
    visits: Iterable[Mapping[str, Any]] = (),
    tz: dt.tzinfo = dt.UTC,
) -> str:
    """The customer's equipment sheet: contact, every computer, the fault of the visit, the
    contact history and previous visits."""
    phones = ", ".join(f"{format_phone(p.number)} ({p.label})" for p in customer.phones)
    parts = [
        f"<h1>{_e(customer.name)}</h1>",
        f"<p class='subtle'>{_e(customer.organisation)} · tier {_e(customer.tier)}</p>",
        "<h2>Contact</h2><table>",
        _rows(
            [
                ("Phone", phones),
                ("E-mail", customer.email),
                ("Location", customer.location),
                ("Account manager", customer.account_manager),
                ("Time zone", customer.timezone),
            ]
        ),
        "</table>",
    ]
    if visit is not None:
        parts.append("<h2>This visit</h2><table>")
        parts.append(
            _rows(
                [
                    ("Computer", visit.get("device")),
                    ("Fault", visit.get("fault")),
                    (
                        "When",
                        f"{_when(visit.get('window_start'), tz)} – "
                        f"{_when(visit.get('window_end'), tz)}",
                    ),
                    ("Engineer", visit.get("engineer_name")),
                ]
            )
        )
        parts.append("</table>")
    parts.append("<h2>Computers</h2>")
    if not customer.devices:
        parts.append("<p>No computers on the sheet.</p>")
    for device in customer.devices:
        parts.append(f"<p><b>{_e(device.computer_name)}</b></p><table>")
        parts.append(
            _rows(
                [
                    ("Operating system", device.os),
                    ("CPU", device.cpu),
                    ("Memory", device.memory),
                    ("Disk", device.disk),
                    ("Network card", device.network_card),
                    ("IP addresses", ", ".join(device.ip_addresses)),
                    ("Software", ", ".join(device.software)),
                ]
            )
        )
        parts.append("</table>")
    history = list(contacts)
    parts.append("<h2>Contact history</h2>")
    if not history:
        parts.append("<p>No contacts yet.</p>")
    else:
        parts.append("<table><tr><th>When</th><th>How</th><th>What</th></tr>")
        for record in history[:20]:
            wrap = record.get("wrap_up") or {}
            notes = "; ".join(str(n.get("text", "")) for n in record.get("notes") or [])
            parts.append(
                f"<tr><td>{_e(_when(record.get('offered_at'), tz))}</td>"
                f"<td>{_e(record.get('channel'))}</td>"
                f"<td>{_e(wrap.get('category') or record.get('state'))} {_e(notes[:200])}</td></tr>"
            )
        parts.append("</table>")
    earlier = [v for v in visits if visit is None or v.get("id") != visit.get("id")]
    parts.append("<h2>Previous visits</h2>")
    if not earlier:
        parts.append("<p>None.</p>")
    for other in earlier[:10]:
        report = other.get("report") or {}
        parts.append(
            f"<p>{_e(_when(other.get('window_start'), tz))} · {_e(other.get('engineer_name'))}"
            f" · {_e(STATES.get(str(other.get('state')), other.get('state')))}: "
            f"{_e(other.get('fault'))} {_e(report.get('work_done') or '')}</p>"
        )
    return _document(parts)


def report_html(
    visit: Mapping[str, Any], customer: Customer | None, *, tz: dt.tzinfo = dt.UTC
) -> str:
    """The signed service report: work done, parts, time on site, the steps on site with the
    consents, the signature with the signer's name, and the rating."""
    report = visit.get("report") or {}
    name = customer.name if customer is not None else visit.get("customer_name")
    organisation = customer.organisation if customer is not None else ""
    parts = [
        "<h1>Service report</h1>",
        f"<p class='subtle'>{_e(name)} · {_e(organisation)}</p><table>",
        _rows(
            [
                ("Computer", visit.get("device")),
                ("Fault", visit.get("fault")),
                ("Engineer", visit.get("engineer_name")),
                ("Closed", _when(report.get("closed_at"), tz)),
                ("Time on site", f"{report.get('minutes_on_site')} min"),
            ]
        ),
        "</table>",
        "<h2>Work done</h2>",
        f"<p>{_lines(report.get('work_done'))}</p>",
    ]
    used = report.get("parts_used") or []
    if used:
        parts.append("<h2>Parts used</h2><table>")
        parts.extend(f"<tr><td>{_e(p['qty'])} ×</td><td>{_e(p['item'])}</td></tr>" for p in used)
        parts.append("</table>")
    steps = visit.get("steps") or {}
    parts.append("<h2>On site</h2><table>")
    for key, label in STEPS.items():
        done = steps.get(key)
        if not done:
            continue
        extra = ""
        if done.get("consent_by"):
            extra = f" — {done['consent_by']} ({done.get('how', 'in person')})"
        if key == "arrival":
            extra = " — on time" if done.get("on_time") else " — late"
        parts.append(
            f"<tr><td>{_e(_when(done.get('at'), tz))}</td><td>{_e(label + extra)}</td></tr>"
        )
    parts.append("</table>")
    if steps.get("disk_consent", {}).get("signature"):
        parts.append(
            "<h2>Consent to the disk operation</h2>"
            f"<p><img src='{DISK_SIGNATURE}' width='240'><br>"
            f"{_e(steps['disk_consent'].get('signer_name'))}</p>"
        )
    parts.append("<h2>Customer's confirmation</h2>")
    if report.get("signature"):
        parts.append(
            f"<p><img src='{REPORT_SIGNATURE}' width='280'><br>"
            f"Signed by {_e(report.get('signer_name'))}</p>"
        )
    else:
        parts.append(f"<p>Not signed: {_e(report.get('no_signature_reason'))}</p>")
    if report.get("rating"):
        stars = "★" * int(report["rating"]) + "☆" * (5 - int(report["rating"]))
        parts.append(f"<p>Rating: {stars} ({_e(report['rating'])} of 5)</p>")
    if report.get("comment"):
        parts.append(f"<p>Comment: {_lines(report['comment'])}</p>")
    return _document(parts)


def _document(parts: list[str]) -> str:
    return f"<html><head><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>"
