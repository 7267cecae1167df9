"""The boot API process, ``ironic-boot-config-api``: ``/v1/boot`` (and
``/health``) served in a process of its own, sized for boot storms, beside
or instead of the filter in Ironic's API."""
