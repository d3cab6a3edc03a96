"""``autograder serve``'s web server: Django's WSGI server with a fixed pool of request threads.

Each thread answers one request at a time and keeps its database connection between requests
(``CONN_MAX_AGE``, closed by Django's own request signals once older), so at most ``threads``
connections are open whatever the traffic, and no page pays for a new one. Django's threaded
development server starts a thread per request instead: a connection kept past the request
outlives its thread (a class polling its submission pages ran PostgreSQL out of connections),
and one closed after each request costs PostgreSQL a new backend process per page.

While every thread is busy, accepted requests wait in the pool's queue. Answers close their
connection (Django's handler adds ``Connection: close`` on a server that is not thread-per-
request), and a client that sends nothing for ``timeout_s`` seconds is dropped, so no idle or slow
client holds a thread.
"""

from __future__ import annotations

import queue
import threading

from django.core.servers.basehttp import WSGIServer

THREADS = 16
TIMEOUT_S = 60


class PooledWSGIServer(WSGIServer):
    """``socketserver``'s serve_forever loop accepts; ``threads`` daemon threads answer."""

    def __init__(self, *args, threads: int = THREADS, timeout_s: float = TIMEOUT_S, **kwargs):
        super().__init__(*args, **kwargs)
        self.timeout_s = timeout_s
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        for i in range(threads):
            threading.Thread(target=self._answer, name=f"web-{i}", daemon=True).start()

    def process_request(self, request, client_address) -> None:
        request.settimeout(self.timeout_s)
        self._requests.put((request, client_address))

    def _answer(self) -> None:
        while True:
            request, client_address = self._requests.get()
            try:
                self.finish_request(request, client_address)
            except Exception:  # noqa: BLE001 - socketserver's own policy: log it, keep serving
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)
