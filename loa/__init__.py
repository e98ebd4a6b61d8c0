"""loa-xa's command line, `loa`: one module per command group."""

from common import __version__

__all__ = ["__version__"]
