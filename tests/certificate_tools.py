"""Reading a certificate as a person and a till would: its text (pdftotext), its QR codes
(pdftoppm's raster decoded with zxing-cpp), and its raw streams (pypdf).

poppler-utils is a test requirement (``.ci/run`` installs it): without it these helpers fail the
test with the fix, never skip it.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import unicodedata
from pathlib import Path

import pytest

# Direction marks and embeddings pdftotext puts around right-to-left runs: not part of a name.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"), None)


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"{tool} is missing: install poppler-utils (apt-get install poppler-utils); "
            ".ci/run installs it on CI"
        )
    return path


def pdf_text(pdf: bytes) -> str:
    """The page's text as pdftotext reads it, NFC, without bidi controls, spaces collapsed."""
    done = subprocess.run(
        [_poppler("pdftotext"), "-enc", "UTF-8", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
        timeout=60,
    )
    found = unicodedata.normalize("NFC", done.stdout.decode("utf-8")).translate(_BIDI_CONTROLS)
    return " ".join(found.split())


def raster(pdf: bytes, dpi: int) -> bytes:
    """The first page as PNG at ``dpi``."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "page.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                _poppler("pdftoppm"),
                "-png",
                "-r",
                str(dpi),
                "-singlefile",
                str(source),
                str(Path(tmp) / "page"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return (Path(tmp) / "page.png").read_bytes()


def qr_codes(pdf: bytes, dpi: int = 150) -> list[str]:
    """What every QR code on the page says, as a scanner reads it from the raster."""
    import zxingcpp
    from PIL import Image

    with Image.open(io.BytesIO(raster(pdf, dpi))) as image:
        found = zxingcpp.read_barcodes(image.convert("L"))
    return [str(code.text) for code in found if code.format == zxingcpp.BarcodeFormat.QRCode]


def raw_streams(pdf: bytes) -> bytes:
    """Every stream of the file, decompressed, joined: what a curious reader could dig out."""
    from pypdf import PdfReader
    from pypdf.generic import StreamObject

    reader = PdfReader(io.BytesIO(pdf))
    chunks: list[bytes] = []
    size = reader.trailer["/Size"]
    assert isinstance(size, int)
    for number in range(1, size):
        obj = reader.get_object(number)
        if isinstance(obj, StreamObject):
            chunks.append(obj.get_data())
    return b"\n".join(chunks)
