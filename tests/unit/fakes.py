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

"""Shared stand-ins of the unit tests: the RPC client and shims as the
filter sees them, the filter and the boot API built around them, the
failures of the boot path, and the files conductors write."""

import http.server
import json
import os
import threading
import time

from ironic.common import exception as ironic_exception
from ironic.conf import CONF
from keystoneauth1 import exceptions as ks_exceptions
from oslo_config import cfg
from oslo_db import exception as db_exception
import oslo_messaging as messaging
import webtest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.api import lookup
from ironic_boot_config_mw.api import middleware
from ironic_boot_config_mw.bootapi import app as app_mod
from ironic_boot_config_mw.providers import base


class Clock:
    """A monotonic clock the test moves: ``clock.now += seconds``."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


SCRIPT = b'#!ipxe\nkernel http://127.0.0.1:8080/k\nboot\n'


def ironic_app(environ, start_response):
    """Stands in for Ironic's pecan app: says who answered."""
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [b'{"ironic": "%s"}' % environ['PATH_INFO'].encode()]


class Client:
    """The RPC client as the filter sees it: answers or raises."""

    def __init__(self, result=None):
        self.result = result or base.BootConfig(SCRIPT)
        self.calls = []

    def get_boot_config(self, context, node, name):
        self.calls.append((node.uuid, name))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result, '127.0.0.2'


def make_app(find_node=None, client=None, restrict=True):
    mw = middleware.BootConfigMiddleware(
        ironic_app, conf=CONF,
        find_node=find_node or lookup.NodeLookup(restrict=restrict),
        client=client or Client())
    return webtest.TestApp(mw)


def headers_of(resp):
    return sorted((k, v) for k, v in resp.headerlist if k != 'Date')


def _port_not_pxe(make_node):
    return make_node(pxe_enabled=False)[1], Client()


def _refused_state(make_node):
    return make_node(provision_state='active')[1], Client()


def _raising(exc):
    def case(make_node):
        return make_node()[1], Client(exc)
    return case


CAUSES = {
    'malformed-mac': lambda mk: ('52:54:00:zz:00:01', Client()),
    'unknown-mac': lambda mk: ('52:54:ff:ff:ff:ff', Client()),
    'port-not-pxe-enabled': _port_not_pxe,
    'refused-state': _refused_state,
    'unknown-name': _raising(exception.BootConfigNotFound(
        reason='x.cfg is not served')),
    'no-provider': _raising(exception.BootConfigNotFound(
        reason='boot interface fake has neither')),
    'node-gone': _raising(ironic_exception.NodeNotFound(node='x')),
    'no-conductor': _raising(ironic_exception.NoValidHost(reason='none')),
    'shim-unreachable': _raising(ks_exceptions.ConnectFailure('refused')),
    'rpc-timeout': _raising(ks_exceptions.ConnectTimeout('timed out')),
    'oslo-timeout': _raising(messaging.MessagingTimeout('timed out')),
    'rpc-unexpected': _raising(ironic_exception.IronicException('boom')),
    'db-error': _raising(db_exception.DBConnectionError('gone')),
    'provider-bug': _raising(ZeroDivisionError()),
}


def newer_ironic_option(opt, group=None):
    """Register an option of a newer Ironic release if this one has none,
    with Ironic's default: the filter reads it as absent alike. (Options
    stay registered: CONF is parsed, oslo.config unregisters no more.)"""
    try:
        CONF.register_opt(opt, group)
    except cfg.DuplicateOptError:
        pass   # this Ironic's own


NOT_FOUND = b'# Not Found\n'


class Shims(Client):
    """The RPC client with shims that answer a ping, or not."""

    def __init__(self, down=(), hang=0.0):
        super().__init__()
        self.down, self.hang = set(down), hang
        self.pings = 0

    def conductors(self):
        return ['c1', 'c2']

    def ping(self, context, host):
        self.pings += 1
        if host in self.down:
            time.sleep(self.hang)
            raise ConnectionRefusedError(host)
        return {'host': host}


def make_boot_api(client=None, find_node=None):
    return webtest.TestApp(app_mod.BootAPI(
        CONF, find_node=find_node or lookup.NodeLookup(),
        client=client or Shims()))


#: A call failed at once takes no time on the wire; the bound leaves room
#: for a loaded machine (2 shared cores), far below any timeout used here.
FAST = 0.1


class FakeShim:
    """A JSON-RPC server answering as the shim: ``answer(params)`` returns
    the result, or raises LookupError for the shim's "nothing to serve"
    (JSON-RPC error 404)."""

    def __init__(self, host, port, answer=None):
        self.calls = []
        calls = self.calls
        answer = answer or (lambda params: ['text/plain', 'b2s='])

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def do_POST(self):
                request = json.loads(self.rfile.read(
                    int(self.headers['Content-Length'])))
                calls.append(request['method'])
                reply = {'jsonrpc': '2.0', 'id': request['id']}
                try:
                    reply['result'] = answer(request['params'])
                except LookupError as exc:
                    reply['error'] = {'code': 404, 'message': str(exc)}
                body = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


HOST = '127.0.0.1'


def write_ipxe_config(node_uuid, body=b'#!ipxe\nboot\n'):
    path = os.path.join(CONF.deploy.http_root, node_uuid, 'config')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(body)
    return path


# What Ironic 39 wrote for a pxe and an http node (UEFI), trimmed.
GRUB_PXE_CFG = """set default=deploy
menuentry "deploy"  {
    linux %(u)s/deploy_kernel selinux=0 text ipa-api-url=http://a:6385
    initrd %(u)s/deploy_ramdisk
}
menuentry "boot_ramdisk"  {
    linuxefi (http,other:80)/k root=/dev/ram0
    initrdefi http://x/r
}
"""


def write_grub_config(tftp_root, uuid, text):
    os.makedirs(os.path.join(tftp_root, uuid))
    with open(os.path.join(tftp_root, uuid, 'config'), 'w') as f:
        f.write(text)
