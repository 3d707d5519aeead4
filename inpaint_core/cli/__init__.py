"""Command-line interface: one module per command, each with ``add_arguments`` and ``run`` (see ``main.py``)."""
