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

"""Every entry point of setup.cfg loads, under exactly its documented name."""

import stevedore


def names(namespace):
    return sorted(stevedore.ExtensionManager(namespace).names())


def load(namespace, name):
    return stevedore.DriverManager(namespace, name).driver


def test_api_middleware():
    from ironic_boot_config_mw.api import middleware
    assert 'boot_config' in names('ironic.api.middleware')
    assert load('ironic.api.middleware', 'boot_config') \
        is middleware.BootConfigMiddleware


def test_paste_filter():
    from ironic_boot_config_mw.api import middleware
    assert load('paste.filter_factory', 'boot_config') \
        is middleware.filter_factory


def test_providers():
    from ironic_boot_config_mw.providers import grub
    from ironic_boot_config_mw.providers import ipxe
    ours = {'ipxe': ipxe.IPXEProvider, 'http-ipxe': ipxe.IPXEProvider,
            'pxe': grub.GrubProvider, 'http': grub.GrubProvider}
    assert set(ours) <= set(names('ironic_boot_config_mw.providers'))
    for name, cls in ours.items():
        assert load('ironic_boot_config_mw.providers', name) is cls


def test_oslo_config_opts():
    from ironic_boot_config_mw import conf
    assert load('oslo.config.opts', 'ironic_boot_config_mw') \
        is conf.list_opts


def test_console_scripts():
    from importlib import metadata
    scripts = {ep.name: ep.value
               for ep in metadata.entry_points(group='console_scripts')
               if ep.value.startswith('ironic_boot_config_mw.')}
    assert scripts == {
        'ironic-boot-config-shim': 'ironic_boot_config_mw.shim.cmd:main',
        # The shim's deprecated former name.
        'ironic-boot-config-conductor':
            'ironic_boot_config_mw.shim.cmd:deprecated_main',
        'ironic-boot-config-root-configs':
            'ironic_boot_config_mw.shim.cmd:write_root_configs',
        # Its deprecated former name.
        'ironic-boot-config-root-template':
            'ironic_boot_config_mw.shim.cmd:deprecated_write_root_template',
        'ironic-boot-config-api': 'ironic_boot_config_mw.bootapi.cmd:main',
    }


def test_systemd_units_run_our_commands():
    """Each shipped unit starts a console script of ours, with Ironic's
    configuration file."""
    import configparser
    from importlib import metadata
    import os
    ours = {ep.name for ep in metadata.entry_points(group='console_scripts')
            if ep.value.startswith('ironic_boot_config_mw.')}
    etc = os.path.join(os.path.dirname(__file__), '..', '..', 'etc',
                       'systemd')
    started = set()
    for name in sorted(os.listdir(etc)):
        unit = configparser.ConfigParser(strict=False)
        unit.read(os.path.join(etc, name))
        argv = unit['Service']['ExecStart'].split()
        assert argv[1:] == ['--config-file', '/etc/ironic/ironic.conf']
        command = os.path.basename(argv[0])
        assert command in ours and name == command + '.service'
        started.add(command)
    assert started == {'ironic-boot-config-shim', 'ironic-boot-config-api'}
