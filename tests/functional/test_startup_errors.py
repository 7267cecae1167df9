"""Bad configuration stops the processes at start-up, saying what is wrong."""

import os
import subprocess

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
