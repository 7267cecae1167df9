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
        'ironic-boot-config-root-template':
            'ironic_boot_config_mw.shim.cmd:write_root_template',
        'ironic-boot-config-api': 'ironic_boot_config_mw.bootapi.cmd:main',
    }
