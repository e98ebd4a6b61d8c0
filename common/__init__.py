"""Ground utilities every loa-xa package may import: the exception root, clocks and broker URLs.

It imports nothing from loa-xa's other packages. The `loa` package above it is the CLI only.
"""

__version__ = "0.1.0"
