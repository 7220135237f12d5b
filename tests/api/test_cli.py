"""The ``songy`` command as a user runs it: demo, synth, token, doctor."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jwt

from songy.adapters.codecs import decode
from songy.domain.formats import OutputFormat
from tests.support.audio_checks import assert_is_the_asked_audio

SONGY = str(Path(sys.executable).with_name("songy"))


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SONGY_")} | (env or {})
    return subprocess.run([SONGY, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)


def test_demo_runs_the_whole_flow_and_writes_a_playable_file(tmp_path: Path) -> None:
    result = run("demo", "lofi piano, rainy night, 80 bpm", "--length", "4s", "-o", "demo.mp3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "COMPLETED" in result.stderr and "Music generation job created successfully" in result.stderr
    assert "/files/music/" in result.stderr and "signature=" not in result.stderr  # no link credential printed
    samples, rate = decode((tmp_path / "demo.mp3").read_bytes(), OutputFormat.parse("mp3_44100_128"))
    assert rate == 44100 and abs(len(samples) / rate - 4.0) < 0.05


def test_demo_in_opus_writes_the_whole_track(tmp_path: Path) -> None:
    """Issue 12: `songy demo --format opus_48000_128` wrote a 129-byte Ogg header and said COMPLETED."""
    result = run("demo", "lofi piano", "--length", "3s", "--format", "opus_48000_128", "-o", "d.opus", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_is_the_asked_audio((tmp_path / "d.opus").read_bytes(), "opus_48000_128", 3000)


def test_synth_in_opus_writes_the_whole_track(tmp_path: Path) -> None:
    result = run("synth", "dark techno, 132 bpm", "--length", "3s", "-o", "x.opus", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_is_the_asked_audio((tmp_path / "x.opus").read_bytes(), "opus_48000_128", 3000)


def test_synth_writes_the_format_of_the_extension(tmp_path: Path) -> None:
    result = run("synth", "dark techno, 132 bpm", "--length", "3s", "-o", "t.wav", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "t.wav").read_bytes()[:4] == b"RIFF"


def test_token_is_a_dev_token_for_the_user(tmp_path: Path) -> None:
    result = run("token", "--user", "me", "--role", "admin", cwd=tmp_path, env={"SONGY_DEV_TOKEN_SECRET": "d" * 40})
    claims = jwt.decode(result.stdout.strip(), "d" * 40, algorithms=["HS256"], audience="songy")
    assert claims["sub"] == "me" and claims["dev"] is True and claims["roles"] == ["admin"]
    assert claims["exp"] - claims["iat"] == 24 * 3600  # the same lifetime as the token `songy serve` prints


def test_token_signs_with_the_secret_serve_made_and_never_makes_another(tmp_path: Path) -> None:
    """Issue 18: `songy token` run from another directory made a new secret, and the server refused its token."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    refused = run("token", cwd=elsewhere)
    assert refused.returncode == 2 and "no dev-token secret in" in refused.stderr and refused.stdout == ""
    assert not (elsewhere / "var").exists()
    data = tmp_path / "data"
    data.mkdir()
    (data / "dev-token-secret").write_text("e" * 48)
    for given in (["--data-dir", str(data)], []):
        env = {} if given else {"SONGY_DATA_DIR": str(data)}
        minted = run("token", *given, cwd=elsewhere, env=env)
        assert minted.returncode == 0, minted.stderr
        jwt.decode(
            minted.stdout.strip(), "e" * 48, algorithms=["HS256"], audience="songy"
        )  # verifies: the server's secret
        assert str(data / "dev-token-secret") in minted.stderr


def test_every_option_of_every_command_has_help_text(tmp_path: Path) -> None:
    from songy.entrypoints.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, command in commands.items():
        for action in command._actions:
            assert action.help, f"songy {name} {action.option_strings or action.dest} has no help"
    help_text = run("demo", "--help", cwd=tmp_path).stdout
    assert "--data-dir" in help_text and "(default: 30s)" in help_text and "3s to 300s" in help_text


def test_demo_keeps_nothing_in_the_working_directory_and_says_what_it_saved(tmp_path: Path) -> None:
    result = run("demo", "lofi piano", "--length", "3s", "-o", "techno.wav", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["techno.wav"]  # no ./var left behind
    assert (tmp_path / "techno.wav").read_bytes()[:4] == b"RIFF"  # the format the name asks for
    assert result.stdout.strip().startswith("saved techno.wav (wav_44100, 3 s): music ")
    assert result.stderr.splitlines()[0].startswith("starting an embedded Songy")
    assert "alembic" not in result.stderr and "taskiq" not in result.stderr  # only the progress bar


def test_token_is_refused_outside_dev_auth(tmp_path: Path) -> None:
    env = {"SONGY_AUTH": "clerk", "SONGY_CLERK_JWKS_URL": "https://x/jwks", "SONGY_CLERK_ISSUER": "https://x"}
    result = run("token", cwd=tmp_path, env=env)
    assert result.returncode != 0 and "dev tokens" in result.stderr


def test_doctor_passes_on_a_healthy_embedded_setup_and_names_what_fails(tmp_path: Path) -> None:
    assert run("migrate", cwd=tmp_path).returncode == 0
    healthy = run("doctor", cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stdout
    assert "[ok  ] database" in healthy.stdout
    broken = run("doctor", cwd=tmp_path, env={"SONGY_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert broken.returncode == 1 and "[FAIL] queue" in broken.stdout


def test_bad_configuration_is_a_clear_error(tmp_path: Path) -> None:
    result = run("doctor", cwd=tmp_path, env={"SONGY_MODE": "production"})
    assert result.returncode != 0 and "dev tokens are refused in production mode" in result.stderr


def test_synth_explain_says_what_it_understood(tmp_path: Path) -> None:
    """Issue 17: the interpretation (genre, tempo, key, mode, instruments, mood, words not understood) is shown."""
    result = run(
        "synth", "techno 1000 bpm with flute and theremin, zorblax", "--length", "2s", "--seed", "3", "--explain",
        "-o", "t.wav", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "genre:       techno (prompt)" in out
    assert "tempo:       200 bpm (prompt)" in out and "1000 bpm is outside 50-200" in out
    assert "key:         D# minor (seed)" in out
    assert "lead=flute (GM 73)" in out
    assert "theremin: not available" in out
    assert "not understood: 'zorblax'" in out
    assert (tmp_path / "t.wav").stat().st_size == 44 + 2 * 44100 * 4


def test_an_empty_prompt_is_refused(tmp_path: Path) -> None:
    for command in (("synth", ""), ("synth", "   "), ("demo", " \t")):
        result = run(*command, "--length", "2s", "-o", "x.mp3", cwd=tmp_path)
        assert result.returncode != 0
        assert "the prompt is empty" in result.stderr
        assert not (tmp_path / "x.mp3").exists()


def test_a_wrong_soundfont_is_a_clear_error(tmp_path: Path) -> None:
    missing = run("synth", "calm piano", "-o", "x.wav", cwd=tmp_path, env={"SONGY_SOUNDFONT": "/nonexistent.sf2"})
    assert missing.returncode != 0 and "no SoundFont file at /nonexistent.sf2" in missing.stderr
    (tmp_path / "junk.sf2").write_bytes(b"RIFF\x04\x00\x00\x00WAVE")
    junk = run("synth", "calm piano", "-o", "x.wav", cwd=tmp_path, env={"SONGY_SOUNDFONT": str(tmp_path / "junk.sf2")})
    assert junk.returncode != 0 and "is not a SoundFont 2 (.sf2) file" in junk.stderr
    assert "Traceback" not in missing.stderr + junk.stderr
