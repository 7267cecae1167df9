"""Boot configuration API (``/v1/boot``) for stock OpenStack Ironic."""
