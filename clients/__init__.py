"""Adapters to the outside world, each behind a ``typing.Protocol`` port in :mod:`clients.ports`."""
