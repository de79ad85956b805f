"""Where an Accord process's log lines go: one line each on stderr, Accord's at the set level."""

from __future__ import annotations

import logging

# The packages whose loggers speak for Accord; every other library logs its warnings only.
ACCORD_PACKAGES = ("accord", "shared", "services")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Send log records to stderr: Accord's from `level` up, other libraries' from WARNING."""
    logging.basicConfig(level=logging.WARNING, format=FORMAT)
    for package in ACCORD_PACKAGES:
        logging.getLogger(package).setLevel(level)
