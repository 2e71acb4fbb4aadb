"""Command line (Typer + Rich): thin commands over the capability libraries."""
