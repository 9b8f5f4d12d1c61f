# SPDX-License-Identifier: MIT
"""A TCP proxy on 127.0.0.1 that plays a store which fails and recovers.

Modes:
- "forward" passes connections on to the target.
- "reset" closes each new connection at once (a store that is down).
- "forward_once" forwards the next connection, then resets.
- "stall" reads requests and never responds (a store that hangs).
- "forbid" replies 403 AccessDenied to every HTTP request (a store that rejects the key).
The mode applies to connections accepted after it is set.
"""
import socket
import threading

_DENIED = (b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code>"
           b"<Message>Access Denied</Message></Error>")
FORBIDDEN = (b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nConnection: close\r\n"
             + f"Content-Length: {len(_DENIED)}\r\n\r\n".encode() + _DENIED)


class TcpProxy:
    def __init__(self, target_port, mode="forward"):
        self.target_port = target_port
        self.mode = mode
        self.accepted = 0
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        self.closed = True
        self.listener.close()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            mode = self.mode
            if mode == "forward_once":
                mode, self.mode = "forward", "reset"
            threading.Thread(target=self._serve, args=(client, mode), daemon=True).start()

    def _serve(self, client, mode):
        if mode == "reset":
            client.close()
            return
        if mode == "stall":
            try:
                while not self.closed and client.recv(65536):
                    pass
            except OSError:
                pass
            client.close()
            return
        if mode == "forbid":
            try:
                client.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = client.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                client.sendall(FORBIDDEN)
            except OSError:
                pass
            client.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()
        self._pipe(client, upstream)

    @staticmethod
    def _pipe(source, sink):
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                sink.sendall(chunk)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        source.close()
