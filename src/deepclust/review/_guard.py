"""What keeps the review app closed to everyone but the person who started it: a secret token (given once in the
address, then kept in an HttpOnly, SameSite=Strict cookie), a Host header that names this machine (no DNS rebinding),
and state-changing requests only from the page itself (its Origin, a JSON body). Every request passes here first:
pages, the API, thumbnails and images alike."""

from __future__ import annotations

import secrets
import socket
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The query parameter that carries the token in the address the command prints.
TOKEN_PARAMETER = "token"
#: Headers on every answer: nothing sniffed, framed, cached or referred; scripts and pictures only from the app.
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
}
#: The addresses that reach this machine only (the default, and no warning).
LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("0.0.0.0", "::", "")


def allowed_hosts(host: str, port: int) -> set[str]:
    """The Host headers that name this server: the loopback names, and with another ``host`` (``--host``) that
    address and this machine's name; listening on every interface (``0.0.0.0``), each interface's address."""
    names = set(LOOPBACK)
    if host not in LOOPBACK:
        names |= {host, socket.gethostname(), socket.getfqdn()}
    if host in WILDCARDS:
        import psutil

        names |= {a.address.split("%")[0] for addrs in psutil.net_if_addrs().values() for a in addrs
                  if a.family in (socket.AF_INET, socket.AF_INET6)}
    return {f"{f'[{n}]' if ':' in n else n}:{port}".lower() for n in names if n}


def reachable_name(host: str) -> str:
    """The name to print in the address: ``host``, or this machine's name when listening on every interface."""
    return socket.gethostname() if host in WILDCARDS else host


class Guard:
    """ASGI middleware that answers 403 to a request without the token, with a Host header of another name, or (a
    state-changing one) from another origin or without a JSON body; the token in the address is swapped for the
    cookie by a redirect, so that it leaves the address bar and the history."""

    def __init__(self, app: ASGIApp, *, token: str, hosts: set[str], cookie: str):
        self.app, self.token, self.hosts, self.cookie = app, token, hosts, cookie
        self.origins = {f"http://{h}" for h in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no websockets
            await send({"type": "websocket.close", "code": 1008})
            return
        refused = self.refusal(scope)
        if refused is not None:
            await PlainTextResponse(f"forbidden: {refused}", status_code=403,
                                    headers=SECURITY_HEADERS)(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if TOKEN_PARAMETER in query:  # the token was right: into the cookie, out of the address
            rest = urlencode({k: v for k, v in query.items() if k != TOKEN_PARAMETER})
            here = "/" + scope["path"].lstrip("/")  # never //other.site: a path of this server
            response = RedirectResponse(here + (f"?{rest}" if rest else ""), status_code=303,
                                        headers=SECURITY_HEADERS)
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="strict", path="/")
            await response(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                present = {k.lower() for k, _ in message["headers"]}
                message["headers"] += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()
                                       if k.encode() not in present]
            await send(message)

        await self.app(scope, receive, with_headers)

    def refusal(self, scope: Scope) -> str | None:
        """Why the request is refused, None when it may pass."""
        headers = Headers(scope=scope)
        if headers.get("host", "").lower() not in self.hosts:
            return "the Host header does not name this server"
        if scope["method"] not in ("GET", "HEAD"):
            if headers.get("origin") not in self.origins:
                return "a change must come from the review page itself"
            if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                return "a change is sent as JSON"
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        given = query.get(TOKEN_PARAMETER) or _cookie(headers, self.cookie)
        if not given or not secrets.compare_digest(given.encode(), self.token.encode()):
            return "open the address with its token that `deepclust review` printed"
        return None


def _cookie(headers: Headers, name: str) -> str | None:
    """The cookie ``name`` (Starlette's lenient parser: another site's odd cookie on localhost spoils nothing)."""
    from starlette.requests import cookie_parser

    return cookie_parser(headers.get("cookie", "")).get(name)
