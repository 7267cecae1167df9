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

"""The CLI's commands over python-ironicclient's real HTTP client, against a
small HTTP server answering as Ironic's API does."""

import http.server
import json
import subprocess
import sys
import threading

from ironicclient.v1 import client as ironic_client
from keystoneauth1 import session as ks_session
from osc_lib import exceptions as osc_exceptions
import pytest

from ironic_boot_config_mw import osc

SHIMS = {'shims': {
    'c2:8089': {'alive': False, 'reason': 'ConnectionRefusedError: x'},
    'c1:8089': {'alive': True, 'providers': ['ipxe', 'pxe'],
                'native': ['custom'], 'rpc_api_version': '1.2',
                'host': 'c1:8089'}}}
EXPLAINED = {'path': '/v1/boot/52:54:00:00:00:01/boot.ipxe', 'status': 200,
             'node': 'n1', 'conductor': 'c1:8089', 'bytes': 10,
             'last_served': {'at': '2026-12-05T18:46:03+00:00',
                             'name': 'boot.ipxe', 'owner': 'c1:8089',
                             'served_by': 'ironic-api@h', 'pid': 7,
                             'source': '10.0.0.7', 'bytes': 10,
                             'sha256': 'ab'}}


class Ironic(http.server.BaseHTTPRequestHandler):
    """Ironic's API with (``answers``) or without the filter."""

    answers = {}
    seen = []

    def do_GET(self):
        self.seen.append(self.path)
        body = self.answers.get(self.path)
        status = 200 if body is not None else 404
        if body is None:
            body = {'error_message': json.dumps(
                {'faultstring': 'Resource could not be found.'})}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def ironic():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Ironic)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Ironic.answers, Ironic.seen = {}, []
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


class App:
    """What the commands use of cliff's app: the client manager."""

    def __init__(self, url):
        self.client_manager = self
        self.baremetal = ironic_client.Client(
            endpoint_override=url, os_ironic_api_version='1.31',
            session=ks_session.Session())


def run(command_class, url, *argv):
    command = command_class(App(url), None)
    parsed = command.get_parser('baremetal').parse_args(list(argv))
    return command.take_action(parsed)


def test_explain_flattens_the_answer(ironic):
    Ironic.answers['/v1/boot-explain/52%3A54%3A00%3A00%3A00%3A01/grub.cfg'
                   '?source=10.0.0.7'] = dict(EXPLAINED)
    names, values = run(osc.ExplainBootConfig, ironic, '52:54:00:00:00:01',
                        '--name', 'grub.cfg', '--source', '10.0.0.7')
    shown = dict(zip(names, values))
    assert names[0] == 'answer' and shown['answer'] == 200
    assert shown['last_served_served_by'] == 'ironic-api@h'
    assert shown['last_served_sha256'] == 'ab'
    assert 'last_served' not in shown


def test_explain_never_served(ironic):
    Ironic.answers['/v1/boot-explain/52%3A54%3A00%3A00%3A00%3A09/boot.ipxe'] \
        = {'path': '/v1/boot/52:54:00:00:00:09/boot.ipxe', 'status': 404,
           'node': None, 'reason': 'UnknownPort: no port',
           'last_served': None}
    names, values = run(osc.ExplainBootConfig, ironic, '52:54:00:00:00:09')
    shown = dict(zip(names, values))
    assert shown['last_served_at'] is None and shown['answer'] == 404
    assert shown['reason'] == 'UnknownPort: no port'


def test_shims_one_row_each_sorted(ironic):
    Ironic.answers['/v1/boot-explain'] = SHIMS
    columns, rows = run(osc.ListBootConfigShims, ironic)
    assert columns == osc.ListBootConfigShims.COLUMNS
    assert rows == [('c1:8089', True, 'ipxe, pxe', 'custom', '1.2', ''),
                    ('c2:8089', False, '', '', '',
                     'ConnectionRefusedError: x')]


@pytest.mark.parametrize('command', [osc.ExplainBootConfig,
                                     osc.ListBootConfigShims])
def test_an_api_without_the_filter_says_so(ironic, command):
    argv = ['52:54:00:00:00:01'] if command is osc.ExplainBootConfig else []
    with pytest.raises(osc_exceptions.CommandError,
                       match=r'\[api\]middleware = boot_config'):
        run(command, ironic, *argv)
    assert Ironic.seen and Ironic.seen[-1].startswith('/v1/boot-explain')


def test_the_cli_loads_nothing_of_ironic():
    """A baremetal command starts as python-ironicclient's own do: Ironic's
    exception module (and the oslo libraries it pulls in) would add tens
    of milliseconds to every start."""
    loaded = subprocess.run(
        [sys.executable, '-c', 'import sys; '
         'import ironic_boot_config_mw.osc; '
         'print(sorted(m for m in sys.modules if m.split(".")[0] == '
         '"ironic"))'],
        capture_output=True, text=True, check=True, timeout=60).stdout
    assert loaded.strip() == '[]'
