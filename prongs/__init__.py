"""The use cases: each prong's ``run_once(...)`` does one bounded run and returns a RunReport."""
