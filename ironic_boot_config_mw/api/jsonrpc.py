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

"""A keep-alive JSON-RPC 2.0 client for the shims, on the boot path.

It speaks exactly the protocol of Ironic's JSON-RPC server (the shims run
Ironic's server) and takes its settings from ``[boot_config_json_rpc]`` like
Ironic's client would. It exists for speed: Ironic's client goes through
keystoneauth and requests, whose per-call machinery (auth plugin calls,
header merging, proxy environment and ~/.netrc scans, cookie jars) costs
about 1.8 ms of CPU per call, against about 0.5 ms for one HTTP/1.1
keep-alive connection per API thread and shim. Authentication ``noauth``
and ``http_basic`` (the header is computed once, by keystoneauth's own
``http_basic`` plugin) and TLS are supported; with ``keystone`` the API uses
Ironic's client (token lifecycle).
"""

import http.client
import json
import ssl
import threading

from ironic.common import exception
from ironic.common import keystone
from oslo_utils import uuidutils

from ironic_boot_config_mw import conf as bc_conf

# A kept-alive connection the shim already closed fails on first use (with
# TLS as an SSL EOF: measured, the shim closing an idle one; retried on a
# new connection, or the shims' circuit would open for a healthy shim).
_STALE = (http.client.RemoteDisconnected, http.client.CannotSendRequest,
          BrokenPipeError, ConnectionResetError, ssl.SSLEOFError,
          ssl.SSLZeroReturnError)


class KeepAliveClient:
    """Calls methods of the shim on a given host.

    :param conf: the ConfigOpts.
    :param group: the option group (``boot_config_json_rpc``).
    :param timeout: seconds for each read (``rpc_timeout``).
    :param connect_timeout: seconds for opening a connection, TLS handshake
        included (``rpc_connect_timeout``); default: ``timeout``.
    """

    def __init__(self, conf, group, timeout, connect_timeout=None):
        options = getattr(conf, group)
        self._port = options.port
        self._timeout = timeout
        # A host that is down drops the SYNs: that must not take a whole
        # rpc_timeout, while a busy shim's answer may.
        self._connect_timeout = connect_timeout or timeout
        self._headers = {'Content-Type': 'application/json'}
        strategy = bc_conf.json_rpc_auth_strategy(conf, group)
        if strategy == 'http_basic':
            # As Ironic's client does: the http_basic plugin of keystoneauth
            # loads [group]username and password.
            conf.set_default('auth_type', 'http_basic', group=group)
            # Ironic 2025.1 to 2026.1: the deprecated http_basic_username
            # and http_basic_password win, as in Ironic's client.
            deprecated = {name: getattr(options, 'http_basic_' + name, None)
                          for name in ('username', 'password')}
            self._headers.update(keystone.get_auth(
                group, **{k: v for k, v in deprecated.items() if v}
            ).get_headers(None) or {})
        elif strategy != 'noauth':
            raise ValueError('auth strategy %s needs Ironic\'s client'
                             % strategy)
        self._tls = None
        # client_use_ssl: TLS terminated in front of the shim (2025.2+).
        if options.use_ssl or getattr(options, 'client_use_ssl', False):
            self._tls = ssl.create_default_context(cafile=options.cafile)
            if options.insecure:
                self._tls.check_hostname = False
                self._tls.verify_mode = ssl.CERT_NONE
            if options.certfile:
                self._tls.load_cert_chain(options.certfile, options.keyfile)
        self._local = threading.local()

    def call(self, context, host, method, version, read_timeout=None,
             **params):
        """Call ``method`` as RPC ``version`` on the shim at ``host``;
        return its result. ``read_timeout``: seconds to wait for the answer
        instead of ``timeout``.

        :raises: Ironic's NotFound for a JSON-RPC error with code 404 (the
            shim's "nothing to serve"), IronicException for other errors,
            OSError/HTTPException for transport failures, socket.timeout.
        """
        params['context'] = context.to_dict()
        params['rpc.version'] = version
        body = json.dumps({'jsonrpc': '2.0', 'method': method,
                           'id': context.request_id
                           or uuidutils.generate_uuid(),
                           'params': params})
        connections = self._connections()
        for attempt in (1, 2):
            conn = connections.get(host) or self._connect(host, connections)
            try:
                if conn.sock is None:
                    # Explicitly: http.client would connect in request()
                    # (also after a "Connection: close") with the timeout
                    # of the connection. A hung shim's kernel completes
                    # TCP, so with TLS the handshake is what hangs: a
                    # shorter read_timeout bounds it too.
                    conn.timeout = min(self._connect_timeout,
                                       read_timeout or self._timeout)
                    conn.connect()
                conn.sock.settimeout(read_timeout or self._timeout)
                conn.request('POST', '/', body, self._headers)
                response = conn.getresponse()
                data = response.read()
                break
            except _STALE:
                del connections[host]
                conn.close()
                if attempt == 2:
                    raise
            except BaseException:
                del connections[host]
                conn.close()
                raise
        if response.status != 200:
            raise exception.IronicException(
                'JSON-RPC to %s answered HTTP %d' % (host, response.status))
        reply = json.loads(data)
        error = reply.get('error')
        if error:
            if error.get('code') == 404:
                raise exception.NotFound(error.get('message'))
            raise exception.IronicException(
                'JSON-RPC error from %s: %s' % (host, error.get('message')))
        return reply['result']

    def _connections(self):
        try:
            return self._local.connections
        except AttributeError:
            self._local.connections = {}
            return self._local.connections

    def _connect(self, host, connections):
        if self._tls is not None:
            conn = http.client.HTTPSConnection(
                host, self._port, timeout=self._connect_timeout,
                context=self._tls)
        else:
            conn = http.client.HTTPConnection(
                host, self._port, timeout=self._connect_timeout)
        connections[host] = conn
        return conn
