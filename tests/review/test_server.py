"""The review app, tried from outside as a stranger would: no token, another Host, another origin, paths that climb
out of the run folder; and as its user: each edit on disk before it is acknowledged, a killed server losing at most
the edit in flight, two servers on one run seeing each other's edits."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from deepclust.review import ReviewedRun, ReviewServer
from deepclust.run import REVIEW_FILE


@pytest.fixture
def serve():
    """Start the review app of a run folder in a thread; stopped after the test."""
    started = []

    def start(run_dir):
        server = ReviewServer(run_dir)
        thread = threading.Thread(target=server.serve, daemon=True)
        thread.start()
        for _ in range(200):
            if server.server.started:
                break
            time.sleep(0.02)
        started.append((server, thread))
        return server

    yield start
    for server, thread in started:
        server.server.should_exit = True
        thread.join(10)


def ask(server, method, path, *, token=True, host=None, origin="page", body=None, content_type="application/json"):
    """One raw HTTP request (the Host and Origin headers set as given), answered as (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    headers = {"Host": f"127.0.0.1:{server.port}" if host is None else host}
    if token:
        headers["Cookie"] = f"{server.cookie}={server.token if token is True else token}"
    if origin == "page":
        origin = f"http://127.0.0.1:{server.port}"
    if origin:
        headers["Origin"] = origin
    data = None
    if body is not None:
        data = json.dumps(body).encode() if content_type == "application/json" else str(body).encode()
        headers["Content-Type"] = content_type
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    out = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    conn.close()
    return out


def edits_in(run_dir):
    return len(ReviewedRun.open(run_dir).edits)


GETS = ["/", "/review.js", "/api/state", "/api/cluster?id=0", "/api/map", "/sheet/0", "/image/0"]


def test_every_request_without_the_token_is_refused(run_dir, serve):
    server = serve(run_dir)
    for path in GETS:
        assert ask(server, "GET", path, token=False)[0] == 403, path
        assert ask(server, "GET", path, token="not-the-token")[0] == 403, path
        # the same request with the token passes (an array run keeps no pixels to read back: only thumbnails)
        assert ask(server, "GET", path)[0] == (404 if path.startswith("/image/") else 200), path
    status, _, body = ask(server, "POST", "/api/edit", token=False, body={"op": "aside", "rows": [0]})
    assert status == 403 and b"token" in body
    assert not (run_dir / REVIEW_FILE).exists()


def test_the_token_in_the_address_becomes_a_strict_cookie(run_dir, serve):
    server = serve(run_dir)
    status, headers, _ = ask(server, "GET", f"/?token={server.token}", token=False)
    assert status == 303 and headers["location"] == "/"  # the token leaves the address bar
    cookie = headers["set-cookie"]
    assert f"{server.cookie}={server.token}" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    status, headers, body = ask(server, "GET", "/")
    assert status == 200 and b"Fix the clusters" in body
    assert "script-src 'self'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"


def test_the_token_exchange_redirects_only_within_the_server(run_dir, serve):
    server = serve(run_dir)
    status, headers, _ = ask(server, "GET", f"/%2F%2Fevil.example?token={server.token}", token=False)
    assert status == 303 and headers["location"].startswith("/") and not headers["location"].startswith("//")


def test_another_local_sites_odd_cookies_do_not_lock_the_user_out(run_dir, serve):
    server = serve(run_dir)
    jar = f'x=y z; ajs_user={{"id":1}}; a="b; {server.cookie}={server.token}; c=d;;'
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    conn.request("GET", "/api/state", headers={"Host": f"127.0.0.1:{server.port}", "Cookie": jar})
    assert conn.getresponse().status == 200


def test_listening_on_every_interface_accepts_this_machines_addresses():
    import psutil

    from deepclust.review._guard import allowed_hosts

    addresses = [a.address for addrs in psutil.net_if_addrs().values() for a in addrs if a.family == socket.AF_INET]
    hosts = allowed_hosts("0.0.0.0", 8765)
    assert all(f"{a}:8765" in hosts for a in addresses) and f"{socket.gethostname().lower()}:8765" in hosts
    assert "evil.example:8765" not in hosts and allowed_hosts("127.0.0.1", 8765) == {
        "127.0.0.1:8765", "localhost:8765", "[::1]:8765"}


def test_the_browser_is_sent_to_the_page_through_a_private_file(run_dir, monkeypatch):
    """The token never reaches a command line another user can list: the browser opens a file only this user
    reads, which forwards it to the address."""
    import webbrowser

    opened = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    server = ReviewServer(run_dir)
    server.open_in_browser()
    server.socket.close()
    assert len(opened) == 1 and opened[0].startswith("file://") and server.token not in opened[0]
    path = opened[0][len("file://"):]
    assert os.stat(path).st_mode & 0o777 == 0o600 and server.url.replace("&", "&amp;") in open(path).read()
    os.unlink(path)


def test_a_host_header_of_another_name_is_refused(run_dir, serve):
    """DNS rebinding: a page of another site whose name now points at 127.0.0.1 sends its own name as Host."""
    server = serve(run_dir)
    for host in ("evil.example", f"evil.example:{server.port}", f"127.0.0.1:{server.port + 1}", ""):
        status, _, body = ask(server, "GET", "/api/state", host=host)
        assert status == 403 and b"Host" in body, host
    assert ask(server, "GET", "/api/state", host=f"localhost:{server.port}")[0] == 200


def test_changes_come_only_from_the_page_itself(run_dir, serve):
    server = serve(run_dir)
    edit = {"op": "aside", "rows": [0]}
    for origin in ("http://evil.example", f"http://evil.example:{server.port}", None, "null"):
        assert ask(server, "POST", "/api/edit", origin=origin, body=edit)[0] == 403, origin
    # a form another page posts (no JSON) is refused even from the right origin
    assert ask(server, "POST", "/api/edit", body="op=aside&rows=0", content_type="text/plain")[0] == 403
    assert not (run_dir / REVIEW_FILE).exists()
    status, _, body = ask(server, "POST", "/api/edit", body=edit)
    assert status == 200 and json.loads(body)["edits"] == 1 and edits_in(run_dir) == 1


def test_no_path_in_a_request_reaches_a_file_the_run_does_not_list(run_dir, serve, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT")
    sheets = sorted((run_dir / "figures" / "members").glob("*.png"))
    assert sheets, "the run keeps thumbnail sheets"
    sheets[0].unlink()
    sheets[0].symlink_to(secret)  # a sheet the run lists, now a link out of the run folder
    server = serve(run_dir)
    listed = json.loads(ask(server, "GET", "/api/state")[2])["n_sheets"]
    attempts = ["/sheet/../run.json", "/sheet/..%2frun.json", "/sheet/%2e%2e%2f%2e%2e%2fsecret.txt",
                f"/sheet/{secret}", f"/sheet/{str(secret).replace('/', '%2f')}", "/sheet/-1", f"/sheet/{listed}",
                "/image/..%2F..%2Fsecret.txt", "/image/-1", "/image/30", "/image/99999999999999999999",
                "/run.json", "/figures/members/sheets.json", "/review.js/../run.json", "/%2e%2e/secret.txt",
                f"/sheet/0?path={secret}"] + [f"/sheet/{i}" for i in range(listed)]
    for path in attempts:
        status, _, body = ask(server, "GET", path)
        assert b"SECRET-CONTENT" not in body and b"schema_version" not in body, path
        assert status in (403, 404) or path.startswith("/sheet/"), (path, status)
    # the sheet that became a link is refused, the others are served
    served = [ask(server, "GET", f"/sheet/{i}")[0] for i in range(listed)]
    assert served.count(404) == 1 and served.count(200) == listed - 1


def test_the_api_applies_edits_and_answers_with_the_clusters_as_they_are(run_dir, serve):
    server = serve(run_dir)
    state = json.loads(ask(server, "GET", "/api/state")[2])
    assert [c["size"] for c in state["clusters"]] == [10, 10, 10] and not state["read_only"]
    page = json.loads(ask(server, "GET", "/api/cluster?id=1&page=0")[2])
    rows = [item[0] for item in page["items"]]
    assert sorted(rows) == list(range(10, 20))
    distances = np.linalg.norm(np.load(run_dir / "embedding.npy")[rows] - np.load(run_dir / "embedding.npy")[
        10:20].mean(0), axis=1)
    assert np.all(np.diff(distances) >= -1e-6)  # closest to the centre first
    ask(server, "POST", "/api/edit", body={"op": "merge", "clusters": [1, 2], "into": 1})
    status, _, body = ask(server, "POST", "/api/propose-split", body={"cluster": 1, "n": 2})
    parts = json.loads(body)["parts"]
    assert status == 200 and sorted(map(sorted, parts)) == [list(range(10, 20)), list(range(20, 30))]
    state = json.loads(ask(server, "POST", "/api/edit", body={"op": "split", "cluster": 1, "parts": parts})[2])
    assert sorted(c["size"] for c in state["clusters"]) == [10, 10, 10] and state["edits"] == 2
    similar = json.loads(ask(server, "POST", "/api/similar", body={"rows": [0, 1]})[2])["items"]
    assert {item[0] for item in similar[:8]} <= set(range(10))  # the nearest images are of the same group
    state = json.loads(ask(server, "POST", "/api/undo", body={})[2])
    assert sorted(c["size"] for c in state["clusters"]) == [10, 20] and state["can_redo"]
    status, _, body = ask(server, "POST", "/api/edit", body={"op": "merge", "clusters": [0, 7], "into": 0})
    assert status == 400 and json.loads(body)["error"] == "there is no cluster 7"
    status, _, body = ask(server, "POST", "/api/edit", body={"op": "aside", "rows": [True]})
    assert status == 400 and json.loads(body)["error"] == "rows must be whole numbers, not True"


def test_two_servers_on_one_run_see_each_others_edits(run_dir, serve):
    first, second = serve(run_dir), serve(run_dir)
    ask(first, "POST", "/api/edit", body={"op": "aside", "rows": [5]})
    ask(second, "POST", "/api/edit", body={"op": "rename", "cluster": 2, "name": "right"})
    for server in (first, second):
        state = json.loads(ask(server, "GET", "/api/state")[2])
        assert state["edits"] == 2 and {c["id"]: c["name"] for c in state["clusters"]}[2] == "right"
        assert {c["id"]: c["size"] for c in state["clusters"]}[-1] == 1


def test_a_read_only_run_is_shown_read_only(run_dir, serve, monkeypatch):
    real_access = os.access  # root (CI) writes anywhere: os.access is what the app asks
    monkeypatch.setattr(os, "access", lambda path, mode: mode != os.W_OK and real_access(path, mode))
    server = serve(run_dir)
    assert json.loads(ask(server, "GET", "/api/state")[2])["read_only"]
    status, _, body = ask(server, "POST", "/api/edit", body={"op": "aside", "rows": [0]})
    assert status == 409 and "read-only" in json.loads(body)["error"]


def _start_cli(run_dir, *extra, processes: list):
    """``deepclust review RUN --no-open`` in its own process (added to ``processes``), and the port and token it
    printed."""
    command = [sys.executable, "-c", "from deepclust.cli import app; app()", "review", str(run_dir), "--no-open"]
    proc = subprocess.Popen([*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    processes.append(proc)
    for line in proc.stdout:
        found = re.search(r"http://\S+:(\d+)/\?token=(\S+)", line)
        if found:
            return proc, int(found.group(1)), found.group(2)
    raise AssertionError(f"no address printed: {proc.stderr.read()}")


class _Remote:
    def __init__(self, port, token):
        self.port, self.token, self.cookie = port, token, f"deepclust_review_{port}"


@pytest.fixture
def processes():
    """Servers started in their own process, killed after the test whatever happened in it."""
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.mark.slow
def test_a_killed_server_loses_at_most_the_edit_in_flight(run_dir, processes):
    proc, port, token = _start_cli(run_dir, processes=processes)
    remote = _Remote(port, token)
    for row in (0, 1, 2):
        assert ask(remote, "POST", "/api/edit", body={"op": "aside", "rows": [row]})[0] == 200
    proc.send_signal(signal.SIGKILL)  # between edits
    proc.wait()
    assert edits_in(run_dir) == 3

    proc, port, token = _start_cli(run_dir, processes=processes)
    remote = _Remote(port, token)
    acknowledged = []

    def keep_editing():
        for row in range(3, 30):
            try:
                status = ask(remote, "POST", "/api/edit", body={"op": "move", "rows": [row], "to": None})[0]
            except (OSError, http.client.HTTPException):
                return
            if status == 200:
                acknowledged.append(row)

    editor = threading.Thread(target=keep_editing)
    editor.start()
    while len(acknowledged) < 5:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)  # during edits
    proc.wait()
    editor.join(30)
    edits = ReviewedRun.open(run_dir).edits
    moved = [e["rows"][0] for e in edits if e["op"] == "move"]
    assert moved[:len(acknowledged)] == acknowledged  # every acknowledged edit, in order
    assert len(moved) - len(acknowledged) <= 1  # and at most the one in flight


@pytest.mark.slow
def test_another_host_warns_and_a_torn_log_is_reported(run_dir, processes):
    (run_dir / REVIEW_FILE).write_text('{"op":"aside","rows":[4]}\n{"op": "merge", "clus')  # killed mid-write
    proc, port, token = _start_cli(run_dir, "--host", "0.0.0.0", processes=processes)
    try:
        state = json.loads(ask(_Remote(port, token), "GET", "/api/state")[2])
        assert state["edits"] == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert "warning: listening on 0.0.0.0" in err and "line 2: not a complete edit" in err
