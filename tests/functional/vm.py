"""Real iPXE firmware under QEMU (Debian's qemu-system-x86 and ipxe).

QEMU's user-mode network answers DHCP with the given boot file; inside the
guest 10.0.2.2 is this host's 127.0.0.1. Every run is bounded; only the QEMU
started here is killed, by its pid.
"""

import os
import subprocess
import time

from tests import services

IPXE_KERNEL = '/usr/lib/ipxe/ipxe.lkrn'
GUEST_HOST = '10.0.2.2'


def require_qemu():
    qemu = services.require_program('qemu-system-x86_64')
    if not os.path.exists(IPXE_KERNEL):
        services.require_program(IPXE_KERNEL)  # fails or skips, saying why
    return qemu


def boot(macs, bootfile_url, until, timeout=90, log_path=None):
    """Boot iPXE with one virtio NIC per MAC until ``until()`` is true.

    :returns: seconds it took; raises TimeoutError after ``timeout``.
    """
    argv = [require_qemu(), '-kernel', IPXE_KERNEL, '-m', '256',
            '-display', 'none', '-no-reboot', '-nodefaults',
            '-serial', 'file:%s' % (log_path or os.devnull)]
    for index, mac in enumerate(macs):
        argv += ['-netdev', 'user,id=n%d,bootfile=%s' % (index, bootfile_url),
                 '-device', 'virtio-net-pci,netdev=n%d,mac=%s,romfile='
                 % (index, mac)]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        while time.monotonic() - started < timeout:
            if until():
                return time.monotonic() - started
            if proc.poll() is not None and until():
                return time.monotonic() - started
            if proc.poll() is not None:
                # The guest ended (reboot under -no-reboot); last look.
                time.sleep(0.5)
                if until():
                    return time.monotonic() - started
                raise RuntimeError('the VM exited (%s) before the expected '
                                   'requests' % proc.returncode)
            time.sleep(0.2)
        raise TimeoutError('VM: expected requests not seen in %ss' % timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
