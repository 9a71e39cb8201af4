"""``giftbridge cards export [--status S] [--out FILE] [--force]``: every card as CSV, for
accounting (the columns: :mod:`prongs.card_export`).

Pages of 100 cards are written as they arrive, so memory stays flat however many cards there are.
To stdout by default (UTF-8, no byte-order mark: a pipe's reader wants none). With ``--out`` the
file gets a byte-order mark (Excel then reads names in any script correctly) and mode 0600 (it
names card holders); it is written beside its final name and moved into place once complete, so
an interrupted export never leaves half a file under that name. An existing file is kept unless
``--force``; a symbolic link is never written through.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from cards.vocab import CardStatus
from clients.ports import Priority, priority
from clients.retry import RetryPolicy
from config.settings import Settings
from daemon import bootstrap
from daemon.bootstrap import BulkSetup
from prongs.bulk_import import ImportRefused
from prongs.card_export import COLUMNS, export_pages

BOM = "\ufeff"


def status_named(text: str) -> CardStatus:
    for status in CardStatus:
        if status.value.casefold() == text.strip().casefold():
            return status
    allowed = ", ".join(s.value for s in CardStatus)
    raise argparse.ArgumentTypeError(f"{text!r} is not a status (one of: {allowed})")


def export_cards(setup: BulkSetup, status: CardStatus | None, out: TextIO) -> int:
    """Write the header and every card's row to ``out``; returns the number of cards."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    with priority(Priority.BULK):
        names = {s.id: s.name for s in setup.airtable.stores()}
        for page in export_pages(setup.bulk, names, setup.currency, status):
            writer.writerows(page)
            out.flush()
            count += len(page)
    return count


def check_destination(path: Path, force: bool) -> None:
    if path.is_symlink():
        raise ImportRefused(f"{path} is a symbolic link: giftbridge does not write through links")
    if path.exists() and not force:
        raise ImportRefused(f"{path} exists: add --force to replace it, or name another file")
    if path.exists() and not path.is_file():
        raise ImportRefused(f"{path} is not a regular file")
    if not path.parent.is_dir():
        raise ImportRefused(f"{path.parent} is not a directory")


@contextmanager
def file_in_place(path: Path, force: bool) -> Iterator[TextIO]:
    """A new file beside ``path`` (0600), moved to ``path`` once written: never over an
    existing one unless ``force``, never through a symbolic link."""
    check_destination(path, force)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(BOM)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if force:
            check_destination(path, force)
            os.replace(temporary, path)  # replaces a link itself, never its target
        else:
            try:
                os.link(temporary, path)  # fails if anything, even a dangling link, is there
            except FileExistsError:
                raise ImportRefused(f"{path} appeared meanwhile: nothing was replaced") from None
            os.unlink(temporary)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def cmd_export(args: argparse.Namespace, settings: Settings, retry: RetryPolicy) -> int:
    out_path = Path(args.out) if args.out else None
    if out_path is not None:
        check_destination(out_path, args.force)
    connected, stop_sandbox = bootstrap.connect(settings)
    try:
        setup = bootstrap.bulk_setup(connected, retry)
        try:
            if out_path is None:
                if isinstance(sys.stdout, io.TextIOWrapper):
                    sys.stdout.reconfigure(newline="")  # csv writes its own line ends
                count = export_cards(setup, args.status, sys.stdout)
            else:
                with file_in_place(out_path, args.force) as handle:
                    count = export_cards(setup, args.status, handle)
        finally:
            setup.close()
    finally:
        stop_sandbox()
    where = f" to {out_path}" if out_path else ""
    which = f" {args.status.value}" if args.status else ""
    print(f"exported {count}{which} cards{where} (masked codes only)", file=sys.stderr)
    return 0
