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

"""providers/base.py: reading a conductor's file safely."""

import os

import pytest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.providers import base


def test_reads_regular_file(tmp_path):
    (tmp_path / 'f').write_bytes(b'data')
    assert base.read_file_under(tmp_path, tmp_path / 'f', 10) == b'data'


def test_missing_file(tmp_path):
    with pytest.raises(exception.BootConfigNotFound, match='does not exist'):
        base.read_file_under(tmp_path, tmp_path / 'nope', 10)


def test_link_out_of_root_refused(tmp_path):
    root, outside = tmp_path / 'root', tmp_path / 'secret'
    root.mkdir()
    outside.write_bytes(b'secret')
    (root / 'config').symlink_to(outside)
    with pytest.raises(exception.BootConfigNotFound, match='through a link'):
        base.read_file_under(root, root / 'config', 100)


def test_linked_directory_refused(tmp_path):
    root, outside = tmp_path / 'root', tmp_path / 'elsewhere'
    root.mkdir()
    outside.mkdir()
    (outside / 'config').write_bytes(b'secret')
    (root / 'node').symlink_to(outside)
    with pytest.raises(exception.BootConfigNotFound, match='through a link'):
        base.read_file_under(root, root / 'node' / 'config', 100)


@pytest.mark.parametrize('relative', ['../secret', 'a/../../secret',
                                      'a/./b', '/etc/passwd'])
def test_paths_not_below_root_refused(tmp_path, relative):
    root = tmp_path / 'root'
    (root / 'a' / 'b').mkdir(parents=True)
    (tmp_path / 'secret').write_bytes(b'secret')
    path = relative if relative.startswith('/') else '%s/%s' % (root,
                                                                relative)
    with pytest.raises(exception.BootConfigNotFound):
        base.read_file_under(root, path, 100)


def test_links_inside_root_refused_too(tmp_path):
    """Ironic writes regular files: no link below root is followed."""
    (tmp_path / 'real').write_bytes(b'ok')
    (tmp_path / 'link').symlink_to(tmp_path / 'real')
    with pytest.raises(exception.BootConfigNotFound, match='through a link'):
        base.read_file_under(tmp_path, tmp_path / 'link', 10)


def test_root_itself_may_be_a_link(tmp_path):
    (tmp_path / 'real').mkdir()
    (tmp_path / 'real' / 'config').write_bytes(b'ok')
    (tmp_path / 'httpboot').symlink_to(tmp_path / 'real')
    root = tmp_path / 'httpboot'
    assert base.read_file_under(root, root / 'config', 10) == b'ok'


def test_directory_refused(tmp_path):
    (tmp_path / 'dir').mkdir()
    with pytest.raises(exception.BootConfigNotFound,
                       match='not a regular file'):
        base.read_file_under(tmp_path, tmp_path / 'dir', 10)


def test_fifo_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / 'fifo')
    with pytest.raises(exception.BootConfigNotFound,
                       match='not a regular file'):
        base.read_file_under(tmp_path, tmp_path / 'fifo', 10)


def test_size_cap(tmp_path):
    (tmp_path / 'exact').write_bytes(b'x' * 10)
    (tmp_path / 'over').write_bytes(b'x' * 11)
    assert len(base.read_file_under(tmp_path, tmp_path / 'exact', 10)) == 10
    with pytest.raises(exception.BootConfigNotFound, match='larger than'):
        base.read_file_under(tmp_path, tmp_path / 'over', 10)


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        # root reads anything: make open() fail another way (EISDIR-free):
        # a file name too long for the file system.
        path = tmp_path / ('x' * 300)
    else:
        path = tmp_path / 'locked'
        path.write_bytes(b'x')
        path.chmod(0)
    with pytest.raises(exception.BootConfigNotFound, match='cannot open'):
        base.read_file_under(tmp_path, path, 10)
