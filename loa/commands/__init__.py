"""The `loa` command groups, one module each; each offers `add_commands(subparsers)`."""
