"""The single exception root shared by every loa-xa package."""


class LoaError(Exception):
    """Base of every error loa-xa raises on purpose."""
