"""The process: composition root, scheduler, lease, lifecycle, HTTP endpoint, CLI."""
