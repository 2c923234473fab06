"""The themes shipped with partdeck (``*.toml``), installed as the package ``tui.themes``."""
