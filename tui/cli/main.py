"""The ``partdeck`` command line: sub-commands that drive the engine headless.

Exit codes: 0 when everything asked for succeeded, 1 when an upload (or a remote call)
failed, 2 for usage and configuration errors. Errors are one line on stderr; an
unexpected one is logged with its traceback in the state dir, never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from tui import __version__
from tui.cli.listing import print_diagnosis, print_session, print_sessions
from tui.cli.output import line, print_json, say
from tui.cli.report import make_reporter, session_summary
from tui.config import (
    Config,
    inline_secret_warnings,
    load_config,
    resolve_config_path,
    resolve_state_dir,
)
from tui.core.bounds import check_setting
from tui.core.engine import Engine
from tui.core.errors import (
    ConfigError,
    LocalFileError,
    PartdeckError,
    SessionBusy,
    UsageError,
)
from tui.core.journal import Journal
from tui.core.liveness import is_interrupted
from tui.core.model import Session, SessionState
from tui.core.redact import redact
from tui.core.settings import EngineSettings
from tui.core.units import format_duration, format_size, parse_duration
from tui.runtime import open_engine, with_overrides
from tui.streams import guarded_streams

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_GOOD_END = frozenset({SessionState.COMPLETED, SessionState.ABORTED})

log = logging.getLogger("partdeck")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2."""

    def error(self, message: str) -> Any:
        raise UsageError(
            f"{message}; see partdeck {self.prog.split()[-1]} --help".replace(
                "partdeck partdeck", "partdeck"
            )
        )


def _setting(key: str, name: str) -> Callable[[str], int]:
    """An argparse type for a size or count option: the config's check, by its bounds.

    It raises UsageError, not ArgumentTypeError, so the line is the check's own (argparse
    would put "argument --part-size: " before it)."""

    def read(text: str) -> int:
        try:
            return check_setting(key, text, name, cli=True)
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    read.__name__ = name  # argparse names the type in some of its own messages
    return read


def _age(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""

    def common(default: object) -> _Parser:
        """--config and --state-dir, taken before the command or after it. After it, they
        default to nothing at all (SUPPRESS): a default there would overwrite a value
        given before the command."""
        p = _Parser(add_help=False)
        p.add_argument(
            "--config", metavar="PATH", default=default, help="config file (else $PARTDECK_CONFIG)"
        )
        p.add_argument(
            "--state-dir",
            metavar="DIR",
            default=default,
            help="journal and locks (else $PARTDECK_STATE_DIR)",
        )
        return p

    after_command = common(argparse.SUPPRESS)
    parser = _Parser(
        prog="partdeck",
        description="Multipart uploads to storage providers, from a terminal UI or headless.",
        parents=[common(None)],
    )
    parser.add_argument("--version", action="version", version=f"partdeck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str, *, json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, parents=[after_command])
        if json_flag:
            p.add_argument("--json", action="store_true", help="one JSON object per line")
        return p

    def bandwidth_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--bandwidth-limit",
            type=_setting("bandwidth_limit", "--bandwidth-limit"),
            metavar="SIZE",
            help="bytes per second across every upload, e.g. 50MB (else engine.bandwidth_limit)",
        )

    def session_arg(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("session", metavar="SESSION", help="session id or a unique prefix of it")
        return p

    p = command("upload", "upload files in parts to one account")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--account", required=True, metavar="NAME")
    p.add_argument(
        "--part-size",
        type=_setting("part_size", "--part-size"),
        metavar="SIZE",
        help="e.g. 8MiB, 100MB, 5242880",
    )
    p.add_argument(
        "--parts-in-flight",
        type=_setting("parts_in_flight", "--parts-in-flight"),
        metavar="N",
        help="parts sent at once, across every file",
    )
    p.add_argument("--no-complete", action="store_true", help="stop once every part is sent")
    bandwidth_flag(p)

    command("sessions", "list every session in the journal")
    session_arg(command("show", "show one session and every part"))
    p = command("resume", "carry on with a session")
    session_arg(p)
    p.add_argument("--no-complete", action="store_true", help="stop once every part is sent")
    bandwidth_flag(p)
    p = command("retry", "send parts of a session again")
    session_arg(p)
    bandwidth_flag(p)
    p.add_argument(
        "parts",
        nargs="*",
        type=_setting("part", "PART"),
        metavar="PART",
        help="part numbers (default: every failed part)",
    )
    p = session_arg(command("complete", "finish a session whose parts are all sent"))
    p.add_argument(
        "--force",
        action="store_true",
        help="send complete again where the provider allows it once and its outcome is unknown",
    )
    session_arg(command("abort", "discard a session's remote upload"))
    session_arg(command("verify", "re-hash the local file against the recorded fingerprints"))
    session_arg(command("inspect", "why a session is stuck: journal, local file and server"))
    p = command("remote", "incomplete uploads the server holds, joined with the journal")
    p.add_argument("--account", required=True, metavar="NAME")
    p.add_argument("--older-than", type=_age, metavar="AGE", help="e.g. 2h, 7d")
    p.add_argument("--prefix", default="", metavar="P", help="key prefix below the account's")
    p.add_argument("--abort", action="store_true", help="abort what is listed (asks on a TTY)")
    p.add_argument("--yes", action="store_true", help="do not ask before aborting")
    command(
        "demo",
        "upload a sample file to every provider of an in-process sandbox, offline",
        json_flag=False,
    )
    p = command(
        "sandbox",
        "serve every provider's emulator on loopback and write a config for them",
        json_flag=False,
    )
    p.add_argument(
        "--faults",
        metavar="SPEC",
        help="faults to inject: name=value,... (e.g. part_500=0.1,box.commit_202=2) or a "
        ".toml file",
    )
    p.add_argument(
        "--write-config",
        metavar="PATH",
        help="where to write the config (default: STATE_DIR/sandbox/config.toml)",
    )
    return parser


# -- helpers ---------------------------------------------------------------------------------


class Context:
    """Resolved config and state dir for one invocation."""

    def __init__(self, args: argparse.Namespace) -> None:
        explicit = args.config or os.environ.get("PARTDECK_CONFIG")
        self.config_path = resolve_config_path(args.config)
        self.state_dir = resolve_state_dir(args.state_dir)
        self._config: Config | None = None
        self._explicit = bool(explicit)
        self.args = args
        self.sandbox: Any = None
        self.notice: str | None = None
        """The in-process sandbox, when there is no config at all (stopped by main)."""
        try:
            # Something that is there but not a file (a directory, a pipe) is for
            # load_config to name; only a path with nothing at all is "not found".
            found = self.config_path.exists()
        except OSError as exc:
            raise ConfigError(
                f"config file {self.config_path} cannot be read ({exc.strerror}); make it and "
                "its directories readable by this user"
            ) from None
        if self._explicit and not found:
            raise ConfigError(
                f"config file {self.config_path} not found; create it (see sample-config.toml) "
                "or fix --config / PARTDECK_CONFIG"
            )

    @property
    def config(self) -> Config:
        """The loaded config (loaded on first use)."""
        if self._config is None:
            self._config = load_config(self.config_path, must_exist=self._explicit)
            if self.args.command is not None:  # the UI shows them as notifications instead
                for warning in inline_secret_warnings(self._config):
                    say(f"warning: {warning}")
        return self._config

    def config_or_sandbox(self, *, quiet: bool = False) -> Config:
        """The config; with no config file at all, an in-process sandbox's accounts.

        The notice saying so goes to stderr, or to ``self.notice`` when ``quiet``.
        """
        config = self.config
        if config.path is not None:
            return config
        from tui.sandbox.foreground import start_in_process

        self.sandbox, path = start_in_process(self.state_dir)
        self.notice = (
            f"no config at {self.config_path}, so an in-process sandbox serves the "
            "sandbox-* accounts; its uploads go when partdeck exits (partdeck sandbox keeps "
            "one running; sample-config.toml shows a real config)"
        )
        if not quiet:
            say(self.notice)
        self._config = load_config(path, must_exist=True)
        return self._config

    def journal(self) -> Journal:
        """The journal, for read-only commands."""
        return Journal.open(self.state_dir)


async def _drive(
    ctx: Context,
    engine: Engine,
    sessions: list[Session],
    run: Callable[[Session], Awaitable[Session]],
) -> list[Session]:
    """Run ``run`` for every session with a reporter attached; return the final sessions."""
    reporter = make_reporter(engine, as_json=getattr(ctx.args, "json", False))
    reporter.track(sessions)
    unsubscribe = engine.subscribe(reporter)
    try:
        finished = await asyncio.gather(*(run(s) for s in sessions))
    finally:
        unsubscribe()
    reporter.finish(finished)
    return list(finished)


def _exit_for(sessions: Sequence[Session], *, no_complete: bool = False) -> int:
    """The exit code for how ``sessions`` ended.

    Each session that did not end well also gets its one line on stderr, naming the
    file, where it stands and the fix: stdout may be ``--json`` or a pipe, and the error
    must reach whoever runs the command.
    """
    good = set(_GOOD_END)
    if no_complete:
        good.add(SessionState.UPLOADED)
    bad = [s for s in sessions if s.state not in good]
    for s in bad:
        reason = s.error or f"see why with partdeck inspect {s.id[:8]}"
        say(f"{os.path.basename(s.path)} ({s.id[:8]}) {s.state}: {reason}")
    return EXIT_FAILED if bad else EXIT_OK


def _settings(ctx: Context) -> EngineSettings:
    """The config's engine settings with this command's flags over them."""
    return with_overrides(
        ctx.config.engine,
        parts_in_flight=getattr(ctx.args, "parts_in_flight", None),
        bandwidth_limit=getattr(ctx.args, "bandwidth_limit", None),
    )


def _age_text(seconds: float) -> str:
    return format_duration(seconds) + " ago"


# -- commands --------------------------------------------------------------------------------


async def cmd_upload(ctx: Context) -> int:
    args = ctx.args
    if args.account.startswith("sandbox-"):
        await asyncio.to_thread(ctx.config_or_sandbox)
    ctx.config.account(args.account)  # unknown account: one clear line before anything else
    settings = _settings(ctx)
    async with open_engine(ctx.config, ctx.state_dir, settings) as engine:
        sessions = [await engine.plan(f, args.account, args.part_size) for f in args.files]
        complete = False if args.no_complete else None
        done = await _drive(
            ctx, engine, sessions, lambda s: engine.run(s.id, auto_complete=complete)
        )
    return _exit_for(done, no_complete=args.no_complete or not settings.auto_complete)


async def cmd_resume(ctx: Context) -> int:
    session = ctx.journal().find(ctx.args.session)
    if session.state == SessionState.COMPLETED:
        # Resuming what a crash may have finished is a normal step in a script: say so.
        if ctx.args.json:
            print_json(session_summary(session))
        else:
            line(f"{session.id[:12]}: already completed -> {session.location}; nothing to resume")
        return EXIT_OK
    async with open_engine(ctx.config, ctx.state_dir, _settings(ctx)) as engine:
        complete = False if ctx.args.no_complete else None
        done = await _drive(
            ctx, engine, [session], lambda s: engine.run(s.id, auto_complete=complete)
        )
    return _exit_for(done, no_complete=ctx.args.no_complete or not ctx.config.engine.auto_complete)


async def cmd_retry(ctx: Context) -> int:
    session = ctx.journal().find(ctx.args.session)
    async with open_engine(ctx.config, ctx.state_dir, _settings(ctx)) as engine:

        async def retry(s: Session) -> Session:
            queued = await engine.retry(s.id, ctx.args.parts or None)
            if not queued and not ctx.args.json:
                line(f"{s.id[:12]}: no failed parts to retry")
            return await engine.wait(s.id)

        done = await _drive(ctx, engine, [session], retry)
    return _exit_for(done, no_complete=not ctx.config.engine.auto_complete)


async def cmd_complete(ctx: Context) -> int:
    session = ctx.journal().find(ctx.args.session)
    async with open_engine(ctx.config, ctx.state_dir) as engine:
        done = await _drive(
            ctx, engine, [session], lambda s: engine.complete(s.id, force=ctx.args.force)
        )
    return _exit_for(done)


async def cmd_abort(ctx: Context) -> int:
    session = ctx.journal().find(ctx.args.session)
    async with open_engine(ctx.config, ctx.state_dir) as engine:
        done = await _drive(ctx, engine, [session], lambda s: engine.abort(s.id))
    return _exit_for(done)


async def cmd_verify(ctx: Context) -> int:
    session = ctx.journal().find(ctx.args.session)
    async with open_engine(ctx.config, ctx.state_dir) as engine:
        results = await engine.verify(session.id)
    bad = [n for n, ok in results if ok is False]
    unknown = [n for n, ok in results if ok is None]
    if ctx.args.json:
        for number, ok in results:
            print_json({"event": "verify", "session": session.id, "part": number, "match": ok})
        print_json(
            {
                "event": "summary",
                "session": session.id,
                "mismatched": bad,
                "unhashed": unknown,
                "ok": not bad,
            }
        )
    else:
        checked = len(results) - len(unknown)
        line(
            f"{session.id[:12]}  {session.path}: {checked - len(bad)}/{checked} fingerprinted "
            f"parts match" + (f"; {len(unknown)} never hashed" if unknown else "")
        )
        if bad:
            line(f"mismatched parts: {', '.join(map(str, bad))}; the file changed since upload")
    return EXIT_OK if not bad else EXIT_FAILED


async def cmd_inspect(ctx: Context) -> int:
    session = ctx.journal().find(ctx.args.session)
    async with open_engine(ctx.config, ctx.state_dir) as engine:
        d = await engine.inspect(session.id)
    print_diagnosis(d, ctx.state_dir, as_json=ctx.args.json)
    return EXIT_OK


def cmd_sessions(ctx: Context) -> int:
    print_sessions(ctx.journal(), ctx.state_dir, as_json=ctx.args.json)
    return EXIT_OK


def cmd_show(ctx: Context) -> int:
    journal = ctx.journal()
    session = journal.find(ctx.args.session)
    print_session(session, journal.parts(session.id), ctx.state_dir, as_json=ctx.args.json)
    return EXIT_OK


async def cmd_remote(ctx: Context) -> int:
    args = ctx.args
    ctx.config.account(args.account)
    journal = ctx.journal()
    known = journal.by_upload_id()
    async with open_engine(ctx.config, ctx.state_dir) as engine:
        provider = engine.provider(args.account)
        uploads = await provider.list_uploads(args.prefix)
        now = time.time()
        if args.older_than is not None:
            uploads = [
                u for u in uploads if u.initiated is None or now - u.initiated >= args.older_than
            ]
        rows = []
        for u in uploads:
            session = known.get(u.upload_id)
            matches = None
            if session is not None:
                try:
                    info = os.stat(session.path)
                    matches = info.st_size == session.size and info.st_mtime_ns == session.mtime_ns
                except OSError:
                    matches = False
            rows.append((u, session, matches))
        for u, session, matches in rows:
            if args.json:
                print_json(
                    {
                        "event": "remote",
                        "key": u.key,
                        "upload_id": u.upload_id,
                        "initiated": u.initiated,
                        "parts": u.parts,
                        "bytes": u.bytes,
                        "session": session.id if session else None,
                        "session_state": str(session.state) if session else None,
                        "session_interrupted": (
                            is_interrupted(session, ctx.state_dir) if session else None
                        ),
                        "local_matches": matches,
                    }
                )
            else:
                age = _age_text(now - u.initiated) if u.initiated else "?"
                local = (
                    f"session {session.id[:12]} ({engine.shown_state(session)}, file "
                    f"{'matches' if matches else 'changed or gone'})"
                    if session
                    else "not in the journal"
                )
                line(
                    f"{u.key}  {u.upload_id[:24]}  {u.parts} parts  {format_size(u.bytes)}  "
                    f"{age}  {local}"
                )
        total = sum(u.bytes for u, _, _ in rows)
        if not args.json:
            line(f"{len(rows)} incomplete upload(s) holding {format_size(total)}")
        if not args.abort or not rows:
            return EXIT_OK
        if not args.json:
            line(f"aborting discards {len(rows)} upload(s) and frees {format_size(total)}")
        if sys.stdin.isatty() and not args.yes:
            answer = await asyncio.to_thread(input, "abort them? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                line("nothing aborted")
                return EXIT_OK
        failed = 0
        for u, session, _ in rows:
            try:
                if session is not None and not session.final:
                    await engine.abort(session.id)
                else:
                    await provider.abort_upload(u.key, u.upload_id)
                ok, error = True, None
            except PartdeckError as exc:
                ok, error, failed = False, str(exc), failed + 1
            if args.json:
                print_json(
                    {
                        "event": "aborted" if ok else "error",
                        "key": u.key,
                        "upload_id": u.upload_id,
                        "message": error,
                    }
                )
            elif ok:
                line(f"aborted: {u.key} {u.upload_id[:24]}")
            if not ok:  # the problem and its fix: once, on stderr
                say(f"abort failed: {u.key} {u.upload_id[:24]}: {error}")
    return EXIT_OK if not failed else EXIT_FAILED


def cmd_ui(ctx: Context) -> int:
    """The terminal UI (``partdeck`` with no sub-command)."""
    from tui.ui.app import run_app

    config = ctx.config_or_sandbox(quiet=True)
    notices = [ctx.notice] if ctx.notice else []
    notices += inline_secret_warnings(config)
    handler = _log_handler(ctx.state_dir)  # the app's internal errors go here, redacted
    try:
        asyncio.run(run_app(config, ctx.state_dir, notices=notices))
    finally:
        if handler is not None:
            log.removeHandler(handler)
            handler.close()
    return EXIT_OK


def cmd_demo(ctx: Context) -> int:
    from tui.demo import run_demo

    # On a terminal the uploads run in the TUI; piped or in CI, as a progress line.
    handler = _log_handler(ctx.state_dir)  # the app's internal errors go here, redacted
    try:
        return run_demo(ctx.state_dir, interactive=sys.stdin.isatty() and sys.stdout.isatty())
    finally:
        if handler is not None:
            log.removeHandler(handler)
            handler.close()


def cmd_sandbox(ctx: Context) -> int:
    from pathlib import Path

    from tui.sandbox.foreground import run_sandbox

    out = Path(ctx.args.write_config).expanduser() if ctx.args.write_config else None
    return run_sandbox(ctx.state_dir, faults_text=ctx.args.faults, config_out=out)


_ASYNC_COMMANDS: dict[str, Callable[[Context], Awaitable[int]]] = {
    "upload": cmd_upload,
    "resume": cmd_resume,
    "retry": cmd_retry,
    "complete": cmd_complete,
    "abort": cmd_abort,
    "verify": cmd_verify,
    "inspect": cmd_inspect,
    "remote": cmd_remote,
}
_SYNC_COMMANDS: dict[str, Callable[[Context], int]] = {
    "sessions": cmd_sessions,
    "show": cmd_show,
    "demo": cmd_demo,
    "sandbox": cmd_sandbox,
}


async def _run_interruptible(coro: Awaitable[int]) -> int:
    """Run a command; SIGINT/SIGTERM pause the engine (sessions stay resumable)."""
    task = asyncio.ensure_future(coro)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        say("interrupted; sessions are paused, resume with partdeck resume SESSION")
        return EXIT_INTERRUPTED


class _RedactingFormatter(logging.Formatter):
    """Log lines with URL signatures and tokens cut out."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _log_handler(state_dir: Path) -> logging.FileHandler | None:
    """Attach a redacting 0600 log file in the state dir to the partdeck logger."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = state_dir / "partdeck.log"
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        handler = logging.FileHandler(path)
    except OSError:
        return None
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    return handler


def _log_unexpected(ctx: Context | None) -> str:
    """Write the current exception's traceback to a log file; return where."""
    state_dir = ctx.state_dir if ctx is not None else resolve_state_dir(None)
    handler = _log_handler(state_dir)
    if handler is None:
        return "nowhere (the state dir is not writable)"
    log.exception("unexpected error")
    log.removeHandler(handler)
    handler.close()
    return handler.baseFilename


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line; a file whose name starts with "-" gets its own advice."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        return build_parser().parse_args(words)
    except UsageError:
        before = words[: words.index("--")] if "--" in words else words
        for word in before:
            if word.startswith("-") and os.path.lexists(word):
                raise UsageError(
                    f"{word} looks like an option but is a file here; put file names that "
                    f"start with - after -- (partdeck upload --account NAME -- {word}) or "
                    f"write ./{word}"
                ) from None
        raise


_READING_COMMANDS = frozenset({"sessions", "show", "inspect", "verify", "remote"})
"""Commands whose whole work is their output: losing it (other than to a reader that left)
is their failure."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``partdeck`` console script.

    stdout and stderr are guarded: a reader that closes the pipe (``| head -1``) ends the
    output quietly and never the work; an upload goes on to its end.
    """
    with guarded_streams() as guards:
        ctx: Context | None = None
        try:
            ctx, code = _main(argv)
        finally:
            problem = guards.write_error()
        if problem is None:
            return code
        say(problem)
        command = ctx.args.command if ctx is not None else None
        return EXIT_FAILED if code == EXIT_OK and command in _READING_COMMANDS else code


def _main(argv: Sequence[str] | None) -> tuple[Context | None, int]:
    """Run one command; the context (when it got that far) and the exit code."""
    ctx: Context | None = None
    try:
        args = _parse(argv)
        ctx = Context(args)
        if args.command is None:
            return ctx, cmd_ui(ctx)
        if args.command in _SYNC_COMMANDS:
            return ctx, _SYNC_COMMANDS[args.command](ctx)
        return ctx, asyncio.run(_run_interruptible(_ASYNC_COMMANDS[args.command](ctx)))
    except (ConfigError, UsageError, LocalFileError, SessionBusy) as exc:
        say(str(exc))
        return ctx, EXIT_USAGE
    except PartdeckError as exc:
        say(str(exc))
        return ctx, EXIT_FAILED
    except KeyboardInterrupt:
        say("interrupted")
        return ctx, EXIT_INTERRUPTED
    except Exception as exc:
        where = _log_unexpected(ctx)
        say(
            f"internal error ({type(exc).__name__}); nothing uploaded is lost, "
            f"details in {where}; please report it"
        )
        return ctx, EXIT_FAILED
    finally:
        if ctx is not None and ctx.sandbox is not None:
            ctx.sandbox.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
