"""The development signing key: made once per data folder, whoever asks first."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shared.audit.keys import DEVELOPMENT_KEY, NoSigningKey, key_id, published, signing_key
from shared.settings import Settings


def test_processes_starting_together_on_one_data_folder_sign_with_one_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(lambda _: signing_key(settings).public_key(), range(16)))
    assert len({key_id(k) for k in keys}) == 1
    assert (tmp_path / DEVELOPMENT_KEY).stat().st_mode & 0o777 == 0o600
    assert [p.name for p in (tmp_path / DEVELOPMENT_KEY).parent.iterdir()] == ["signing-key.pem"]


def test_the_published_key_names_itself_and_a_process_without_one_makes_none(
    tmp_path: Path,
) -> None:
    with pytest.raises(NoSigningKey):
        signing_key(Settings(data_dir=tmp_path), generate=False)
    public = signing_key(Settings(data_dir=tmp_path)).public_key()
    shown = published(public)
    assert shown["key_id"] == key_id(public) and len(shown["public_key"]) == 64
    assert shown["pem"].startswith("-----BEGIN PUBLIC KEY-----")
