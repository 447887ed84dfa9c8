"""``deepclust review RUN``: a local web app (Starlette, served by uvicorn) over a :class:`ReviewedRun`. One page of
plain JavaScript shows the clusters, a cluster's members and the map, and sends each edit as JSON; the server writes
it to the log (on disk before it answers) and answers with the clusters as they now are. Pictures are served by
their row in the run (a thumbnail cut from the sheets the run keeps, or the image read back), never by a path from
the request; everything passes :class:`~deepclust.review._guard.Guard` first."""

from __future__ import annotations

import io
import os
import secrets
import socket
import threading
from importlib.resources import files
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..run import ASIDE, ReadOnlyRunError, as_edit, whole_number
from ._guard import TOKEN_PARAMETER, Guard, allowed_hosts, reachable_name
from ._reviewed import ReviewedRun

#: Members a cluster's page shows at once, and images in a cluster's strip on the overview.
PAGE_SIZE = 100
STRIP = 8
#: Images "more like this" lists, and images of each part a split's preview shows.
SIMILAR = 24
PREVIEW = 12
#: The largest request body the API reads (a split of 70,000 rows is under 1 MB).
MAX_BODY = 16 * 2**20


class ReviewSession:
    """What the server knows of the run: the reviewed run, its thumbnails (row → sheet and place) and its map, and
    the clusters as they are, measured again only when the log changed (another page's edit included)."""

    def __init__(self, run_dir: str | os.PathLike):
        from ..report import display_name, members_sheets

        self.review = ReviewedRun.open(run_dir)
        self.run = self.review.run
        self.lock = threading.Lock()
        sheets = members_sheets(self.run.path)
        where = sheets.get("rows", {})
        self.sheet_files = sorted({f for f, _ in where.values()})
        index = {f: i for i, f in enumerate(self.sheet_files)}
        self.thumbs = {int(r): (index[f], int(pos)) for r, (f, pos) in where.items()}
        self.tile, self.columns = int(sheets.get("tile", 32)), int(sheets.get("columns", 10))
        self.shows_images = self.run.record.source.shows_images
        self.names = [display_name(r["path"]) for r in self.run.original_rows]
        self._measured: object = None  # the fixed clusters the distances below were measured for
        self._sync()

    # the clusters as they are

    def _sync(self) -> None:
        """Read the log again when another page changed it, and measure the clusters again when they changed."""
        self.review.refresh()
        if self.review.fixed is not self._measured:
            self._distances, _ = self.review.placement()
            self._measured = self.review.fixed

    def thumb(self, row: int) -> list:
        """``[row, sheet, place]``: the sheet's number and the place in it, or sheet -1 for an image read back
        (``/image/ROW``), -2 for none."""
        found = self.thumbs.get(row)
        if found is not None:
            return [row, *found]
        return [row, -1 if self.shows_images else -2, 0]

    def members(self, cluster: int) -> np.ndarray:
        rows = np.flatnonzero(self.review.labels == cluster)
        return rows[np.argsort(self._distances[rows], kind="stable")]

    def summary(self) -> dict:
        with self.lock:
            self._sync()
            labels, review = self.review.labels, self.review
            names = review.cluster_names()
            ids, counts = np.unique(labels, return_counts=True)
            clusters = []
            for c, n in sorted(zip(ids.tolist(), counts.tolist()), key=lambda cn: (cn[0] == ASIDE, -cn[1], cn[0])):
                members = self.members(c)
                clusters.append({"id": c, "name": names.get(c, ""), "size": n, "aside": c == ASIDE,
                                 "cohesion": float(np.mean(self._distances[members])),
                                 "strip": [self.thumb(int(r)) for r in members[:STRIP]]})
            return {"title": self.run.record.source.title, "n_images": len(labels), "clusters": clusters,
                    "edits": len(review.done), "can_undo": bool(review.done), "can_redo": review.can_redo,
                    "read_only": review.read_only, "version": review.version, "tile": self.tile,
                    "columns": self.columns, "n_sheets": len(self.sheet_files), "aside": ASIDE}

    def cluster_page(self, cluster: int, page: int) -> dict:
        with self.lock:
            self._sync()
            members = self.members(cluster)
            if not len(members):
                raise ValueError(f"there is no cluster {cluster}")
            pages = -(-len(members) // PAGE_SIZE)
            page = min(max(page, 0), pages - 1)
            shown = members[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
            return {"id": cluster, "name": self.review.cluster_names().get(cluster, ""), "size": len(members),
                    "page": page, "pages": pages, "aside": cluster == ASIDE,
                    "items": [self.thumb(int(r)) + [self.names[r]] for r in shown]}

    def map_points(self) -> dict:
        """Each image's place on the map (the run's 2-D map, else the embedding's first two principal axes), in
        [0, 1], and its cluster."""
        with self.lock:
            self._sync()
            xy = self._map_xy()
            return {"x": xy[:, 0].round(4).tolist(), "y": xy[:, 1].round(4).tolist(),
                    "labels": self.review.labels.tolist()}

    def _map_xy(self) -> np.ndarray:
        if not hasattr(self, "_xy"):
            from ..run import EMBEDDING_2D_FILE

            path = self.run.path / EMBEDDING_2D_FILE
            if path.is_file():
                xy = np.load(path).astype(np.float64)
            else:
                from sklearn.decomposition import PCA

                embedding = np.asarray(self.run.embedding, dtype=np.float64)
                xy = PCA(2, random_state=0).fit_transform(embedding) if embedding.shape[1] > 2 else embedding
            span = np.ptp(xy, axis=0)
            self._xy = (xy - xy.min(0)) / np.where(span > 0, span, 1)
        return self._xy

    # what the page asks of the server

    def edit(self, action: str, body: dict) -> dict:
        with self.lock:
            if action == "edit":
                self.review.apply(body)  # checked there, field by field
            elif action == "undo":
                self.review.undo()
            elif action == "redo":
                self.review.redo()
        return self.summary()

    def propose_split(self, body: dict) -> dict:
        cluster, n = whole_number(body.get("cluster"), "cluster"), whole_number(body.get("n"), "n")
        with self.lock:
            self._sync()
            parts = self.review.propose_split(cluster, n)
        order = {int(r): k for k, r in enumerate(self.members(cluster))}
        return {"cluster": cluster, "parts": parts,
                "preview": [[self.thumb(r) for r in sorted(p, key=order.__getitem__)[:PREVIEW]] for p in parts]}

    def similar(self, body: dict) -> dict:
        """The run's images nearest to the mean of the selected ones in the clustering space."""
        from scipy.spatial.distance import cdist

        rows = as_edit({"op": "aside", "rows": body.get("rows", [])})["rows"]  # whole numbers, checked alike
        n = min(max(whole_number(body.get("n", SIMILAR), "n"), 1), 500)
        if not rows or any(not 0 <= r < len(self.names) for r in rows):
            raise ValueError(f"select images first (rows from 0 to {len(self.names) - 1})")
        embedding = self.run.embedding
        distances = cdist(embedding[rows].mean(0, keepdims=True), embedding)[0]
        distances[rows] = np.inf
        nearest = np.argsort(distances, kind="stable")[:n]
        labels = self.review.labels
        return {"items": [self.thumb(int(r)) + [self.names[r], int(labels[r])] for r in nearest]}

    def sheet(self, index: int) -> Path:
        """The sheet file numbered ``index``, inside the run folder (never a path from the request)."""
        if not 0 <= index < len(self.sheet_files):
            raise KeyError(index)
        path = (self.run.path / self.sheet_files[index]).resolve()
        if not path.is_relative_to(self.run.path.resolve()) or not path.is_file():
            raise KeyError(index)
        return path

    def image_png(self, row: int, size: int) -> bytes:
        if not 0 <= row < len(self.names):
            raise KeyError(row)
        shown = self.run.images([row], size=min(max(size, 16), 512))
        if not shown:
            raise KeyError(row)
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(shown[0]).save(buf, format="PNG")
        return buf.getvalue()


def make_app(run_dir: str | os.PathLike, *, token: str, hosts: set[str], cookie: str = "deepclust_review"):
    """The review app of the run in ``run_dir``, behind its :class:`~deepclust.review._guard.Guard`: ``token`` is
    the secret, ``hosts`` the Host headers that name the server (see
    :func:`~deepclust.review._guard.allowed_hosts`)."""
    session = ReviewSession(run_dir)
    static = files("deepclust.review") / "static"

    from jinja2 import Environment, PackageLoader

    template = Environment(loader=PackageLoader("deepclust.review", "static"),
                           autoescape=True).get_template("review.html.j2")

    def page(request: Request) -> Response:
        return HTMLResponse(template.render(title=session.run.record.source.title or str(session.run.path.name)))

    def asset(name: str, media: str):
        body = (static / name).read_text(encoding="utf-8")  # read once, when the app is made

        def serve(request: Request) -> Response:
            return Response(body, media_type=media)
        return serve

    def api(handler):
        async def endpoint(request: Request) -> Response:
            body: dict = {}
            if request.method == "POST":
                if int(request.headers.get("content-length") or 0) > MAX_BODY:
                    return JSONResponse({"error": "the request is too large"}, status_code=413)
                try:
                    body = await request.json()
                except ValueError:
                    return JSONResponse({"error": "the request is not JSON"}, status_code=400)
                if not isinstance(body, dict):
                    return JSONResponse({"error": "the request is not a JSON object"}, status_code=400)
            try:
                from starlette.concurrency import run_in_threadpool

                return JSONResponse(await run_in_threadpool(handler, request, body))
            except ReadOnlyRunError as exc:
                return JSONResponse({"error": str(exc)}, status_code=409)
            except (ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": str(exc).strip("'\"")}, status_code=400)
        return endpoint

    def sheet(request: Request) -> Response:
        try:
            return FileResponse(session.sheet(int(request.path_params["index"])))
        except KeyError:
            return Response("no such sheet", status_code=404)

    def image(request: Request) -> Response:
        try:
            size = int(request.query_params.get("size", "96"))
            return Response(session.image_png(int(request.path_params["row"]), size), media_type="image/png")
        except (KeyError, ValueError, OSError):  # a file gone or changed since the run read it
            return Response("no such image", status_code=404)

    routes = [
        Route("/", page),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/review.js", asset("review.js", "text/javascript")),
        Route("/review.css", asset("review.css", "text/css")),
        Route("/api/state", api(lambda r, b: session.summary())),
        Route("/api/cluster", api(lambda r, b: session.cluster_page(int(r.query_params.get("id", "x")),
                                                                    int(r.query_params.get("page", "0"))))),
        Route("/api/map", api(lambda r, b: session.map_points())),
        Route("/api/edit", api(lambda r, b: session.edit("edit", b)), methods=["POST"]),
        Route("/api/undo", api(lambda r, b: session.edit("undo", b)), methods=["POST"]),
        Route("/api/redo", api(lambda r, b: session.edit("redo", b)), methods=["POST"]),
        Route("/api/propose-split", api(lambda r, b: session.propose_split(b)), methods=["POST"]),
        Route("/api/similar", api(lambda r, b: session.similar(b)), methods=["POST"]),
        Route("/sheet/{index:int}", sheet),
        Route("/image/{row:int}", image),
    ]
    app = Starlette(routes=routes)
    app.state.session = session
    return Guard(app, token=token, hosts=hosts, cookie=cookie)


class ReviewServer:
    """The review app of a run, listening on ``host`` (127.0.0.1 unless told) at ``port`` (0: a free one):
    :attr:`url` carries the token; :meth:`serve` runs until interrupted."""

    def __init__(self, run_dir: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 0):
        import uvicorn

        self.token = secrets.token_urlsafe(32)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.socket.listen(128)  # the address printed is reachable at once: requests wait for the app to start
        self.port = self.socket.getsockname()[1]
        shown = reachable_name(host)
        self.url = f"http://{f'[{shown}]' if ':' in shown else shown}:{self.port}/?{TOKEN_PARAMETER}={self.token}"
        self.cookie = f"deepclust_review_{self.port}"  # one per port: two runs reviewed at once keep apart
        app = make_app(run_dir, token=self.token, hosts=allowed_hosts(host, self.port), cookie=self.cookie)
        self.session: ReviewSession = app.app.state.session
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))

    @property
    def read_only(self) -> bool:
        """Whether the run's clusters can be looked at only (the run folder cannot be written)."""
        return self.session.review.read_only

    def open_in_browser(self) -> None:
        """Open the page in the browser through a file only this user can read, which sends the browser on to the
        address: the token then never appears on a command line that other users of the machine can list."""
        import tempfile
        import webbrowser
        from html import escape

        fd, path = tempfile.mkstemp(prefix="deepclust-review-", suffix=".html")  # mode 0600
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            url = escape(self.url, quote=True)
            f.write(f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={url}">'
                    f'<title>deepclust review</title><p><a href="{url}">Open the review page</a></p>\n')
        webbrowser.open(Path(path).as_uri())

    def serve(self) -> None:
        self.server.run(sockets=[self.socket])
