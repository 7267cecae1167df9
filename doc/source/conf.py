"""Sphinx configuration of the ironic-boot-config-mw documentation."""

project = 'ironic-boot-config-mw'
copyright = 'ironic-boot-config-mw developers, Apache License 2.0'
extensions = [
    'sphinx.ext.autodoc',
    'oslo_config.sphinxext',
    'reno.sphinxext',
]
exclude_patterns = []
html_theme = 'alabaster'
autodoc_member_order = 'bysource'
nitpicky = False
