"""Gift certificates as PDF (fpdf2): :class:`clients.ports.CertificatePort`.

The page itself is drawn by :mod:`clients.certificate` (layout, themes, artwork, fonts, QR code).
This module only defers it: fpdf2, fontTools, HarfBuzz, segno and the fonts load on the first
render, never when the daemon starts, so an idle daemon does not carry them.

A render that needs the CJK or emoji font parses a few megabytes of font tables (about 70 MB at
its peak); after it the collector runs and glibc is asked to give the freed heap back, so a
daemon that printed one Japanese name does not keep that peak resident.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

from clients._without_numpy import numpy_hidden
from clients.records import CertificateData


class FpdfCertificates:
    """Renders one landscape A5 page per certificate, in the look of the card's Theme."""

    def __init__(self, *, compress: bool = True) -> None:
        self._compress = compress

    def render(self, data: CertificateData) -> bytes:
        # fpdf2 and fontTools import numpy when they can (12 MB resident for work a
        # certificate never needs): hidden for the whole render, see clients._without_numpy.
        with numpy_hidden():
            from clients.certificate.page import render_certificate

            try:
                return render_certificate(data, compress=self._compress)
            finally:
                _give_memory_back()


def _give_memory_back() -> None:
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to ask
        return
    trim(0)
