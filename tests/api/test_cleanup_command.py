"""``songy cleanup`` against the database and files the API wrote."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .conftest import SECRET, Api

SONGY = str(Path(sys.executable).with_name("songy"))


def run_cleanup(api: Api, *args: str) -> str:
    env = {
        **os.environ,
        "SONGY_DATA_DIR": str(api.container.settings().data_dir),
        "SONGY_DEV_TOKEN_SECRET": SECRET,
        "SONGY_AUDIO_RETENTION_DAYS": "0.00001",  # under a second
    }
    result = subprocess.run([SONGY, "cleanup", *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_cleanup_dry_run_then_for_real(api: Api) -> None:
    music_id = api.generate().json()["data"]["musicId"]
    api.wait_for(music_id)
    time.sleep(1.0)
    assert f"would expire {music_id}" in run_cleanup(api, "--dry-run")
    assert api.status(music_id).json()["data"]["audioUrl"] is not None
    assert f"expired {music_id}" in run_cleanup(api)
    data = api.status(music_id).json()["data"]
    assert data["status"] == "COMPLETED" and data["audioUrl"] is None and "expiredAt" in data
    assert [p for p in (api.container.settings().blob_root / "music").iterdir()] == []
    gone = api.client.get(f"/api/music-generator/download/{music_id}", headers=api.auth())
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "MUSIC_EXPIRED"
