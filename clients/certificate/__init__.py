"""The printable certificate: page layout, themes and artwork, fonts, QR code (see page.py)."""
