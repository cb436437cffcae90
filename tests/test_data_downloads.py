"""Downloads that end early are never kept as complete (a real local HTTP server)."""

import hashlib
import http.server
import logging
import threading

import pytest

from rnnlm import RnnlmError
from rnnlm.data.fetch import fetch

BODY = b"body\n" + b"".join(b'"comment number %d is here."\n' % i for i in range(5000))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: dict = {}

    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_GET(self):
        kind = self.path.strip("/").split("?")[0]
        Handler.hits[kind] = Handler.hits.get(kind, 0) + 1
        half = BODY[: len(BODY) // 2]
        if kind == "resumable":
            self.resumable()
            return
        if kind not in ("whole", "short", "chunked-cut", "chunked", "unframed", "flaky"):
            self.send_error(404)
            return
        self.send_response(200)
        if kind == "whole":
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        elif kind == "short":  # announces everything, sends half, hangs up
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(half)
            self.close_connection = True
        elif kind in ("chunked-cut", "chunked"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            data = half if kind == "chunked-cut" else BODY
            for i in range(0, len(data), 4096):
                piece = data[i : i + 4096]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            if kind == "chunked":
                self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True
        elif kind == "unframed":  # neither a length nor chunks: ends when the connection does
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(BODY)
            self.close_connection = True
        elif kind == "flaky":  # the first try breaks off, the second is whole
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY if Handler.hits[kind] > 1 else half)
            self.close_connection = True

    ranges: list = []  # the Range headers `resumable` was asked for
    etag = '"v1"'
    cut_first = True

    def resumable(self):
        """Ranges and ETags like a real file server; its first response breaks off halfway."""
        wanted, same = self.headers.get("Range"), self.headers.get("If-Range", Handler.etag) == Handler.etag
        Handler.ranges.append(wanted)
        start = int(wanted.removeprefix("bytes=").rstrip("-")) if wanted and same else 0
        self.send_response(206 if start else 200)
        self.send_header("ETag", Handler.etag)
        self.send_header("Content-Length", str(len(BODY) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(BODY) - 1}/{len(BODY)}")
        self.end_headers()
        body = BODY[start:]
        if Handler.cut_first:
            Handler.cut_first, body = False, body[: len(body) // 2]
            self.close_connection = True
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_whole_download_is_stored_and_says_what_vouches_for_it(server, tmp_path, caplog):
    caplog.set_level(logging.INFO, "rnnlm")
    got = fetch(f"{server}/whole", tmp_path / "d.csv", wait=0)
    assert (tmp_path / "d.csv").read_bytes() == BODY and got == hashlib.sha256(BODY).hexdigest()
    assert "complete by its Content-Length" in caplog.text
    fetch(f"{server}/chunked", tmp_path / "c.csv", wait=0)
    assert (tmp_path / "c.csv").read_bytes() == BODY and "complete by its chunked framing" in caplog.text


@pytest.mark.parametrize(
    "kind, message",
    [
        ("short", r"download incomplete after 3 tries: ended after [\d,]+ of [\d,]+ bytes"),
        ("chunked-cut", r"download incomplete after 3 tries: broke off after [\d,]+ bytes \(IncompleteRead"),
    ],
)
def test_a_download_that_ends_early_is_retried_then_refused_and_nothing_is_stored(server, tmp_path, kind, message):
    Handler.hits.pop(kind, None)
    with pytest.raises(RnnlmError, match=message):
        fetch(f"{server}/{kind}", tmp_path / "d.csv", wait=0)
    assert Handler.hits[kind] == 3
    assert not (tmp_path / "d.csv").exists() and 0 < (tmp_path / "d.csv.part").stat().st_size < len(BODY)


def test_a_broken_first_try_is_retried(server, tmp_path, caplog):
    Handler.hits.pop("flaky", None)
    fetch(f"{server}/flaky", tmp_path / "d.csv", wait=0)
    assert (tmp_path / "d.csv").read_bytes() == BODY and Handler.hits["flaky"] == 2
    assert "try 1 of 3 failed (ended after" in caplog.text


def test_nothing_vouches_for_an_unframed_download_so_the_log_warns(server, tmp_path, caplog):
    caplog.set_level(logging.INFO, "rnnlm")
    fetch(f"{server}/unframed", tmp_path / "d.csv", wait=0)
    assert "nothing shows the download is complete (add `sha256:`" in caplog.text
    caplog.clear()
    fetch(f"{server}/unframed", tmp_path / "e.csv", sha256=hashlib.sha256(BODY).hexdigest(), wait=0)
    assert "nothing shows" not in caplog.text and "complete by the configured sha256" in caplog.text
    with pytest.raises(RnnlmError, match="sha256 mismatch"):
        fetch(f"{server}/unframed", tmp_path / "f.csv", sha256="0" * 64, wait=0)
    assert not (tmp_path / "f.csv").exists()


def test_a_missing_file_is_not_retried(server, tmp_path):
    with pytest.raises(RnnlmError, match=r"/nothing-here: download failed: HTTP 404 Not Found"):
        fetch(f"{server}/nothing-here", tmp_path / "x", wait=0)
    assert Handler.hits["nothing-here"] == 1 and not (tmp_path / "x").exists()


def test_a_download_cut_midway_resumes_from_its_bytes_in_the_next_run(server, tmp_path, caplog):
    """A killed job's rerun: the first run's one try breaks off halfway; the second asks only
    for the rest (Range, If-Range) and stores the whole file, checked by length and sha256."""
    caplog.set_level(logging.INFO, "rnnlm")
    Handler.ranges, Handler.cut_first = [], True
    url, out = f"{server}/resumable", tmp_path / "RC.zst"
    with pytest.raises(RnnlmError, match=r"download incomplete after 1 tries: .*a rerun resumes"):
        fetch(url, out, tries=1, wait=0)
    half = (tmp_path / "RC.zst.part").stat().st_size
    assert 0 < half < len(BODY) and not out.exists()
    got = fetch(url, out, sha256=hashlib.sha256(BODY).hexdigest(), wait=0)
    assert Handler.ranges == [None, f"bytes={half}-"] and out.read_bytes() == BODY
    assert got == hashlib.sha256(BODY).hexdigest() and f"resuming after {half:,} bytes" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["RC.zst"]  # the part and its validator are gone


def test_a_file_changed_on_the_server_since_the_cut_is_downloaded_afresh(server, tmp_path):
    Handler.ranges, Handler.cut_first = [], True
    url, out = f"{server}/resumable", tmp_path / "RC.zst"
    with pytest.raises(RnnlmError):
        fetch(url, out, tries=1, wait=0)
    Handler.etag = '"v2"'  # If-Range no longer matches: the server sends everything, with 200
    try:
        fetch(url, out, wait=0)
    finally:
        Handler.etag = '"v1"'
    assert Handler.ranges[1].startswith("bytes=") and out.read_bytes() == BODY
