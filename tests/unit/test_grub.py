import os

from ironic.common import context as ironic_context
from ironic.conductor import task_manager
from ironic.conf import CONF
import pytest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.providers import dispatch
from ironic_boot_config_mw.providers import grub

# What Ironic 39 wrote for a pxe and an http node (UEFI), trimmed.
PXE_CFG = """set default=deploy
menuentry "deploy"  {
    linux %(u)s/deploy_kernel selinux=0 text ipa-api-url=http://a:6385
    initrd %(u)s/deploy_ramdisk
}
menuentry "boot_ramdisk"  {
    linuxefi (http,other:80)/k root=/dev/ram0
    initrdefi http://x/r
}
"""
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
    out = grub.absolute_paths(PXE_CFG % {'u': U}, roots[0])
    assert '    linux (tftp,192.0.2.20)/%s/deploy_kernel selinux=0 text ' \
           'ipa-api-url=http://a:6385\n' % U in out
    assert '    initrd (tftp,192.0.2.20)/%s/deploy_ramdisk\n' % U in out
    # Paths that already name a device stay as they are.
    assert 'linuxefi (http,other:80)/k root=/dev/ram0' in out
    assert 'initrdefi http://x/r' in out
    assert out.count('\n') == PXE_CFG.count('\n')


def test_http_paths_point_at_this_conductors_http_url(roots):
    out = grub.absolute_paths(HTTP_CFG % {'u': U}, roots[0])
    assert 'linux (http,192.0.2.20:8080)/boot/%s/deploy_kernel selinux=0' \
        % U in out
    assert 'initrd (http,192.0.2.20:8080)/boot/%s/deploy_ramdisk' % U in out


def test_nothing_else_changes(roots):
    text = 'set default=deploy\n# linux x\necho linux y\n'
    assert grub.absolute_paths(text, roots[0]) == text


def write_config(tftp_root, uuid, text):
    os.makedirs(os.path.join(tftp_root, uuid))
    with open(os.path.join(tftp_root, uuid, 'config'), 'w') as f:
        f.write(text)


def acquire(node):
    return task_manager.acquire(ironic_context.get_admin_context(),
                                node.uuid, shared=True)


@pytest.mark.parametrize('boot_interface', ['pxe', 'http'])
def test_serves_uefi_nodes_through_a_real_task(roots, make_node,
                                               boot_interface):
    node, _mac = make_node(boot_interface=boot_interface)
    write_config(roots[0], node.uuid, PXE_CFG % {'u': node.uuid})
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
    write_config(roots[0], node.uuid, PXE_CFG % {'u': node.uuid})
    CONF.set_override('default_boot_mode', 'bios', 'deploy')
    try:
        with acquire(node) as task:
            with pytest.raises(exception.BootConfigNotFound,
                               match='does not boot in UEFI mode'):
                grub.GrubProvider().get_boot_config(task, 'grub.cfg')
    finally:
        CONF.clear_override('default_boot_mode', 'deploy')
