"""A certificate renderer that records what it was asked to show and returns a tiny PDF."""

from __future__ import annotations

from clients.records import CertificateData


class FakeCertificates:
    def __init__(self) -> None:
        self.rendered: list[CertificateData] = []

    def render(self, data: CertificateData) -> bytes:
        self.rendered.append(data)
        return b"%PDF-1.4\n% fake certificate\n%%EOF\n"


class RenderingCertificates(FakeCertificates):
    """Records what it was asked to show and renders it for real (fpdf2), keeping each PDF."""

    def __init__(self) -> None:
        super().__init__()
        self.pdfs: list[bytes] = []

    def render(self, data: CertificateData) -> bytes:
        from clients.pdf import FpdfCertificates

        super().render(data)
        self.pdfs.append(FpdfCertificates().render(data))
        return self.pdfs[-1]
