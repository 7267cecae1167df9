import contextlib
import os
import types

from ironic.common import context as ironic_context
from ironic.common import exception as ironic_exception
from ironic.conf import CONF
import pytest
import stevedore

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.providers import base
from ironic_boot_config_mw.providers import dispatch
from ironic_boot_config_mw.providers import ipxe
from tests.harness import metal3
from tests.unit import fakes


def test_reads_regular_file(tmp_path):
    (tmp_path / 'f').write_bytes(b'data')
    assert base.read_file_under(tmp_path, tmp_path / 'f', 10) == b'data'


def test_missing_file(tmp_path):
    with pytest.raises(exception.BootConfigNotFound, match='does not exist'):
        base.read_file_under(tmp_path, tmp_path / 'nope', 10)


def test_link_out_of_root_refused(tmp_path):
    root, outside = tmp_path / 'root', tmp_path / 'secret'
    root.mkdir()
    outside.write_bytes(b'secret')
    (root / 'config').symlink_to(outside)
    with pytest.raises(exception.BootConfigNotFound, match='through a link'):
        base.read_file_under(root, root / 'config', 100)


def test_linked_directory_refused(tmp_path):
    root, outside = tmp_path / 'root', tmp_path / 'elsewhere'
    root.mkdir()
    outside.mkdir()
    (outside / 'config').write_bytes(b'secret')
    (root / 'node').symlink_to(outside)
    with pytest.raises(exception.BootConfigNotFound, match='through a link'):
        base.read_file_under(root, root / 'node' / 'config', 100)


@pytest.mark.parametrize('relative', ['../secret', 'a/../../secret',
                                      'a/./b', '/etc/passwd'])
def test_paths_not_below_root_refused(tmp_path, relative):
    root = tmp_path / 'root'
    (root / 'a' / 'b').mkdir(parents=True)
    (tmp_path / 'secret').write_bytes(b'secret')
    path = relative if relative.startswith('/') else '%s/%s' % (root,
                                                                relative)
    with pytest.raises(exception.BootConfigNotFound):
        base.read_file_under(root, path, 100)


def test_links_inside_root_refused_too(tmp_path):
    """Ironic writes regular files: no link below root is followed."""
    (tmp_path / 'real').write_bytes(b'ok')
    (tmp_path / 'link').symlink_to(tmp_path / 'real')
    with pytest.raises(exception.BootConfigNotFound, match='through a link'):
        base.read_file_under(tmp_path, tmp_path / 'link', 10)


def test_root_itself_may_be_a_link(tmp_path):
    (tmp_path / 'real').mkdir()
    (tmp_path / 'real' / 'config').write_bytes(b'ok')
    (tmp_path / 'httpboot').symlink_to(tmp_path / 'real')
    root = tmp_path / 'httpboot'
    assert base.read_file_under(root, root / 'config', 10) == b'ok'


def test_directory_refused(tmp_path):
    (tmp_path / 'dir').mkdir()
    with pytest.raises(exception.BootConfigNotFound,
                       match='not a regular file'):
        base.read_file_under(tmp_path, tmp_path / 'dir', 10)


def test_fifo_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / 'fifo')
    with pytest.raises(exception.BootConfigNotFound,
                       match='not a regular file'):
        base.read_file_under(tmp_path, tmp_path / 'fifo', 10)


def test_size_cap(tmp_path):
    (tmp_path / 'exact').write_bytes(b'x' * 10)
    (tmp_path / 'over').write_bytes(b'x' * 11)
    assert len(base.read_file_under(tmp_path, tmp_path / 'exact', 10)) == 10
    with pytest.raises(exception.BootConfigNotFound, match='larger than'):
        base.read_file_under(tmp_path, tmp_path / 'over', 10)


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        # root reads anything: make open() fail another way (EISDIR-free):
        # a file name too long for the file system.
        path = tmp_path / ('x' * 300)
    else:
        path = tmp_path / 'locked'
        path.write_bytes(b'x')
        path.chmod(0)
    with pytest.raises(exception.BootConfigNotFound, match='cannot open'):
        base.read_file_under(tmp_path, path, 10)


# -- the iPXE provider and the dispatch, on a real task ---------------------

@pytest.fixture
def registry():
    return dispatch.ProviderRegistry(['ipxe', 'fake', 'http-ipxe'])


def test_registry_loads_shipped_providers(registry):
    assert isinstance(registry.get('ipxe'), ipxe.IPXEProvider)
    assert isinstance(registry.get('http-ipxe'), ipxe.IPXEProvider)
    with pytest.raises(exception.BootConfigNotFound, match='fake has neither'):
        registry.get('fake')


def test_ipxe_serves_the_conductors_script(make_node, registry):
    node, _mac = make_node()
    fakes.write_ipxe_config(node.uuid, b'#!ipxe\nkernel http://me/k\n')
    config = dispatch.get_boot_config(ironic_context.get_admin_context(),
                                      node.uuid, 'boot.ipxe', registry)
    assert config[:2] == (b'#!ipxe\nkernel http://me/k\n', 'text/plain')
    assert config.written_at == os.stat(
        os.path.join(CONF.deploy.http_root, node.uuid, 'config')).st_mtime


def test_ipxe_other_names_not_found(make_node, registry):
    node, _mac = make_node()
    fakes.write_ipxe_config(node.uuid)
    for name in ('grub.cfg', 'config', 'boot.ipxe.bak'):
        with pytest.raises(exception.BootConfigNotFound,
                           match='not served for boot interface ipxe'):
            dispatch.get_boot_config(ironic_context.get_admin_context(),
                                     node.uuid, name, registry)


def test_ipxe_missing_script(make_node, registry):
    node, _mac = make_node()
    with pytest.raises(exception.BootConfigNotFound, match='does not exist'):
        dispatch.get_boot_config(ironic_context.get_admin_context(),
                                 node.uuid, 'boot.ipxe', registry)


def test_boot_interface_without_provider(make_node, registry):
    node, _mac = make_node(boot_interface='fake')
    with pytest.raises(exception.BootConfigNotFound, match='fake has neither'):
        dispatch.get_boot_config(ironic_context.get_admin_context(),
                                 node.uuid, 'boot.ipxe', registry)


def test_unknown_node(ironic_db, registry):
    with pytest.raises(ironic_exception.NodeNotFound):
        dispatch.get_boot_config(ironic_context.get_admin_context(),
                                 '1be26c0b-03f2-4d2e-ae87-c02d7f33c781',
                                 'boot.ipxe', registry)


def test_ipxe_is_served_without_a_task(make_node, registry, monkeypatch):
    """The API passes the boot interface it read: no lock, no DB, no driver."""
    node, _mac = make_node()
    fakes.write_ipxe_config(node.uuid, b'#!ipxe\nno task\n')

    def no_task(*args, **kwargs):
        raise AssertionError('a task was taken')

    monkeypatch.setattr(dispatch.task_manager, 'acquire', no_task)
    config = dispatch.get_boot_config(None, node.uuid, 'boot.ipxe', registry,
                                      boot_interface='ipxe')
    assert config.body == b'#!ipxe\nno task\n'


def test_without_task_only_for_providers_that_say_so(registry):
    assert isinstance(registry.without_task('ipxe'), ipxe.IPXEProvider)
    assert isinstance(registry.without_task('http-ipxe'), ipxe.IPXEProvider)
    assert registry.without_task('fake') is None        # no provider
    assert registry.without_task(None) is None          # API did not say
    grub_registry = dispatch.ProviderRegistry(['pxe', 'http'])
    assert grub_registry.without_task('pxe') is None    # GRUB needs the node


def test_task_is_shared(make_node, registry, monkeypatch):
    node, _mac = make_node()
    fakes.write_ipxe_config(node.uuid)
    seen = []
    real_acquire = dispatch.task_manager.acquire

    def acquire(context, node_id, **kwargs):
        seen.append(kwargs)
        return real_acquire(context, node_id, **kwargs)

    monkeypatch.setattr(dispatch.task_manager, 'acquire', acquire)
    dispatch.get_boot_config(ironic_context.get_admin_context(), node.uuid,
                             'boot.ipxe', registry)
    assert seen[0]['shared'] is True


# -- a boot interface with its own get_boot_config wins --------------------

class FakeTask:
    """A shared task without a driver until ``load_driver()``."""

    def __init__(self, boot):
        self._boot = boot
        self.driver = None
        self.node = types.SimpleNamespace(uuid='u', boot_interface='ipxe',
                                          driver='fake-hardware')

    def load_driver(self):
        self.driver = types.SimpleNamespace(boot=self._boot)


@pytest.fixture
def with_task(monkeypatch, registry):
    """``ipxe`` as a native interface whose task returns ``boot``."""
    def use(boot):
        @contextlib.contextmanager
        def acquire(context, node_id, shared, purpose, load_driver):
            assert shared and not load_driver
            yield FakeTask(boot)
        monkeypatch.setattr(dispatch.task_manager, 'acquire', acquire)
        monkeypatch.setattr(registry, '_native', {'ipxe'})
    return use


class NativeBoot:
    def __init__(self, result):
        self.result = result

    def get_boot_config(self, task, name):
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.mark.parametrize('result,expected', [
    (base.BootConfig(b'x', 'text/x-grub'), base.BootConfig(b'x',
                                                           'text/x-grub')),
    (b'bytes', base.BootConfig(b'bytes')),
    ('str \u00e9', base.BootConfig('str \u00e9'.encode())),
])
def test_native_get_boot_config_wins(with_task, registry, result, expected):
    with_task(NativeBoot(result))
    assert dispatch.get_boot_config(None, 'u', 'boot.ipxe',
                                    registry) == expected


def test_native_unsupported_is_not_found(with_task, registry):
    with_task(NativeBoot(ironic_exception.UnsupportedDriverExtension(
        driver='fake-hardware', extension='get_boot_config')))
    with pytest.raises(exception.BootConfigNotFound,
                       match='does not support get_boot_config'):
        dispatch.get_boot_config(None, 'u', 'boot.ipxe', registry)


def test_native_bad_return_type(with_task, registry):
    with_task(NativeBoot(42))
    with pytest.raises(TypeError):
        dispatch.get_boot_config(None, 'u', 'boot.ipxe', registry)


def test_provider_load_failure_is_clear(tmp_path, monkeypatch):
    """A provider whose module is missing stops start-up with its name."""
    dist = tmp_path / 'broken_provider-1.0.dist-info'
    dist.mkdir()
    (dist / 'METADATA').write_text('Name: broken-provider\nVersion: 1.0\n')
    (dist / 'entry_points.txt').write_text(
        '[ironic_boot_config_mw.providers]\n'
        'broken = no_such_module_here:Provider\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    # stevedore remembers a namespace's entry points per process.
    monkeypatch.setattr(stevedore.ExtensionManager, 'ENTRY_POINT_CACHE', {},
                        raising=False)
    with pytest.raises(exception.ProviderLoadError,
                       match="provider broken: No module named "
                             "'no_such_module_here'"):
        dispatch.ProviderRegistry(['ipxe', 'broken'])


# -- nothing of ours renders Ironic's root configs -------------------------

@pytest.fixture
def fresh_boot_interfaces(monkeypatch, overrides, tmp_path):
    """A process that never built a driver: Ironic's boot interfaces not
    yet instantiated; roots whose root configs link (as the conductor
    rendered them); this process's templates Ironic's stock ones."""
    from ironic.common import driver_factory
    factory = driver_factory._INTERFACE_LOADERS['boot']
    monkeypatch.setattr(factory, '_extension_manager', None)
    http_root, tftp_root = tmp_path / 'http', tmp_path / 'tftp'
    (tftp_root / 'grub').mkdir(parents=True)
    (http_root / 'grub').mkdir(parents=True)
    overrides('http_root', str(http_root), 'deploy')
    overrides('tftp_root', str(tftp_root), 'pxe')
    linked = {http_root / 'boot.ipxe': '#!ipxe\nchain .../v1/boot/\n',
              http_root / 'grub' / 'grub.cfg': 'configfile (http,a)/v1/boot',
              tftp_root / 'grub' / 'grub.cfg': 'configfile (http,a)/v1/boot'}
    for path, text in linked.items():
        path.write_text(text)
    return linked


def unchanged(linked):
    return {path: path.read_text() for path in linked} == linked


@pytest.mark.parametrize('boot_interface', ['pxe', 'http', 'fake', None])
def test_providers_and_refusals_render_nothing(fresh_boot_interfaces,
                                               make_node, boot_interface):
    """GRUB (a task), a providerless interface, an API that did not say
    the interface (RPC 1.0): no driver is built, nothing is rendered."""
    registry = dispatch.ProviderRegistry(['fake', 'ipxe', 'pxe', 'http'])
    node, _mac = make_node(boot_interface=boot_interface or 'pxe',
                           provision_state='clean wait')
    with pytest.raises(ironic_exception.NotFound):
        dispatch.get_boot_config(ironic_context.get_admin_context(),
                                 node.uuid, 'grub.cfg', registry,
                                 boot_interface=boot_interface)
    assert unchanged(fresh_boot_interfaces)


def test_a_driver_built_after_start_up_renders_nothing(
        fresh_boot_interfaces, make_node):
    """What a process with a native interface does at start-up: the
    renders go to a private directory, gone after; the instances stay,
    so the drivers built later for requests render nothing either."""
    from ironic.conductor import task_manager
    http_root = CONF.deploy.http_root
    dispatch.instantiate_boot_interfaces(CONF)
    assert unchanged(fresh_boot_interfaces)
    assert CONF.deploy.http_root == http_root   # restored
    node, _mac = make_node(boot_interface='ipxe')
    with task_manager.acquire(ironic_context.get_admin_context(), node.uuid,
                              shared=True) as task:
        assert task.driver.boot is not None
    assert unchanged(fresh_boot_interfaces)


def test_building_a_driver_renders_without_the_guard(fresh_boot_interfaces,
                                                     make_node):
    """The hazard itself, so that the tests above can fail."""
    from ironic.conductor import task_manager
    node, _mac = make_node(boot_interface='ipxe')
    with task_manager.acquire(ironic_context.get_admin_context(), node.uuid,
                              shared=True):
        pass
    assert not unchanged(fresh_boot_interfaces)


# -- the iPXE provider: a served script means what it means at its owner ----

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
