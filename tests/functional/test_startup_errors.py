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

"""Bad configuration stops the processes at start-up, saying what is wrong."""

import os
import subprocess
import time

import pytest

from tests.harness import cluster as cluster_mod
from tests.harness import net

pytestmark = pytest.mark.slow


def run(command, conf_text, tmp_path, timeout=60):
    path = tmp_path / 'ironic.conf'
    path.write_text(conf_text)
    return subprocess.run(
        [os.path.join(cluster_mod.BIN, command), '--config-file', str(path)],
        capture_output=True, text=True, timeout=timeout)


BASE = """[DEFAULT]
host = 127.0.0.2
rpc_transport = json-rpc
auth_strategy = noauth
enabled_hardware_types = fake-hardware
enabled_boot_interfaces = ipxe
enabled_power_interfaces = fake
enabled_management_interfaces = fake
[database]
connection = sqlite:///%(tmp)s/ironic.sqlite
[api]
host_ip = 127.0.0.1
port = %(port)d
middleware = boot_config
"""


@pytest.mark.parametrize('command', ['ironic-boot-config-shim',
                                     'ironic-api'])
@pytest.mark.parametrize('extra,message', [
    ('[boot_config]\nrpc_timeout = 0\n', 'rpc_timeout'),
    ('[api]\nrestrict_boot_config = sometimes\n', 'restrict_boot_config'),
    ('[pxe]\nipxe_config_api_root_url = ftp://x/\n',
     'ipxe_config_api_root_url'),
], ids=['rpc_timeout', 'restrict', 'root_url'])
def test_bad_value_stops_start_up(tmp_path, command, extra, message):
    conf = BASE % {'tmp': tmp_path, 'port': net.free_port()}
    result = run(command, conf + extra, tmp_path)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_shim_refuses_transport_none(tmp_path):
    conf = BASE % {'tmp': tmp_path, 'port': net.free_port()}
    result = run('ironic-boot-config-shim',
                 conf.replace('rpc_transport = json-rpc',
                              'rpc_transport = none'), tmp_path)
    assert result.returncode != 0
    assert 'no shim is needed' in result.stderr
    assert 'Traceback' not in result.stderr


def test_the_former_name_still_runs_the_shim_and_says_so(tmp_path):
    """ironic-boot-config-conductor: deprecated, the same program."""
    conf = BASE % {'tmp': tmp_path, 'port': net.free_port()}
    result = run('ironic-boot-config-conductor',
                 conf + '[boot_config]\nrpc_timeout = 0\n', tmp_path)
    assert result.returncode != 0
    assert 'rpc_timeout' in result.stderr
    assert 'ironic-boot-config-conductor is deprecated' in \
        result.stdout + result.stderr


def start_failure(workdir, **spec):
    """Start a cluster that must not start: ``(the process that exited,
    seconds until the harness saw it)``."""
    c = cluster_mod.IronicCluster(str(workdir), db='sqlite',
                                  conductor_hosts=['127.0.0.2'], **spec)
    started = time.monotonic()
    try:
        with pytest.raises(RuntimeError, match='exited with'):
            c.start(timeout=120)
        took = time.monotonic() - started
        exited = [p for p in c.processes if not p.alive()]
        assert len(exited) == 1, [p.name for p in exited]
        return exited[0], took
    finally:
        c.stop()


def test_all_in_one_exits_with_the_one_error(tmp_path):
    """The all-in-one ironic builds the API in a worker that oslo.service
    would respawn forever; it exits instead, saying why once."""
    proc, took = start_failure(
        tmp_path, all_in_one=True, rpc_transport='none',
        extra_conf={'boot_config': {'allowed_source_cidrs': 'not-a-cidr'}})
    log = proc.log()
    print('\nironic exited %d after %.1f s:\n%s' % (
        proc.returncode, took, '\n'.join(
            line for line in log.splitlines() if 'CRITICAL' in line)))
    assert proc.returncode == 1 and took < 60
    assert [line for line in log.splitlines()
            if 'allowed_source_cidrs' in line] == [
        line for line in log.splitlines() if 'CRITICAL' in line]
    assert log.count('cannot start') == 1
    assert 'Traceback' not in log


@pytest.mark.parametrize('all_in_one', [True, False],
                         ids=['ironic', 'ironic-api'])
def test_unix_socket_allow_list_needs_the_proxys_header(tmp_path,
                                                        all_in_one):
    spec = dict(all_in_one=True, rpc_transport='none') if all_in_one \
        else {}
    proc, _took = start_failure(tmp_path, extra_conf={
        'api': {'unix_socket': str(tmp_path / 'ironic.sock')},
        'boot_config': {'allowed_source_cidrs': '192.0.2.0/24'}}, **spec)
    assert proc.name == ('conductor-0' if all_in_one else 'api')
    assert proc.returncode != 0
    message = [line for line in proc.log().splitlines()
               if '[api]unix_socket' in line]
    assert message, proc.log()[-2000:]
    assert '[oslo_middleware]enable_proxy_headers_parsing' in message[-1]
    assert '[boot_config]allowed_source_cidrs' in message[-1]


def test_shim_answering_anyone_where_json_rpc_authenticates(tmp_path):
    """[boot_config_json_rpc]auth_strategy = noauth beyond loopback while
    [json_rpc] asks for credentials: the shim refuses to start, saying
    why in one line."""
    conf = BASE % {'tmp': tmp_path, 'port': net.free_port()}
    result = run('ironic-boot-config-shim', conf + (
        '[json_rpc]\nauth_strategy = http_basic\n'
        '[boot_config_json_rpc]\nauth_strategy = noauth\n'
        # Not an address of this host: no shim could listen there.
        'host_ip = 192.0.2.10\n'), tmp_path)
    lines = [line for line in result.stderr.splitlines()
             if '[json_rpc]auth_strategy' in line]
    print('\nexit %d: %s' % (result.returncode, lines))
    assert result.returncode != 0
    assert len(lines) == 1
    assert lines[0].startswith('ironic-boot-config-shim: ')
    for part in ('[boot_config_json_rpc]auth_strategy is noauth',
                 '[boot_config_json_rpc]host_ip = 192.0.2.10',
                 '[json_rpc]auth_strategy is http_basic'):
        assert part in lines[0]
    assert 'Traceback' not in result.stderr
