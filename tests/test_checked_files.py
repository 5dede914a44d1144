"""The records of checked keys and tables (pipeline.checked_files) are only as good as the folder
they sit in and the files they vouch for: another user who can write either must not be able to
skip a check or swap the bytes after it."""

from __future__ import annotations

import os

import pytest

from pipeline import checked_files
from pipeline.errors import ProofError


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(checked_files, "cache_base", lambda: tmp_path / "cache")
    return tmp_path / "cache" / "checked"


def test_the_record_folder_is_made_private(private_cache):
    checked_files.mark_checked("ab" * 32, "key")
    assert checked_files.was_checked("ab" * 32, "key")
    assert private_cache.stat().st_mode & 0o777 == 0o700


def test_a_record_folder_others_can_write_is_refused(private_cache):
    checked_files.mark_checked("ab" * 32, "tables")
    os.chmod(private_cache, 0o777)           # anyone could now plant a record for a planted file
    with pytest.raises(ProofError, match="can be written by another user.*chmod 700"):
        checked_files.was_checked("ab" * 32, "tables")
    with pytest.raises(ProofError, match="can be written by another user"):
        checked_files.mark_checked("cd" * 32, "tables")


def test_files_others_can_write_are_not_trusted(tmp_path):
    path = tmp_path / "proving.key"
    path.write_bytes(b"key bytes")
    os.chmod(path, 0o644)
    with checked_files.open_trusted(path, "proving key") as fh:
        assert checked_files.open_file_digest(fh) == checked_files.file_digest(path)
    for mode in (0o664, 0o646):
        os.chmod(path, mode)
        with pytest.raises(ProofError, match=r"writable by its group or by others.*chmod go-w"):
            checked_files.open_trusted(path, "proving key")
    with pytest.raises(ProofError, match="cannot read it"):
        checked_files.open_trusted(tmp_path / "missing", "proving key")


def test_a_file_renamed_over_the_hashed_one_is_not_the_one_read(tmp_path):
    path = tmp_path / "proving.tables"
    path.write_bytes(b"honest" * 1000)
    with checked_files.open_trusted(path, "fixed-base tables") as fh:
        digest = checked_files.open_file_digest(fh)
        (tmp_path / "planted").write_bytes(b"planted" * 1000)
        os.replace(tmp_path / "planted", path)       # the swap right after the hash
        fh.seek(0)
        assert fh.read() == b"honest" * 1000           # the open file is still the hashed bytes


def test_a_file_owned_by_another_user_is_not_trusted(tmp_path):
    """Another user renames in a byte-identical copy they own (its hash is recorded), then rewrites
    it in place under the prover's mapping: a file of another owner is refused."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file to another user (CI runs as root)")
    path = tmp_path / "proving.tables"
    path.write_bytes(b"tables")
    os.chmod(path, 0o644)
    os.chown(path, 65534, 65534)
    with pytest.raises(ProofError, match=r"owned by another user \(uid 65534\).*copy it to a file of your own"):
        checked_files.open_trusted(path, "fixed-base tables")


def test_a_record_folder_that_is_a_link_is_refused_and_an_old_open_one_is_tightened(tmp_path, monkeypatch):
    monkeypatch.setattr(checked_files, "cache_base", lambda: tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "cache" / "checked").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ProofError, match="can be written by another user"):
        checked_files.was_checked("ab" * 32, "key")
    (tmp_path / "cache" / "checked").unlink()
    (tmp_path / "cache" / "checked").mkdir(mode=0o755)
    os.chmod(tmp_path / "cache" / "checked", 0o755)
    assert not checked_files.was_checked("ab" * 32, "key")
    assert (tmp_path / "cache" / "checked").stat().st_mode & 0o777 == 0o700


def test_keys_are_not_written_into_a_folder_others_can_write(tmp_path):
    from pipeline.keystore import KeyStore

    folder = tmp_path / "keys"
    folder.mkdir()
    os.chmod(folder, 0o777)
    with pytest.raises(ProofError, match=r"key folder .* can be written by its group or others.*chmod go-w"):
        KeyStore(folder).check_folder()
