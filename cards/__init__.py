"""The gift card domain: pure values and rules, no I/O, no settings."""
