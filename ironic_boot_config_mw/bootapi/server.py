"""The boot API's HTTP server: cheroot, Ironic's own, sized for storms.

Ironic's API runs cheroot with its defaults (10 threads, a listen backlog
of 5, 10 idle keep-alive connections), which a rack powering on overflows:
SYNs are dropped and retried after 1 s, 3 s, ... This one takes its size
from ``[boot_config_api]``: ``threads``, and ``backlog`` for both the listen
backlog and the keep-alive connections. It listens on ``host_ip:port`` or,
as Ironic's API does, on ``unix_socket`` (mode ``unix_socket_mode``).
"""

import os
import threading

from cheroot import wsgi
from ironic.common import utils as ironic_utils
from oslo_log import log
from oslo_utils import netutils

LOG = log.getLogger(__name__)

NAME = 'ironic-boot-config-api'


class BootAPIServer:
    """Serves ``app`` in a thread of its own once :meth:`start`-ed.

    :param options: the ``[boot_config_api]`` option group.
    """

    def __init__(self, app, options):
        self._unix_socket = options.unix_socket
        self._socket_mode = options.unix_socket_mode
        if self._unix_socket:
            ironic_utils.unlink_without_raise(self._unix_socket)
            bind = self._unix_socket
            self.where = 'unix socket %s' % self._unix_socket
        else:
            bind = (options.host_ip, options.port)
            self.where = '%s:%d' % (netutils.escape_ipv6(options.host_ip),
                                    options.port)
        self.server = wsgi.Server(bind, app, numthreads=options.threads,
                                  request_queue_size=options.backlog,
                                  server_name=NAME)
        self.server.keep_alive_conn_limit = options.backlog
        self._threads, self._backlog = options.threads, options.backlog
        self._thread = None

    def start(self):
        """Bind (OSError if it cannot) and serve."""
        self.server.prepare()
        if self._unix_socket and self._socket_mode is not None:
            os.chmod(self._unix_socket, self._socket_mode)
        self._thread = threading.Thread(target=self.server.serve,
                                        name=NAME, daemon=True)
        self._thread.start()
        LOG.info('%(name)s serving /v1/boot and /health on %(where)s '
                 '(%(threads)d threads, backlog %(backlog)d)',
                 {'name': NAME, 'where': self.where,
                  'threads': self._threads, 'backlog': self._backlog})

    def stop(self):
        self.server.stop()
        if self._thread is not None:
            self._thread.join(10)
        if self._unix_socket:
            ironic_utils.unlink_without_raise(self._unix_socket)
        LOG.info('%s stopped', NAME)
