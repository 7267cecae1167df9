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

import glob
import os
import re
import shutil
import tempfile

from ironic.common import pxe_utils
from ironic.conf import CONF
import pytest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw import process
from ironic_boot_config_mw import root_config
from tests.unit import ipxe_script

API = 'http://10.0.0.1:6385'


@pytest.fixture
def template(tmp_path, overrides):
    path = tmp_path / 'tmpl' / 'boot.ipxe'
    overrides('ipxe_boot_script', str(path), 'pxe')
    overrides('ipxe_use_boot_config_api', True, 'pxe')
    overrides('ipxe_config_api_root_url', API + '/', 'pxe')
    return path


def rendered_root_config(tmp_path, overrides):
    """What Ironic itself writes into http_root from the template."""
    http_root = tmp_path / 'httproot'
    http_root.mkdir(exist_ok=True)
    overrides('http_root', str(http_root), 'deploy')
    pxe_utils.create_ipxe_boot_script()
    return (http_root / 'boot.ipxe').read_text()


def test_ironics_own_render_links_to_the_api(template, tmp_path, overrides):
    overrides('ipxe_fallback_script', 'inspector.ipxe', 'pxe')
    assert root_config.IPXE.ensure(CONF) == str(template)
    script = rendered_root_config(tmp_path, overrides)
    assert script.startswith('#!ipxe\n')
    assert ('chain %s/v1/boot/${net${boot_config_netid}/mac}/boot.ipxe '
            '|| goto boot_config_loop' % API) in script
    # then exactly Ironic's stock logic: per-MAC files, then the fallback
    assert 'chain pxelinux.cfg/${net${netid}/mac:hexhyp} || goto loop' \
        in script
    assert 'chain inspector.ipxe | goto boot_failed' in script
    assert script.index('/v1/boot/') < script.index('pxelinux.cfg/')
    assert script.count('#!ipxe') == 1


def test_second_run_changes_nothing(template):
    assert root_config.IPXE.ensure(CONF) == str(template)
    mtime = os.stat(template).st_mtime_ns
    assert root_config.IPXE.ensure(CONF) is None
    assert os.stat(template).st_mtime_ns == mtime


def test_new_url_rewrites(template, overrides):
    root_config.IPXE.ensure(CONF)
    overrides('ipxe_config_api_root_url', 'http://proxy/baremetal', 'pxe')
    assert root_config.IPXE.ensure(CONF) == str(template)
    assert 'chain http://proxy/baremetal/v1/boot/' in template.read_text()


def test_url_from_the_service_catalog(template, overrides):
    overrides('ipxe_config_api_root_url', None, 'pxe')
    overrides('endpoint_override', 'http://192.0.2.9:6385/', 'service_catalog')
    root_config.IPXE.ensure(CONF)
    assert 'chain http://192.0.2.9:6385/v1/boot/' in template.read_text()


def test_no_url_is_a_clear_error(template, overrides):
    overrides('ipxe_config_api_root_url', None, 'pxe')
    overrides('endpoint_override', None, 'service_catalog')
    with pytest.raises(exception.RootConfigError,
                       match='set \\[pxe\\]ipxe_config_api_root_url'):
        root_config.IPXE.ensure(CONF)
    assert not template.exists()


def test_off_leaves_other_templates_alone(template, overrides):
    overrides('ipxe_use_boot_config_api', False, 'pxe')
    assert root_config.IPXE.ensure(CONF) is None
    assert not template.exists()
    template.parent.mkdir()
    template.write_text('#!ipxe\nmine\n')
    assert root_config.IPXE.ensure(CONF) is None
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
    overrides('ipxe_boot_script', root_config.IPXE.stock, 'pxe')
    overrides('state_path', str(tmp_path / 'state'))
    http_root = tmp_path / 'httproot'
    http_root.mkdir()
    overrides('http_root', str(http_root), 'deploy')
    pxe_utils.create_ipxe_boot_script()   # as at conductor start
    assert '/v1/boot/' not in (http_root / 'boot.ipxe').read_text()
    return http_root / 'boot.ipxe'


def test_one_option_in_the_all_in_one(all_in_one):
    assert process.conductor_in_process()
    with open(root_config.IPXE.stock) as f:
        stock = f.read()
    path = root_config.IPXE.link_in_process(CONF)
    # Ironic's render, right away and at every later prepare, links.
    assert ('chain %s/v1/boot/${net${boot_config_netid}/mac}/boot.ipxe'
            % API) in all_in_one.read_text()
    all_in_one.unlink()
    pxe_utils.create_ipxe_boot_script()   # a prepare_ramdisk
    assert '/v1/boot/' in all_in_one.read_text()
    # In this process only, from a private directory under Ironic's
    # state_path; Ironic's file intact.
    assert CONF.pxe.ipxe_boot_script == path != root_config.IPXE.stock
    assert path == os.path.join(CONF.state_path, 'boot-config', 'boot.ipxe')
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == '0o700'
    with open(root_config.IPXE.stock) as f:
        assert f.read() == stock


def test_all_in_one_template_the_same_path_every_start(all_in_one,
                                                       overrides):
    """No /tmp directory per start (oslo.service's workers run no atexit
    handlers, and a /tmp cleaner would age the template out)."""
    def ours_in_tmp():
        return set(glob.glob(os.path.join(tempfile.gettempdir(),
                                          'ironic-boot-config-*')))
    before = ours_in_tmp()
    first = root_config.IPXE.link_in_process(CONF)
    # A restart: the option points at Ironic's default again.
    overrides('ipxe_boot_script', root_config.IPXE.stock, 'pxe')
    second = root_config.IPXE.link_in_process(CONF)
    assert first == second
    assert os.listdir(os.path.dirname(first)) == ['boot.ipxe']
    assert ours_in_tmp() <= before


def test_all_in_one_keeps_an_operators_own_template(all_in_one, tmp_path,
                                                    overrides):
    own = tmp_path / 'own' / 'boot.ipxe'
    own.parent.mkdir()
    own.write_text('#!ipxe\necho my own fallback\n')
    overrides('ipxe_boot_script', str(own), 'pxe')
    root_config.IPXE.link_in_process(CONF)
    script = all_in_one.read_text()
    assert script.index('/v1/boot/') < script.index('echo my own fallback')
    assert own.read_text() == '#!ipxe\necho my own fallback\n'


def test_all_in_one_option_off_changes_nothing(all_in_one, overrides):
    overrides('ipxe_use_boot_config_api', False, 'pxe')
    assert root_config.IPXE.link_in_process(CONF) is None
    assert CONF.pxe.ipxe_boot_script == root_config.IPXE.stock
    assert '/v1/boot/' not in all_in_one.read_text()


# -- the master GRUB config ------------------------------------------------

GRUB_LINK = ('configfile (http,10.0.0.1:6385)/v1/boot/${net_default_mac}/'
             'grub.cfg')


@pytest.fixture
def roots(tmp_path, overrides):
    """A conductor's tftp_root and http_root of their own."""
    tftp_root, http_root = tmp_path / 'tftproot', tmp_path / 'httproot'
    tftp_root.mkdir()
    http_root.mkdir()
    overrides('tftp_root', str(tftp_root), 'pxe')
    overrides('http_root', str(http_root), 'deploy')
    overrides('state_path', str(tmp_path / 'state'))
    return tftp_root, http_root


@pytest.fixture
def grub_template(tmp_path, overrides, roots):
    path = tmp_path / 'tmpl' / 'initial_grub_cfg.template'
    overrides('initial_grub_template', str(path), 'pxe')
    overrides('grub_use_boot_config_api', True, 'boot_config')
    overrides('ipxe_config_api_root_url', API + '/', 'pxe')
    return path


def masters(roots):
    """Both master configs Ironic rendered: (tftp_root's, http_root's)."""
    return tuple((root / 'grub' / 'grub.cfg').read_text() for root in roots)


def test_ironics_own_grub_render_links_to_the_api(grub_template, roots):
    assert root_config.GRUB.ensure(CONF) == str(grub_template)
    pxe_utils.place_common_config()   # as at conductor start
    tftp_root = roots[0]
    for master in masters(roots):
        assert GRUB_LINK in master
        # then exactly Ironic's stock master config
        stock = 'source %s/$net_default_mac.conf' % tftp_root
        assert master.index(GRUB_LINK) < master.index(stock)
        assert 'echo Booting from $prefix' in master
        # A GRUB without http (Debian 12's signed one) asks nothing.
        guard = 'if [ -e (http,10.0.0.1:6385)/ ]; then'
        assert master.index(guard) < master.index(GRUB_LINK)
        assert '{{' not in master


def test_grub_link_renders_again_what_the_conductor_rendered(grub_template,
                                                             roots):
    # Switched off before, the conductor running: its master configs are
    # stock, rendered from the stock content the switch-off left.
    grub_template.parent.mkdir()
    shutil.copyfile(root_config.GRUB.stock, grub_template)
    pxe_utils.place_common_config()
    assert not any('/v1/boot/' in m for m in masters(roots))
    root_config.GRUB.ensure(CONF)
    assert all(GRUB_LINK in m for m in masters(roots))


def test_grub_url_of_its_own_with_a_path(grub_template, overrides):
    overrides('ipxe_config_api_root_url', 'https://10.0.0.1:6385', 'pxe')
    overrides('grub_config_api_root_url', 'http://proxy:8080/baremetal/',
              'boot_config')
    root_config.GRUB.ensure(CONF)
    assert ('configfile (http,proxy:8080)/baremetal/v1/boot/'
            '${net_default_mac}/grub.cfg') in grub_template.read_text()


def test_grub_needs_plain_http(grub_template, overrides):
    overrides('ipxe_config_api_root_url', 'https://10.0.0.1:6385', 'pxe')
    with pytest.raises(exception.RootConfigError,
                       match='GRUB fetches over plain HTTP only.*'
                             'grub_config_api_root_url'):
        root_config.GRUB.ensure(CONF)
    assert not grub_template.exists()


# -- what holds for both root configs ----------------------------------------

class Linked:
    """A root config linked to the API: its template, its switch, and
    what Ironic renders from it."""

    def __init__(self, kind, path, switch, render):
        self.rc = getattr(root_config, kind)
        self.path, self.switch, self.render = path, switch, render

    def stock_part(self):
        """The stock template as the linked one ends: iPXE's without its
        ``#!ipxe`` line (the link's first line is it)."""
        with open(self.rc.stock) as f:
            stock = f.read()
        return stock.split('\n', 1)[1] if self.rc is root_config.IPXE \
            else stock


@pytest.fixture(params=['IPXE', 'GRUB'])
def linked(request, tmp_path, overrides, roots):
    if request.param == 'IPXE':
        path = request.getfixturevalue('template')
        return Linked('IPXE', path, ('ipxe_use_boot_config_api', 'pxe'),
                      lambda: [rendered_root_config(tmp_path, overrides)])

    def render():
        pxe_utils.place_common_config()
        return list(masters(roots))
    return Linked('GRUB', request.getfixturevalue('grub_template'),
                  ('grub_use_boot_config_api', 'boot_config'), render)


def test_the_stock_template_is_embedded_verbatim(linked):
    linked.rc.ensure(CONF)
    text = linked.path.read_text()
    assert text.endswith(linked.stock_part()) and root_config.MARKER in text


def test_switching_off_gives_back_the_stock_template(linked, overrides):
    linked.rc.ensure(CONF)
    overrides(*linked.switch[:1], False, linked.switch[1])
    assert linked.rc.ensure(CONF) == str(linked.path)
    with open(linked.rc.stock) as f:
        assert linked.path.read_text() == f.read()
    assert not any('/v1/boot/' in r for r in linked.render())
    assert linked.rc.ensure(CONF) is None
    # ... and on again: the stock content it left is no operator's file.
    overrides(*linked.switch[:1], True, linked.switch[1])
    assert linked.rc.ensure(CONF) == str(linked.path)
    assert all('/v1/boot/' in r for r in linked.render())


@pytest.mark.parametrize('kind, switch, option, error', [
    ('IPXE', ('ipxe_use_boot_config_api', 'pxe'), 'ipxe_boot_script',
     "Ironic's own"),
    ('GRUB', ('grub_use_boot_config_api', 'boot_config'),
     'initial_grub_template', r"\[pxe\]initial_grub_template to name a file")])
def test_never_overwrites_ironics_own_template(overrides, roots, kind, switch,
                                               option, error):
    rc = getattr(root_config, kind)
    overrides(switch[0], True, switch[1])
    overrides('ipxe_config_api_root_url', API, 'pxe')
    if kind == 'GRUB':   # at Ironic's default: its shipped file
        assert os.path.realpath(getattr(CONF.pxe, option)) == \
            os.path.realpath(rc.stock)
    overrides(option, rc.stock, 'pxe')
    with open(rc.stock) as f:
        before = f.read()
    with pytest.raises(exception.RootConfigError, match=error):
        rc.ensure(CONF)
    with open(rc.stock) as f:
        assert f.read() == before


@pytest.mark.parametrize('kind, own', [
    ('IPXE', '#!ipxe\n# the operator\'s own\n'),
    ('GRUB', 'source /mine.cfg\n')])
def test_never_overwrites_a_foreign_template(template, grub_template, kind,
                                             own):
    rc = getattr(root_config, kind)
    path = {'IPXE': template, 'GRUB': grub_template}[kind]
    path.parent.mkdir()
    path.write_text(own)
    with pytest.raises(exception.RootConfigError, match='not written by'):
        rc.ensure(CONF)
    assert path.read_text() == own


def test_grub_without_a_template_option_is_a_clear_error(
        grub_template, overrides):
    overrides('initial_grub_template', '', 'pxe')
    with pytest.raises(exception.RootConfigError,
                       match=r'grub_use_boot_config_api needs '
                             r'\[pxe\]initial_grub_template'):
        root_config.GRUB.ensure(CONF)


def test_both_templates_at_once(template, grub_template):
    written = root_config.ensure_all(CONF)
    assert written == {'ipxe_boot_script': str(template),
                       'initial_grub_template': str(grub_template)}
    assert root_config.ensure_all(CONF) == {
        'ipxe_boot_script': None, 'initial_grub_template': None}


def test_grub_one_option_in_the_all_in_one(roots, overrides, monkeypatch):
    from ironic.common import rpc as ironic_rpc
    monkeypatch.setattr(ironic_rpc, 'GLOBAL_MANAGER', object())
    overrides('grub_use_boot_config_api', True, 'boot_config')
    overrides('ipxe_config_api_root_url', API, 'pxe')
    pxe_utils.place_common_config()   # as at conductor start: stock
    with open(root_config.GRUB.stock) as f:
        stock = f.read()
    paths = root_config.link_in_process(CONF)
    assert paths == [CONF.pxe.initial_grub_template]
    assert all(GRUB_LINK in m for m in masters(roots))
    assert oct(os.stat(os.path.dirname(paths[0])).st_mode & 0o777) == '0o700'
    with open(root_config.GRUB.stock) as f:
        assert f.read() == stock


# -- asking again before the stock part (a takeover's few seconds) ---------

MACS = ['52:54:00:00:00:01', '52:54:00:00:00:02']


def asks(mac, api=API):
    return '%s/v1/boot/%s/boot.ipxe' % (api, mac)


@pytest.fixture
def retries(overrides):
    """``retries(n, delay)``: [boot_config]root_config_retries and
    root_config_retry_delay; the API part of iPXE's template."""
    def set_(n, delay=2):
        overrides('ipxe_config_api_root_url', API, 'pxe')
        overrides('root_config_retries', n, 'boot_config')
        overrides('root_config_retry_delay', delay, 'boot_config')
        return root_config.IPXE.api_part(CONF)
    return set_


def test_retry_defaults_are_the_named_constants():
    from ironic_boot_config_mw import conf
    assert CONF.boot_config.root_config_retries == conf.ROOT_CONFIG_RETRIES
    assert CONF.boot_config.root_config_retry_delay == \
        conf.ROOT_CONFIG_RETRY_DELAY


@pytest.mark.parametrize('n, delay', [(0, 2), (1, 5), (3, 2)])
def test_unknown_machine_asks_n_more_rounds_then_stock(retries, n, delay):
    run = ipxe_script.run(retries(n, delay), MACS)
    # Every round asks for every NIC, in order; a sleep between rounds.
    assert run.chains() == [asks(mac) for mac in MACS] * (n + 1)
    assert run.sleeps() == [delay] * n
    assert [e[0] for e in run.events if e[0] != 'echo'] == (
        ['chain', 'chain'] + ['sleep', 'chain', 'chain'] * n)
    # ... then past the API part: Ironic's stock part.
    assert run.end == 'fell through'


def test_no_retries_is_the_single_round_of_before(retries):
    script = retries(0)
    run = ipxe_script.run(script, MACS)
    assert run.sleeps() == [] and len(run.chains()) == len(MACS)
    assert 'sleep' not in script.split(':boot_config_old_rom')[1].split(
        ':boot_config_retry')[0]


def test_a_script_written_meanwhile_is_chained_in_a_later_round(retries):
    # The second NIC's node becomes servable after two sleeps: the new
    # owner wrote its script.
    def serve(url, run):
        return url == asks(MACS[1]) and len(run.sleeps()) >= 2

    run = ipxe_script.run(retries(3), MACS, serve)
    assert run.end == 'chained'
    assert run.chains()[-1] == asks(MACS[1])
    assert run.sleeps() == [2, 2]
    assert len(run.chains()) == 3 * len(MACS)


def test_served_at_once_no_sleep(retries):
    run = ipxe_script.run(retries(3), MACS,
                          lambda url, run: url == asks(MACS[0]))
    assert run.end == 'chained' and run.events[-1] == ('chain',
                                                       asks(MACS[0]))
    assert run.sleeps() == []


def test_a_chained_script_that_returns_exits(retries):
    """A node's script that returns success (sanboot failed): exit 0,
    as before, so the firmware goes on to the next device."""
    run = ipxe_script.run(retries(3), MACS, lambda url, run: False)
    assert run.end == 'fell through'
    script = retries(3)
    line = 'chain %s || goto boot_config_loop' % asks(
        '${net${boot_config_netid}/mac}')
    after = script.split(line, 1)[1].lstrip('\n').splitlines()
    assert after[1] == 'exit 0'


@pytest.mark.parametrize('n', [0, 2])
def test_old_rom_asks_for_its_mac_in_as_many_rounds(retries, n):
    run = ipxe_script.run(retries(n, 3), MACS, has_inc=False)
    # ${mac}: the NIC it booted from, net0.
    assert run.chains() == [asks(MACS[0])] * (n + 1)
    assert run.sleeps() == [3] * n
    assert run.end == 'fell through'
    run = ipxe_script.run(retries(n, 3), MACS, has_inc=False,
                          serve=lambda url, run: len(run.sleeps()) == n)
    assert run.end == 'chained' and len(run.chains()) == n + 1


def test_round_counter_is_ours_alone(retries):
    script = retries(3)
    names = set(re.findall(r'^(?:set|inc) (\w+)', script, re.M))
    assert names == {'boot_config_round', 'boot_config_netid'}
    with open(root_config.IPXE.stock) as f:
        stock = f.read()
    assert not any(name in stock for name in names)
    # Labels: ours, and none of the stock script's.
    labels = set(re.findall(r'^:(\S+)', script, re.M))
    assert all(label.startswith('boot_config_') for label in labels)
    assert not labels & set(re.findall(r'^:(\S+)', stock, re.M))


def test_retries_in_the_written_template_then_the_stock_part(
        template, overrides, tmp_path):
    overrides('root_config_retries', 4, 'boot_config')
    overrides('root_config_retry_delay', 7, 'boot_config')
    root_config.IPXE.ensure(CONF)
    script = rendered_root_config(tmp_path, overrides)
    assert 'iseq ${boot_config_round} 4 && goto boot_config_done ||' in script
    assert '\nsleep 7\ngoto boot_config_ask\n' in script
    assert script.index(':boot_config_done') < script.index(
        'chain pxelinux.cfg/')
    # The stock part, rendered by Ironic, right after the API part.
    api_part = root_config.IPXE.api_part(CONF)
    assert script.startswith(api_part)
    assert '{{' not in script and '{%' not in script


def test_new_retry_options_rewrite_the_template(template, overrides):
    assert root_config.IPXE.ensure(CONF) == str(template)
    assert root_config.IPXE.ensure(CONF) is None
    overrides('root_config_retry_delay', 9, 'boot_config')
    assert root_config.IPXE.ensure(CONF) == str(template)
    assert '\nsleep 9\n' in template.read_text()


def test_grub_no_retries_is_the_single_ask(grub_template, overrides):
    overrides('root_config_retries', 0, 'boot_config')
    root_config.GRUB.ensure(CONF)
    text = grub_template.read_text()
    assert text.count('configfile ') == 1
    assert 'for boot_config_round' not in text
    assert not re.search(r'^\s*sleep', text, re.M)


def test_grub_asks_again_n_times_then_stock(grub_template, overrides, roots):
    overrides('root_config_retries', 3, 'boot_config')
    overrides('root_config_retry_delay', 2, 'boot_config')
    root_config.GRUB.ensure(CONF)
    pxe_utils.place_common_config()
    master = masters(roots)[0]
    loop = ('for boot_config_round in 1 2 3; do\n'
            '  echo Nothing from the API yet: asking again in 2 s, round '
            '$boot_config_round of 3\n'
            '  sleep 2\n'
            '  %s\n'
            'done\n' % GRUB_LINK)
    assert master.count(GRUB_LINK) == 2
    assert master.index(GRUB_LINK) < master.index(loop)
    stock = 'source %s/$net_default_mac.conf' % roots[0]
    assert master.index(loop) < master.index(
        'echo No boot configuration from the API') < master.index(stock)
