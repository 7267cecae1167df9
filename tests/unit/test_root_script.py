import os

from ironic.common import pxe_utils
from ironic.conf import CONF
import pytest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw import root_script

API = 'http://10.0.0.1:6385'


@pytest.fixture
def template(tmp_path, overrides):
    path = tmp_path / 'tmpl' / 'boot.ipxe'
    overrides('ipxe_boot_script', str(path), 'pxe')
    overrides('ipxe_use_boot_config_api', True, 'pxe')
    overrides('ipxe_config_api_root_url', API + '/', 'pxe')
    return path


def rendered_root_script(tmp_path, overrides):
    """What Ironic itself writes into http_root from the template."""
    http_root = tmp_path / 'httproot'
    http_root.mkdir(exist_ok=True)
    overrides('http_root', str(http_root), 'deploy')
    pxe_utils.create_ipxe_boot_script()
    return (http_root / 'boot.ipxe').read_text()


def test_ironics_own_render_links_to_the_api(template, tmp_path, overrides):
    overrides('ipxe_fallback_script', 'inspector.ipxe', 'pxe')
    assert root_script.ensure_template(CONF) == str(template)
    script = rendered_root_script(tmp_path, overrides)
    assert script.startswith('#!ipxe\n')
    assert ('chain %s/v1/boot/${net${boot_config_netid}/mac}/boot.ipxe '
            '|| goto boot_config_loop' % API) in script
    # then exactly Ironic's stock logic: per-MAC files, then the fallback
    assert 'chain pxelinux.cfg/${net${netid}/mac:hexhyp} || goto loop' \
        in script
    assert 'chain inspector.ipxe | goto boot_failed' in script
    assert script.index('/v1/boot/') < script.index('pxelinux.cfg/')
    assert script.count('#!ipxe') == 1


def test_stock_template_is_embedded_verbatim(template):
    root_script.ensure_template(CONF)
    with open(root_script.STOCK_TEMPLATE) as f:
        stock_body = f.read().split('\n', 1)[1]
    assert template.read_text().endswith(stock_body)


def test_second_run_changes_nothing(template):
    assert root_script.ensure_template(CONF) == str(template)
    mtime = os.stat(template).st_mtime_ns
    assert root_script.ensure_template(CONF) is None
    assert os.stat(template).st_mtime_ns == mtime


def test_new_url_rewrites(template, overrides):
    root_script.ensure_template(CONF)
    overrides('ipxe_config_api_root_url', 'http://proxy/baremetal', 'pxe')
    assert root_script.ensure_template(CONF) == str(template)
    assert 'chain http://proxy/baremetal/v1/boot/' in template.read_text()


def test_url_from_the_service_catalog(template, overrides):
    overrides('ipxe_config_api_root_url', None, 'pxe')
    overrides('endpoint_override', 'http://192.0.2.9:6385/', 'service_catalog')
    root_script.ensure_template(CONF)
    assert 'chain http://192.0.2.9:6385/v1/boot/' in template.read_text()


def test_no_url_is_a_clear_error(template, overrides):
    overrides('ipxe_config_api_root_url', None, 'pxe')
    overrides('endpoint_override', None, 'service_catalog')
    with pytest.raises(exception.RootScriptError,
                       match='set \\[pxe\\]ipxe_config_api_root_url'):
        root_script.ensure_template(CONF)
    assert not template.exists()


def test_never_overwrites_ironics_own_template(overrides):
    overrides('ipxe_use_boot_config_api', True, 'pxe')
    overrides('ipxe_boot_script', root_script.STOCK_TEMPLATE, 'pxe')
    with open(root_script.STOCK_TEMPLATE) as f:
        before = f.read()
    with pytest.raises(exception.RootScriptError, match="Ironic's own"):
        root_script.ensure_template(CONF)
    with open(root_script.STOCK_TEMPLATE) as f:
        assert f.read() == before


def test_never_overwrites_a_foreign_template(template):
    template.parent.mkdir()
    template.write_text('#!ipxe\n# the operator\'s own\n')
    with pytest.raises(exception.RootScriptError, match='not written by'):
        root_script.ensure_template(CONF)
    assert template.read_text() == '#!ipxe\n# the operator\'s own\n'


def test_switching_off_gives_back_the_stock_template(template, overrides,
                                                     tmp_path):
    root_script.ensure_template(CONF)
    overrides('ipxe_use_boot_config_api', False, 'pxe')
    assert root_script.ensure_template(CONF) == str(template)
    with open(root_script.STOCK_TEMPLATE) as f:
        assert template.read_text() == f.read()
    assert '/v1/boot/' not in rendered_root_script(tmp_path, overrides)


def test_off_leaves_other_templates_alone(template, overrides):
    overrides('ipxe_use_boot_config_api', False, 'pxe')
    assert root_script.ensure_template(CONF) is None
    assert not template.exists()
    template.parent.mkdir()
    template.write_text('#!ipxe\nmine\n')
    assert root_script.ensure_template(CONF) is None
    assert template.read_text() == '#!ipxe\nmine\n'


# -- the all-in-one ironic: one option -------------------------------------

@pytest.fixture
def all_in_one(tmp_path, overrides, monkeypatch):
    """Only [pxe]ipxe_use_boot_config_api set (and the root URL), the
    template option at Ironic's default; the root script Ironic rendered
    at conductor start is there."""
    from ironic.common import rpc as ironic_rpc
    monkeypatch.setattr(ironic_rpc, 'GLOBAL_MANAGER', object())
    overrides('ipxe_use_boot_config_api', True, 'pxe')
    overrides('ipxe_config_api_root_url', API, 'pxe')
    overrides('ipxe_boot_script', root_script.STOCK_TEMPLATE, 'pxe')
    http_root = tmp_path / 'httproot'
    http_root.mkdir()
    overrides('http_root', str(http_root), 'deploy')
    pxe_utils.create_ipxe_boot_script()   # as at conductor start
    assert '/v1/boot/' not in (http_root / 'boot.ipxe').read_text()
    return http_root / 'boot.ipxe'


def test_one_option_in_the_all_in_one(all_in_one):
    assert root_script.conductor_in_process()
    with open(root_script.STOCK_TEMPLATE) as f:
        stock = f.read()
    path = root_script.link_in_process(CONF)
    # Ironic's render, right away and at every later prepare, links.
    assert ('chain %s/v1/boot/${net${boot_config_netid}/mac}/boot.ipxe'
            % API) in all_in_one.read_text()
    all_in_one.unlink()
    pxe_utils.create_ipxe_boot_script()   # a prepare_ramdisk
    assert '/v1/boot/' in all_in_one.read_text()
    # In this process only, from a private directory; Ironic's file intact.
    assert CONF.pxe.ipxe_boot_script == path != root_script.STOCK_TEMPLATE
    assert os.path.basename(path) == 'boot.ipxe'
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == '0o700'
    with open(root_script.STOCK_TEMPLATE) as f:
        assert f.read() == stock


def test_all_in_one_keeps_an_operators_own_template(all_in_one, tmp_path,
                                                    overrides):
    own = tmp_path / 'own' / 'boot.ipxe'
    own.parent.mkdir()
    own.write_text('#!ipxe\necho my own fallback\n')
    overrides('ipxe_boot_script', str(own), 'pxe')
    root_script.link_in_process(CONF)
    script = all_in_one.read_text()
    assert script.index('/v1/boot/') < script.index('echo my own fallback')
    assert own.read_text() == '#!ipxe\necho my own fallback\n'


def test_all_in_one_option_off_changes_nothing(all_in_one, overrides):
    overrides('ipxe_use_boot_config_api', False, 'pxe')
    assert root_script.link_in_process(CONF) is None
    assert CONF.pxe.ipxe_boot_script == root_script.STOCK_TEMPLATE
    assert '/v1/boot/' not in all_in_one.read_text()
