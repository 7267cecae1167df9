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

"""providers/ipxe.py: a served script means what it means at its owner."""


from ironic.common import context as ironic_context
from ironic.conf import CONF
import pytest

from ironic_boot_config_mw.providers import dispatch
from ironic_boot_config_mw.providers import ipxe
from tests.harness import metal3

#: The conductor's script directory at its owner (Ironic's root boot.ipxe
#: chains to pxelinux.cfg/<MAC>), for an http_url with a path.
OWNER = 'http://192.0.2.20:8080/boot'
DIR = OWNER + '/pxelinux.cfg/'


@pytest.mark.parametrize('script,expected', [
    pytest.param('initrd --timeout 60000  ../ipa-cacert-bundle || goto retry',
                 'initrd --timeout 60000  %s/ipa-cacert-bundle || goto retry'
                 % OWNER, id='metal3-cacert-bundle'),
    # Each command that fetches, as iPXE's src/hci/commands take them.
    *[pytest.param('%s ../k' % command, '%s %s/k' % (command, OWNER),
                   id=command)
      for command in ('kernel', 'initrd', 'imgfetch', 'module', 'chain',
                      'imgexec', 'imgload', 'imgselect', 'boot', 'imgargs',
                      'imgextract', 'shim', 'fdt', 'certstore')],
    pytest.param('imgverify a.efi a.sig', 'imgverify <d>a.efi <d>a.sig',
                 id='imgverify-both'),
    pytest.param('imgverify --signer x -t 5 a a.sig',
                 'imgverify --signer x -t 5 <d>a <d>a.sig',
                 id='imgverify-options'),
    pytest.param('imgdecrypt -n plain a.enc key',
                 'imgdecrypt -n plain <d>a.enc <d>key', id='imgdecrypt'),
    pytest.param('imgset -k net0/x val', 'imgset -k net0/x <d>val',
                 id='imgset-setting-then-uri'),
    pytest.param('sanboot --drive 0x80 --filename \\EFI\\x --no-describe '
                 'a.iso b.iso',
                 'sanboot --drive 0x80 --filename \\EFI\\x --no-describe '
                 '<d>a.iso <d>b.iso', id='sanboot-multipath'),
    pytest.param('sanhook -d 0x81 -n disk.img', 'sanhook -d 0x81 -n '
                 '<d>disk.img', id='sanhook'),
    pytest.param('md5sum a b', 'md5sum <d>a <d>b', id='md5sum'),
    # Options and their values.
    pytest.param('kernel --name k vmlinuz a=b', 'kernel --name k <d>vmlinuz '
                 'a=b', id='long-option-value'),
    pytest.param('kernel --name=k vmlinuz', 'kernel --name=k <d>vmlinuz',
                 id='long-option-equals'),
    pytest.param('kernel -n k -t 5000 vmlinuz', 'kernel -n k -t 5000 '
                 '<d>vmlinuz', id='short-options'),
    pytest.param('kernel -qt5000 -nk vmlinuz', 'kernel -qt5000 -nk '
                 '<d>vmlinuz', id='short-options-joined'),
    pytest.param('chain --autofree --replace -a -r next.ipxe',
                 'chain --autofree --replace -a -r <d>next.ipxe',
                 id='flags'),
    pytest.param('kernel -- -odd', 'kernel -- <d>-odd', id='end-of-options'),
    pytest.param('initrd --timeout', 'initrd --timeout',
                 id='refused-no-value'),
    pytest.param('kernel -t -n k x', 'kernel -t -n k x',
                 id='refused-value-is-an-option'),
    # Only the URI: the kernel's command line stays.
    pytest.param('kernel vmlinuz initrd=../r root=/dev/ram0',
                 'kernel <d>vmlinuz initrd=../r root=/dev/ram0',
                 id='command-line-kept'),
    # Variables: one where a scheme could be may hold an absolute URL.
    pytest.param('kernel ${base}/vmlinuz', 'kernel ${base}/vmlinuz',
                 id='variable-first'),
    pytest.param('kernel http${s}://h/k', 'kernel http${s}://h/k',
                 id='variable-in-scheme'),
    pytest.param('chain pxelinux.cfg/${mac:hexhyp}',
                 'chain <d>pxelinux.cfg/${mac:hexhyp}',
                 id='variable-in-path'),
    # Named images: imgacquire() takes an existing image of that name.
    pytest.param('kernel --name k http://x/vmlinuz\nimgexec k',
                 'kernel --name k http://x/vmlinuz\nimgexec k',
                 id='named-by-option'),
    pytest.param('imgfetch http://x/a.ipxe\nchain a.ipxe',
                 'imgfetch http://x/a.ipxe\nchain a.ipxe',
                 id='named-by-file-name'),
    pytest.param('imgfetch -n k http://x/a\ninitrd k',
                 'imgfetch -n k http://x/a\ninitrd <d>k',
                 id='initrd-always-downloads'),
    pytest.param('chain a.ipxe\nimgfetch http://x/a.ipxe',
                 'chain <d>a.ipxe\nimgfetch http://x/a.ipxe',
                 id='named-only-after'),
    # Absolute references stay.
    *[pytest.param('kernel %s' % uri, 'kernel %s' % uri, id=uri.split(':')[0])
      for uri in ('http://x/k', 'https://x:8443/k', 'tftp://x/k',
                  'iscsi:192.0.2.1::::iqn.x', 'ftp://x/k')],
    pytest.param('kernel //x/k', 'kernel http://x/k', id='network-path'),
    pytest.param('kernel /images/k', 'kernel http://192.0.2.20:8080/images/k',
                 id='absolute-path'),
    pytest.param('kernel 1a:b', 'kernel <d>1a:b', id='colon-not-a-scheme'),
    # What Ironic writes where a node has no kernel of its own: no file.
    pytest.param('kernel no_kernel text || goto boot_anaconda\n'
                 'initrd no_ramdisk || goto boot_anaconda',
                 'kernel no_kernel text || goto boot_anaconda\n'
                 'initrd no_ramdisk || goto boot_anaconda',
                 id='ironic-placeholders'),
    # iPXE's script syntax.
    pytest.param('#!ipxe\n# kernel ../k\n  # chain x', '#!ipxe\n# kernel ../k'
                 '\n  # chain x', id='comments'),
    pytest.param('kernel k # initrd r', 'kernel <d>k # initrd r',
                 id='comment-after-command'),
    pytest.param(':deploy\n:retry kernel k', ':deploy\n:retry kernel <d>k',
                 id='labels'),
    pytest.param('kernel a || initrd b && chain c ; imgfetch d',
                 'kernel <d>a || initrd <d>b && chain <d>c ; imgfetch <d>d',
                 id='terminators'),
    pytest.param('echo ../k\nset x ../k\niseq ${i} 1 && goto fail ||',
                 'echo ../k\nset x ../k\niseq ${i} 1 && goto fail ||',
                 id='other-commands'),
    pytest.param('\tkernel\t../k   a \r\ninitrd r\r\n',
                 '\tkernel\t%s/k   a \r\ninitrd <d>r\r\n' % OWNER,
                 id='whitespace-kept'),
    pytest.param('kernel ../\\\nk a\\\n b\ninitrd r',
                 'kernel %s/k a\\\n b\ninitrd <d>r' % OWNER,
                 id='continuation'),
    pytest.param('kernel ../k\\\n a', 'kernel %s/k\\\n a' % OWNER,
                 id='continuation-after-reference'),
])
def test_relative_references_made_absolute(script, expected):
    base = ipxe.script_url(OWNER)
    out = ipxe.absolute_uris(script.encode(), base)
    assert out.decode() == expected.replace('<d>', DIR)


@pytest.mark.parametrize('script', [
    pytest.param(b'#!ipxe\nkernel http://x/k\ninitrd ${base}/r\nboot\n',
                 id='absolute'),
    pytest.param(b'#!ipxe\r\necho \xff\xfe not UTF-8\r\nchain http://x/\r\n',
                 id='not-utf8'),
    pytest.param(b'', id='empty'),
])
def test_nothing_relative_is_the_same_bytes(script):
    assert ipxe.absolute_uris(script, ipxe.script_url(OWNER)) is script


def test_bytes_that_are_not_utf8_survive_a_rewrite():
    script = b'#!ipxe\necho \xff\nkernel k\xfe\n'
    assert ipxe.absolute_uris(script, ipxe.script_url(OWNER)) == \
        b'#!ipxe\necho \xff\nkernel %sk\xfe\n' % DIR.encode()


@pytest.mark.parametrize('http_url,root', [
    ('http://192.0.2.20:8080', 'http://192.0.2.20:8080'),
    ('http://192.0.2.20:8080/', 'http://192.0.2.20:8080'),     # Bifrost
    ('http://192.0.2.20:8080/boot', 'http://192.0.2.20:8080/boot'),
    ('http://192.0.2.20:8080/boot/', 'http://192.0.2.20:8080/boot'),
    ('http://[fd00::2]:6180', 'http://[fd00::2]:6180'),
])
def test_script_url(http_url, root):
    base = ipxe.script_url(http_url)
    assert base == root + '/pxelinux.cfg/script'
    assert ipxe.absolute_uris(b'initrd ../b', base) == b'initrd %s/b' % (
        root.encode())


def ironic_writes(node, template):
    """The node's script, written by Ironic's own code as its conductor
    does at prepare_ramdisk: ``(path, bytes)``."""
    from ironic.common import pxe_utils
    from ironic.conductor import task_manager
    with task_manager.acquire(ironic_context.get_admin_context(), node.uuid,
                              shared=True, load_driver=False) as task:
        info = pxe_utils.get_image_info(task.node, ipxe_enabled=True)
        options = pxe_utils.build_pxe_config_options(task, info,
                                                     ipxe_enabled=True)
        pxe_utils.create_pxe_config(task, options, template,
                                    ipxe_enabled=True)
    path = pxe_utils.get_pxe_config_file_path(node.uuid, ipxe_enabled=True)
    with open(path, 'rb') as f:
        return path, f.read()


@pytest.mark.parametrize('http_url,root', [
    ('http://192.0.2.20:8080/', 'http://192.0.2.20:8080'),     # Bifrost's
    ('http://192.0.2.20:6180', 'http://192.0.2.20:6180'),      # Metal3's
    ('http://192.0.2.20:8080/boot/', 'http://192.0.2.20:8080/boot'),
])
@pytest.mark.parametrize('ipxe_timeout', [0, 60])
def test_metal3_template_served_with_the_bundle_at_its_owner(
        make_node, registry, overrides, tmp_path, http_url, root,
        ipxe_timeout):
    overrides('http_url', http_url, 'deploy')
    overrides('ipxe_timeout', ipxe_timeout, 'pxe')
    node, _mac = make_node(driver_info={
        'deploy_kernel': 'http://images/deploy_kernel',
        'deploy_ramdisk': 'http://images/deploy_ramdisk'})
    _path, written = ironic_writes(node, metal3.ipxe_config_template(
        tmp_path / 'ipxe_config.template'))
    timeout = b'--timeout 60000 ' if ipxe_timeout else b''
    relative = b'\ninitrd %s ../ipa-cacert-bundle || goto retry\n' % timeout
    assert relative in written
    served = dispatch.get_boot_config(None, node.uuid, 'boot.ipxe', registry,
                                      boot_interface='ipxe')
    assert served.body == written.replace(relative, relative.replace(
        b' ../', b' %s/' % root.encode()))


@pytest.mark.parametrize('template', [
    pytest.param(None, id='ironic-stock'),
    pytest.param('metal3-without-ca', id='metal3-without-ca'),
])
def test_script_without_relative_references_is_the_owners_file(
        make_node, registry, overrides, tmp_path, template):
    overrides('http_url', 'http://192.0.2.20:8080/', 'deploy')
    node, _mac = make_node(driver_info={
        'deploy_kernel': 'http://images/deploy_kernel',
        'deploy_ramdisk': 'http://images/deploy_ramdisk'})
    if template:
        template = metal3.ipxe_config_template(
            tmp_path / 'ipxe_config.template', inject_cacert_bundle=False)
    path, written = ironic_writes(node, template or CONF.pxe.
                                  ipxe_config_template)
    assert b'kernel http://192.0.2.20:8080//%s/deploy_kernel' \
        % node.uuid.encode() in written
    served = dispatch.get_boot_config(None, node.uuid, 'boot.ipxe', registry,
                                      boot_interface='ipxe')
    assert served.body == written
