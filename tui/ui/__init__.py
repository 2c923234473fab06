"""The Textual app: screens, widgets and the glue to the engine."""
