"""Deadline warnings: when each dated promise is due, the warnings raised before and at its due
instant, and the worker that raises them (each service runs it for its own items)."""
