"""Loopback ports for tests that start the sandbox in another process."""

from __future__ import annotations

import random
import socket


def free_port_base() -> int:
    """A base N with N, N+1 and N+2 free on 127.0.0.1 (the sandbox's three services).

    The search starts at a random place, so test runs side by side (two checkouts, two CI jobs)
    rarely race for the same ports between this check and the sandbox binding them."""
    start = random.randrange(21000, 29000, 7)
    candidates: list[int] = [*range(start, 29000, 7), *range(21000, start, 7)]
    for base in candidates:
        sockets: list[socket.socket] = []
        try:
            for offset in range(3):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
        return base
    raise RuntimeError("no free ports")
