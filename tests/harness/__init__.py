"""The test harness: real Ironic processes and real services on loopback.

The functional tests (through ``tests/functional/conftest.py``'s
``launch``), the demo (``tools/demo.py``) and the benchmark
(``tools/bench``) all use it. One module per concern; the layout is in
``doc/source/contributing.rst``.
"""
