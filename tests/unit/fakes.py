"""A small harness wiring the use cases to the in-memory adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from songy.adapters.audio_verification import DecodingAudioVerifier
from songy.adapters.memory.audio_generator import ScriptedAudioGenerator
from songy.adapters.memory.blob_store import MemoryBlobStore
from songy.adapters.memory.event_bus import InProcessEventBus
from songy.adapters.memory.job_queue import MemoryJobQueue
from songy.adapters.memory.system import FixedClock, SequentialIds
from songy.adapters.memory.unit_of_work import MemoryDatabase, MemoryUnitOfWork
from songy.domain.generation_request import GenerationRequest
from songy.domain.use_cases.generate_music import GenerateMusic
from songy.domain.use_cases.get_music_status import GetMusicStatus
from songy.domain.use_cases.process_generation import Outcome, ProcessGeneration, RetryPolicy
from songy.domain.use_cases.reap_stale_generations import ReapStaleGenerations
from songy.domain.use_cases.relay_outbox import RelayOutbox
from songy.domain.use_cases.resolve_user import ResolveUser
from songy.domain.user import Identity

ALICE = Identity("user_alice", "alice@example.com", "Alice")
BOB = Identity("user_bob", "bob@example.com", "Bob")


@dataclass
class World:
    """Every in-memory adapter and every use case, wired as the container wires the real ones."""

    provision_unknown: bool = True
    initial_credits: int = 3600
    script: list[Exception | None] = field(default_factory=list)
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(2, timedelta(seconds=30)))

    def __post_init__(self) -> None:
        self.clock = FixedClock()
        self.ids = SequentialIds("cm")
        self.db = MemoryDatabase()
        self.commits_with_events = 0
        self.queue = MemoryJobQueue()
        self.events = InProcessEventBus()
        self.blobs = MemoryBlobStore()
        self.generator = ScriptedAudioGenerator(self.script)
        resolve = ResolveUser(
            self.ids, self.clock, provision_unknown=self.provision_unknown, initial_credits=self.initial_credits
        )
        self.generate = GenerateMusic(self.uow, resolve, self.ids, self.clock)
        self.status = GetMusicStatus(self.uow, resolve)
        self.process = ProcessGeneration(
            self.uow, self.generator, self.blobs, self.clock, self.retry, DecodingAudioVerifier(self.blobs)
        )
        self.relay = RelayOutbox(self.uow, self.queue, self.events, self.clock, blobs=self.blobs)
        self.reap = ReapStaleGenerations(self.uow, self.clock, self.retry, timedelta(minutes=15))

    def uow(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.db, self.clock.now, self._nudge)

    def _nudge(self) -> None:
        self.commits_with_events += 1

    async def request(self, identity: Identity = ALICE, **fields: object) -> str:
        values: dict[str, object] = {"name": "My Awesome Song", "prompt": "upbeat electronic dance music"}
        values.update(fields)
        generated = await self.generate(identity, GenerationRequest.create(**values))  # type: ignore[arg-type]
        return generated.music[0].id

    async def drain(self) -> list[Outcome]:
        """Relay due events and run every queued job until nothing is due now."""
        outcomes: list[Outcome] = []
        while await self.relay() or self.queue.jobs:
            for job in self.queue.take_all():
                outcomes.append(await self.process(job))
        return outcomes
