"""A TCP proxy between an oracle and its lab whose network can fail on demand."""

from __future__ import annotations

import socket
import threading
import time

from simulators.lab import free_port


class Proxy:
    """Forwards ``port`` on loopback to ``target_port``.

    ``cut()`` drops every connection and refuses new ones (a network outage);
    ``restore()`` listens again on the same port. ``freeze()`` keeps every connection
    open and forwards nothing (a hung controller, a stalled network path).
    """

    def __init__(self, target_port: int) -> None:
        self.target_port, self.port = target_port, free_port()
        self.is_frozen = False
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.is_frozen = False
        self.cut()

    def restore(self) -> None:
        """Listen again: the network is back."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        _close(self._listener)
        with self._lock:
            for connection in self._connections:
                _close(connection)
            self._connections.clear()

    def freeze(self) -> None:
        """Forward nothing from now on, the connections left open."""
        self.is_frozen = True

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # cut
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.is_frozen:
                    time.sleep(0.01)
                sink.sendall(data)
        except OSError:  # the other side, or a cut, closed it
            pass
        _close(source)
        _close(sink)


def _close(connection: socket.socket | None) -> None:
    if connection is None:
        return
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass
    connection.close()
