"""The per-user partdeck service: one process per state dir owns the engine and the journal;
every front end (TUI, CLI) attaches to it over a unix socket."""
