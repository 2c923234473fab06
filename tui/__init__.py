"""partdeck: multipart uploads to storage providers, from a terminal UI or headless."""

__version__ = "0.1.0"
