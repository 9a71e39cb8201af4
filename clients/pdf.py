"""Gift certificates as PDF (fpdf2): :class:`clients.ports.CertificatePort`.

The page itself is drawn by :mod:`clients.certificate` (layout, themes, artwork, fonts, QR code).
This module only defers it: fpdf2, fontTools, HarfBuzz, segno and the fonts load on the first
render, never when the daemon starts, so an idle daemon does not carry them.
"""

from __future__ import annotations

from clients.records import CertificateData


class FpdfCertificates:
    """Renders one landscape A5 page per certificate, in the look of the card's Theme."""

    def __init__(self, *, compress: bool = True) -> None:
        self._compress = compress

    def render(self, data: CertificateData) -> bytes:
        from clients.certificate.page import render_certificate

        return render_certificate(data, compress=self._compress)
