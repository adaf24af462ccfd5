"""Ship or Skip: a self-hostable AI-tool verdict site."""

__version__ = "0.1.0"
