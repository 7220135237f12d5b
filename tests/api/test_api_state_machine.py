"""A stateful property test over the HTTP API: two users generate, poll, list, cancel, delete and download in
random order; nobody ever sees another user's music, and every answer agrees with the lifecycle."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule, run_state_machine_as_test

from songy.adapters.memory.audio_generator import ScriptedAudioGenerator

from .conftest import Api

FINAL = {"COMPLETED", "FAILED", "CANCELED"}


def test_api_lifecycle_and_isolation(make_api: Any) -> None:
    api: Api = make_api(generator=ScriptedAudioGenerator())

    class ApiMachine(RuleBasedStateMachine):
        tracks = Bundle("tracks")

        def __init__(self) -> None:
            super().__init__()
            run = uuid.uuid4().hex[:8]
            self.users = [f"user_a_{run}", f"user_b_{run}"]
            self.owner: dict[str, str] = {}
            self.canceled: set[str] = set()
            self.deleted: set[str] = set()

        def other(self, user: str) -> str:
            return self.users[1 - self.users.index(user)]

        @rule(target=tracks, who=st.integers(0, 1))
        def generate(self, who: int) -> str:
            user = self.users[who]
            response = api.generate(user, lengthMs=3000)
            assert response.status_code == 201
            music_id = response.json()["data"]["musicId"]
            self.owner[music_id] = user
            return music_id

        @rule(music_id=tracks)
        def status(self, music_id: str) -> None:
            owner = self.owner[music_id]
            response = api.status(music_id, owner)
            if music_id in self.deleted:
                assert response.status_code == 404
                return
            assert response.status_code == 200
            data = response.json()["data"]
            if music_id in self.canceled:
                assert data["status"] == "CANCELED"
            assert (data["audioUrl"] is not None) == (data["status"] == "COMPLETED")
            assert api.status(music_id, self.other(owner)).status_code == 404

        @rule(music_id=tracks)
        def cancel(self, music_id: str) -> None:
            owner = self.owner[music_id]
            stranger = api.client.post(f"/api/music-generator/{music_id}/cancel", headers=api.auth(self.other(owner)))
            assert stranger.status_code == 404
            response = api.client.post(f"/api/music-generator/{music_id}/cancel", headers=api.auth(owner))
            if music_id in self.deleted:
                assert response.status_code == 404
            elif response.status_code == 200:
                assert music_id not in self.canceled
                self.canceled.add(music_id)
            else:
                assert response.status_code == 409  # it had already finished

        @rule(music_id=consumes(tracks))
        def delete(self, music_id: str) -> None:
            owner = self.owner[music_id]
            assert (
                api.client.delete(f"/api/music-generator/{music_id}", headers=api.auth(self.other(owner))).status_code
                == 404
            )
            response = api.client.delete(f"/api/music-generator/{music_id}", headers=api.auth(owner))
            assert response.status_code == (404 if music_id in self.deleted else 200)
            self.deleted.add(music_id)

        @rule(music_id=tracks)
        def download(self, music_id: str) -> None:
            owner = self.owner[music_id]
            route = f"/api/music-generator/download/{music_id}"
            assert api.client.get(route, headers=api.auth(self.other(owner))).status_code == 404
            response = api.client.get(route, headers=api.auth(owner))
            if music_id in self.deleted:
                assert response.status_code == 404
            elif music_id in self.canceled:
                assert response.status_code == 409
            else:
                assert response.status_code in (200, 409)

        @rule(who=st.integers(0, 1))
        def list_music(self, who: int) -> None:
            user = self.users[who]
            items = api.client.get("/api/music-generator?limit=100", headers=api.auth(user)).json()["data"]["items"]
            ids = {m["musicId"] for m in items}
            mine = {m for m, owner in self.owner.items() if owner == user and m not in self.deleted}
            assert ids == mine

        @invariant()
        def canceled_stay_canceled(self) -> None:
            for music_id in list(self.canceled - self.deleted)[:3]:
                assert api.status(music_id, self.owner[music_id]).json()["data"]["status"] == "CANCELED"

    run_state_machine_as_test(
        ApiMachine,
        settings=settings(
            max_examples=15, stateful_step_count=12, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
