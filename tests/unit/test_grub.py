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

import os

from ironic.common import context as ironic_context
from ironic.conductor import task_manager
from ironic.conf import CONF
import pytest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.providers import dispatch
from ironic_boot_config_mw.providers import grub
from tests.unit import fakes

HTTP_CFG = """set default=deploy
menuentry "deploy"  {
    linux ../httproot/%(u)s/deploy_kernel selinux=0 text
    initrd ../httproot/%(u)s/deploy_ramdisk
}
"""
U = '0d7b1d3c-2c3e-4b43-9d5b-6b6a1f2b8a11'


@pytest.fixture
def roots(tmp_path):
    tftp, http = tmp_path / 'tftproot', tmp_path / 'httproot'
    tftp.mkdir()
    http.mkdir()
    overrides = [('tftp_root', str(tftp), 'pxe'),
                 ('tftp_server', '192.0.2.20', 'pxe'),
                 ('http_root', str(http), 'deploy'),
                 ('http_url', 'http://192.0.2.20:8080/boot', 'deploy')]
    for name, value, group in overrides:
        CONF.set_override(name, value, group)
    yield str(tftp), str(http)
    for name, _value, group in overrides:
        CONF.clear_override(name, group)


def test_pxe_paths_point_at_this_conductors_tftp(roots):
    out = grub.absolute_paths(fakes.GRUB_PXE_CFG % {'u': U}, roots[0])
    assert '    linux (tftp,192.0.2.20)/%s/deploy_kernel selinux=0 text ' \
           'ipa-api-url=http://a:6385\n' % U in out
    assert '    initrd (tftp,192.0.2.20)/%s/deploy_ramdisk\n' % U in out
    # Paths that already name a device stay as they are.
    assert 'linuxefi (http,other:80)/k root=/dev/ram0' in out
    assert 'initrdefi http://x/r' in out
    assert out.count('\n') == fakes.GRUB_PXE_CFG.count('\n')


def test_http_paths_point_at_this_conductors_http_url(roots):
    out = grub.absolute_paths(HTTP_CFG % {'u': U}, roots[0])
    assert 'linux (http,192.0.2.20:8080)/boot/%s/deploy_kernel selinux=0' \
        % U in out
    assert 'initrd (http,192.0.2.20:8080)/boot/%s/deploy_ramdisk' % U in out


def test_nothing_else_changes(roots):
    text = 'set default=deploy\n# linux x\necho linux y\n'
    assert grub.absolute_paths(text, roots[0]) == text


def acquire(node):
    return task_manager.acquire(ironic_context.get_admin_context(),
                                node.uuid, shared=True)


@pytest.mark.parametrize('boot_interface', ['pxe', 'http'])
def test_serves_uefi_nodes_through_a_real_task(roots, make_node,
                                               boot_interface):
    node, _mac = make_node(boot_interface=boot_interface)
    fakes.write_grub_config(roots[0], node.uuid,
                            fakes.GRUB_PXE_CFG % {'u': node.uuid})
    registry = dispatch.ProviderRegistry(['pxe', 'http'])
    config = dispatch.get_boot_config(ironic_context.get_admin_context(),
                                      node.uuid, 'grub.cfg', registry)
    assert config.content_type == 'text/plain'
    assert b'linux (tftp,192.0.2.20)/%s/deploy_kernel' % node.uuid.encode() \
        in config.body
    with acquire(node) as task:
        with pytest.raises(exception.BootConfigNotFound,
                           match='boot.ipxe is not served'):
            grub.GrubProvider().get_boot_config(task, 'boot.ipxe')


def test_bios_nodes_have_no_grub_config(roots, make_node):
    node, _mac = make_node(boot_interface='pxe')
    fakes.write_grub_config(roots[0], node.uuid,
                            fakes.GRUB_PXE_CFG % {'u': node.uuid})
    CONF.set_override('default_boot_mode', 'bios', 'deploy')
    try:
        with acquire(node) as task:
            with pytest.raises(exception.BootConfigNotFound,
                               match='does not boot in UEFI mode'):
                grub.GrubProvider().get_boot_config(task, 'grub.cfg')
    finally:
        CONF.clear_override('default_boot_mode', 'deploy')


T = '(tftp,192.0.2.20)/'
H = '(http,192.0.2.20:8080)/boot/'


@pytest.mark.parametrize('config,expected', [
    pytest.param('linux u/k a=b initrd=u/r', 'linux <t>u/k a=b initrd=u/r',
                 id='linux-first-word-only'),
    pytest.param('linuxefi u/k', 'linuxefi <t>u/k', id='linuxefi'),
    pytest.param('linux16 u/k', 'linux16 <t>u/k', id='linux16'),
    pytest.param('initrd u/r u/ca', 'initrd <t>u/r <t>u/ca',
                 id='initrd-every-file'),
    pytest.param('initrdefi u/r ../httproot/u/ca',
                 'initrdefi <t>u/r <h>u/ca', id='initrdefi-both-roots'),
    pytest.param('initrd16 u/r', 'initrd16 <t>u/r', id='initrd16'),
    pytest.param('initrd newc:etc/ca.crt:u/ca u/r',
                 'initrd newc:etc/ca.crt:<t>u/ca <t>u/r', id='initrd-newc'),
    pytest.param('chainloader --force --bpb u/shim.efi a',
                 'chainloader --force --bpb <t>u/shim.efi a',
                 id='chainloader-flags'),
    pytest.param('devicetree u/dtb', 'devicetree <t>u/dtb', id='devicetree'),
    pytest.param('source u/$net_default_mac.cfg',
                 'source <t>u/$net_default_mac.cfg', id='source-variable-in'),
    pytest.param('configfile /grub/x.cfg', 'configfile <t>grub/x.cfg',
                 id='configfile-rooted'),
    # GRUB's script syntax.
    pytest.param('set a=b; linux u/k && initrd u/r',
                 'set a=b; linux <t>u/k && initrd <t>u/r',
                 id='after-semicolon-and'),
    pytest.param('if true; then initrd u/r; else initrd u/s; fi',
                 'if true; then initrd <t>u/r; else initrd <t>u/s; fi',
                 id='after-keywords'),
    pytest.param('menuentry "x y" --id d { linux u/k; initrd u/r }',
                 'menuentry "x y" --id d { linux <t>u/k; initrd <t>u/r }',
                 id='one-line-menuentry'),
    pytest.param('\tlinux\t u/k  a\n', '\tlinux\t <t>u/k  a\n',
                 id='whitespace-kept'),
    # Left as they are.
    pytest.param('linux "u/k"\ninitrd \'u/r\' u\\/s', 'linux "u/k"\n'
                 'initrd \'u/r\' u\\/s', id='quoted-or-escaped'),
    pytest.param('linux $prefix/k\ninitrd ${root}/r', 'linux $prefix/k\n'
                 'initrd ${root}/r', id='variable-first'),
    pytest.param('linux (http,x)/k\ninitrd http://x/r', 'linux (http,x)/k\n'
                 'initrd http://x/r', id='device-or-url'),
    pytest.param('linux no_kernel\ninitrd no_ramdisk', 'linux no_kernel\n'
                 'initrd no_ramdisk', id='ironic-placeholders'),
    pytest.param('# linux u/k\necho linux u/k # initrd u/r\nlinux#x u/k',
                 '# linux u/k\necho linux u/k # initrd u/r\nlinux#x u/k',
                 id='comments-and-other-commands'),
    pytest.param('linux ../../outside', 'linux ../../outside',
                 id='outside-the-roots'),
    pytest.param('echo "a\nlinux u/k"', 'echo "a\nlinux u/k"',
                 id='inside-a-multiline-string'),
])
def test_paths_grub_loads(roots, config, expected):
    out = grub.absolute_paths(config, roots[0])
    assert out == expected.replace('<t>', T).replace('<h>', H)


def test_config_without_such_paths_is_the_owners_file(roots, make_node):
    node, _mac = make_node(boot_interface='http')
    body = (b'set default=deploy\necho \xff\nmenuentry "deploy" {\n'
            b'    linux (http,192.0.2.20:8080)/k text\n'
            b'    initrd http://x/r\n}\n')
    os.makedirs(os.path.join(roots[0], node.uuid))
    with open(os.path.join(roots[0], node.uuid, 'config'), 'wb') as f:
        f.write(body)
    with acquire(node) as task:
        assert grub.GrubProvider().get_boot_config(task, 'grub.cfg').body \
            == body
