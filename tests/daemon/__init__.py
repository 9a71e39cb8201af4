"""Tests of the daemon: lifecycle, lease, scheduler, endpoint, CLI."""
