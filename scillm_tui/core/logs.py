"""Debug logging (`SCILLM_DEBUG=1`): requests and timings, never keys."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from scillm_tui.core.redact import RedactingFilter

LOGGER_NAME = "scillm_tui"


def configure_logging(debug: bool, log_file: Path | None = None) -> Path | None:
    """Send scillm_tui's debug log to `log_file` (the TUI) or stderr (the CLI).

    Every handler carries a filter that masks registered secrets, as a second line of
    defence: no code path logs a header or a key in the first place.
    """
    logger = logging.getLogger(LOGGER_NAME)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    if not debug:
        logger.setLevel(logging.WARNING)
        logger.addHandler(logging.NullHandler())
        return None
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return log_file
