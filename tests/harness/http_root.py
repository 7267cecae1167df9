# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The HTTP server of a conductor's ``[deploy]http_root``, as nginx or
httpd would serve it, with its own request log."""

import functools
import http.server
import threading
import time
import typing

from tests.harness import net


class Request(typing.NamedTuple):
    """One request, as the server logged it."""

    when: float  # time.time()
    method: str
    path: str
    status: int


class HttpRootServer:
    """Serves ``root`` on ``host:port`` in a thread; ``requests`` is its
    log."""

    def __init__(self, root, port, host='127.0.0.1'):
        self.requests = []
        log = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code='-', size='-'):
                log.append(Request(time.time(), self.command, self.path,
                                   int(getattr(code, 'value', code))))

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            address_family = net.family(host)

        self.server = Server((host, port),
                             functools.partial(Handler, directory=root))
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def first(self, path, since=0.0):
        """The first request for ``path`` since ``since``, or None."""
        for request in list(self.requests):
            if request.path == path and request.when >= since:
                return request
        return None

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
