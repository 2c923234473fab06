"""``auth ACCOUNT``: sign a Box account in (``auth = "oauth"``) over SSH, with no browser
on the server, or check a client-credentials one (``auth = "ccg"``).

The sign-in prints Box's authorize URL; the user opens it in any browser, grants access
and pastes back the code, or the whole address the browser ended on (its ``state`` is
checked). From a pipe the code is the first line of stdin. The tokens go into the state
dir's token store (0600), never on the screen.
"""

from __future__ import annotations

import sys
import time

from tui.cli.context import EXIT_OK, EXIT_USAGE, Context
from tui.cli.output import say
from tui.core.errors import UsageError
from tui.core.token_store import TokenStore

__all__ = ["cmd_auth"]


async def cmd_auth(ctx: Context) -> int:
    """Sign in (oauth), check (ccg) or, with ``--forget``, drop an account's tokens."""
    from tui.sign_in import BoxSignIn, check_client_credentials, signs_in

    account = ctx.config.account(ctx.args.account)
    store = TokenStore(ctx.state_dir)
    if ctx.args.forget:
        with store.locked():
            gone = store.forget(account.name)
        print(f"{account.name}: {'tokens removed' if gone else 'no tokens were stored'}")
        return EXIT_OK
    if not signs_in(account):
        raise UsageError(
            f'accounts.{account.name} uses a token it is given (auth = "token"); partdeck '
            'auth signs in Box accounts with auth = "oauth", or checks "ccg" and "jwt" ones'
        )
    if account.auth in ("ccg", "jwt"):
        until = _until(await check_client_credentials(account, store))
        what = "the client credentials" if account.auth == "ccg" else "the app's JWT assertion"
        print(f"{account.name}: Box accepted {what}; {until}")
        return EXIT_OK
    sign_in = BoxSignIn(account, store)
    answer = _ask(sign_in.url, account.name)
    if answer is None:
        say("no code was given; run partdeck auth again and paste the code Box shows")
        return EXIT_USAGE
    token = await sign_in.finish(answer)
    print(
        f"{account.name}: signed in; {_until(token.expires_at)}, renewed by itself from then "
        "on (tokens kept in the state dir, 0600)"
    )
    return EXIT_OK


def _ask(url: str, name: str) -> str | None:
    """Show the URL and read the code: typed at the terminal, or the first line piped in."""
    print(f"Sign {name} in to Box: open this URL in a browser (any machine will do),")
    print("grant access, then paste the code it shows, or the whole address it ends on.")
    print()
    print(f"  {url}")
    print()
    sys.stdout.flush()
    try:
        line = input("code or URL: ") if sys.stdin.isatty() else sys.stdin.readline()
    except EOFError:
        return None
    return line.strip() or None


def _until(expires_at: float | None) -> str:
    """When the access token runs out, for people."""
    if expires_at is None:
        return "the token has no stated expiry"
    left = max(0.0, expires_at - time.time())
    when = time.strftime("%H:%M", time.localtime(expires_at))
    if left < 120:
        return f"the access token runs out in {left:.0f} s ({when})"
    return f"the access token runs out in {left / 60:.0f} min ({when})"
