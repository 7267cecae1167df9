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

"""The provider API: how a boot interface serves its boot configuration.

A provider is registered under the entry point namespace
``ironic_boot_config_mw.providers`` with the NAME of the boot interface it
serves (``ipxe``, ``http-ipxe``, ...). The shim calls it with a task holding
a SHARED lock on the node and the requested configuration name. It returns a
:class:`BootConfig`, or raises
:class:`~ironic_boot_config_mw.exception.BootConfigNotFound` (any Ironic
``NotFound`` will do) for names it does not serve.

A provider must never take an exclusive lock, start threads, write to the
database or call the boot interface's ``validate``: it runs for
unauthenticated callers, possibly many at once.
"""

import abc
import errno
import os
import stat
import typing

from ironic_boot_config_mw import exception

#: What Ironic's templates write where a node has no kernel or ramdisk of
#: its own (pxe_utils' aki_path and ari_path): words, not files. Providers
#: that rewrite paths leave them as they are.
IRONIC_PLACEHOLDERS = frozenset({'no_kernel', 'no_ramdisk'})


class BootConfig(typing.NamedTuple):
    """A boot configuration file: its bytes and their Content-Type."""

    body: bytes
    content_type: str = 'text/plain'
    #: When the conductor wrote it (``st_mtime``), for a file: the shim
    #: serves no file written before it took the node over (see
    #: :mod:`~ironic_boot_config_mw.takeover`). Never sent over the RPC.
    written_at: typing.Optional[float] = None


class NodeIdentity(typing.NamedTuple):
    """The node as a provider without a task sees it."""

    uuid: str
    boot_interface: str


class WithoutTask(typing.NamedTuple):
    """Given instead of a task to providers with ``needs_task = False``."""

    node: NodeIdentity


class BootConfigProvider(abc.ABC):
    """Base class of providers."""

    #: Whether the provider needs a task (a shared lock, the node and its
    #: driver loaded). A provider that only needs the node's UUID sets it to
    #: False: the shim then calls it with a :class:`WithoutTask` (``node``
    #: with ``uuid`` and ``boot_interface`` only): no lock, no database read,
    #: no driver. It gives up the node's fields and the shared lock; the
    #: lock never kept a conductor from rewriting a file meanwhile anyway.
    needs_task = True

    @abc.abstractmethod
    def get_boot_config(self, task: typing.Any, name: str) -> BootConfig:
        """Return the configuration ``name`` for ``task.node``.

        :param task: a TaskManager with a SHARED lock on the node, or a
            :class:`WithoutTask` if :attr:`needs_task` is False.
        :param name: the configuration name from the URL, e.g. ``boot.ipxe``.
        :returns: a :class:`BootConfig`.
        :raises: BootConfigNotFound if the configuration cannot be produced.
        """


class FileProvider(BootConfigProvider):
    """Serves files that the conductor already wrote for the node.

    Subclasses list the names they serve in :attr:`files` and say where each
    lives with :meth:`root` and :meth:`path`. A name is never joined into a
    path: only names in :attr:`files` are served.
    """

    #: Served names and their Content-Type.
    files: typing.ClassVar[dict[str, str]] = {}
    #: Larger files are refused: a boot config is a few KiB.
    max_size = 1024 * 1024

    @abc.abstractmethod
    def root(self) -> str:
        """The directory every served file must resolve into."""

    @abc.abstractmethod
    def path(self, task: typing.Any, name: str) -> str:
        """The path of the file ``name`` for ``task.node``."""

    def written_at(self, node: NodeIdentity) -> typing.Optional[float]:
        """When the conductor wrote the node's first file (``st_mtime``),
        or None when there is none. ``node``: uuid and boot_interface."""
        name = next(iter(self.files))
        try:
            return os.lstat(self.path(WithoutTask(node), name)).st_mtime
        except OSError:
            return None

    def get_boot_config(self, task: typing.Any, name: str) -> BootConfig:
        try:
            content_type = self.files[name]
        except KeyError:
            raise exception.BootConfigNotFound(
                reason='%s is not served for boot interface %s'
                % (name, task.node.boot_interface)) from None
        body, written_at = read_file_and_mtime(
            self.root(), self.path(task, name), self.max_size)
        return BootConfig(body=body, content_type=content_type,
                          written_at=written_at)


def read_file_under(root: str, path: str, max_size: int) -> bytes:
    """Read a regular file below ``root`` without following any link: see
    :func:`read_file_and_mtime`; its bytes only."""
    return read_file_and_mtime(root, path, max_size)[0]


def read_file_and_mtime(root: str, path: str,
                        max_size: int) -> tuple[bytes, float]:
    """Read a regular file below ``root`` without following any link;
    return ``(bytes, st_mtime)``.

    The path is walked from ``root`` one component at a time with
    ``O_NOFOLLOW``: no symbolic link below ``root`` is followed (so none
    leads out), and nothing can be swapped in between a check and the open.
    ``root`` itself may be a link (e.g. ``/httpboot``).

    :raises: BootConfigNotFound if the file is missing, is not a regular
        file, lies outside ``root``, passes through a link, or is over
        ``max_size`` bytes.
    """
    parts = os.path.relpath(path, root).split(os.sep)
    if os.path.isabs(path) != os.path.isabs(root) or any(
            part in ('', '.', '..') for part in parts):
        raise exception.BootConfigNotFound(
            reason='%s is not below %s' % (path, root))
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for part in parts[:-1]:
                parent, fd = fd, os.open(
                    part, _DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                os.close(parent)
            # O_NONBLOCK: a FIFO cannot hang the reader.
            parent, fd = fd, os.open(
                parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                | os.O_CLOEXEC, dir_fd=fd)
            os.close(parent)
        except BaseException:
            os.close(fd)
            raise
    except OSError as exc:
        raise exception.BootConfigNotFound(
            reason=_open_failure(path, exc)) from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise exception.BootConfigNotFound(
                reason='%s is not a regular file' % path)
        body = b''
        while len(body) <= max_size:
            chunk = os.read(fd, max_size + 1 - len(body))
            if not chunk:
                return body, status.st_mtime
            body += chunk
    finally:
        os.close(fd)
    raise exception.BootConfigNotFound(
        reason='%s is larger than %d bytes' % (path, max_size))


_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def _open_failure(path: str, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return '%s does not exist' % path
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return '%s passes through a link or a non-directory' % path
    return 'cannot open %s: %s' % (path, exc.strerror)
