"""The composition root: the one place that chooses and builds adapters, from :class:`Settings`."""

from __future__ import annotations

from datetime import timedelta

from dependency_injector import containers, providers

from songy.adapters.audio_verification import DecodingAudioVerifier
from songy.adapters.codecs import CodecTranscoder
from songy.adapters.devauth.tokens import DevTokens
from songy.adapters.localfs.blob_store import LocalFsBlobStore
from songy.adapters.memory.event_bus import InProcessEventBus
from songy.adapters.memory.queue_control import MemoryQueueControl
from songy.adapters.sql.database_check import SqlDatabaseCheck
from songy.adapters.sql.engine import build_engine, reader_engine
from songy.adapters.sql.notifications import OutboxNotifications
from songy.adapters.sql.unit_of_work import SqlUnitOfWork
from songy.adapters.synth.generator import SynthAudioGenerator
from songy.adapters.system import Cuid2Ids, SystemClock
from songy.adapters.taskiq.broker import build_broker, job_records
from songy.adapters.taskiq.job_queue import TaskiqJobQueue
from songy.adapters.webhook_address_guard import AddressGuard
from songy.adapters.webhook_sender import HttpWebhookSender
from songy.adapters.webhook_url import WebhookUrlRules
from songy.domain.use_cases.accounts import GetAccount, GrantCredits
from songy.domain.use_cases.admin_actions import (
    AdminCancelMusic,
    AdminRetryMusic,
    HoldWhilePaused,
    PausableJobQueue,
    PauseQueue,
    PurgeFailures,
    SkipWhilePaused,
)
from songy.domain.use_cases.audio_urls import AudioUrls
from songy.domain.use_cases.check_dependencies import CheckDependencies
from songy.domain.use_cases.expire_audio import ExpireAudio
from songy.domain.use_cases.generate_music import GenerateMusic
from songy.domain.use_cases.get_download_link import GetDownloadLink
from songy.domain.use_cases.get_music_status import GetMusicStatus
from songy.domain.use_cases.manage_music import CancelMusic, DeleteMusic, ListMusic
from songy.domain.use_cases.playlists import ManagePlaylists
from songy.domain.use_cases.process_generation import ProcessGeneration, RetryPolicy
from songy.domain.use_cases.prune_outbox import PruneOutbox
from songy.domain.use_cases.queue_dashboard import QueueDashboard
from songy.domain.use_cases.reap_stale_generations import ReapStaleGenerations
from songy.domain.use_cases.relay_outbox import RelayOutbox
from songy.domain.use_cases.resolve_user import ResolveUser
from songy.domain.use_cases.sync_user import SyncUser
from songy.domain.use_cases.webhook_endpoints import DeliverWebhooks, FanOutWebhooks, ManageWebhookEndpoints
from songy.entrypoints.background import BackgroundLoops, OutboxSignal
from songy.entrypoints.logging_setup import current_request_id
from songy.entrypoints.metrics_exposition import MetricsPortServer
from songy.entrypoints.metrics_sampler import MetricsSampler
from songy.settings import Settings


def _clerk_verifier(settings: Settings) -> object:
    from songy.adapters.clerk.session_tokens import ClerkSessionVerifier

    return ClerkSessionVerifier(
        settings.clerk_jwks_url or "",
        settings.clerk_issuer or "",
        authorized_parties=settings.clerk_authorized_parties,
    )


def _clerk_webhooks(settings: Settings) -> object:
    from songy.adapters.clerk.webhooks import ClerkWebhookVerifier

    return ClerkWebhookVerifier(settings.clerk_webhook_secret or "")


def _redis_event_bus(settings: Settings) -> object:
    from songy.adapters.redis_events import RedisEventBus

    return RedisEventBus(settings.redis_url or "")


def _redis_queue_control(settings: Settings) -> object:
    from songy.adapters.redis_queue_control import RedisQueueControl

    return RedisQueueControl(settings.redis_url or "")


def _s3_store(settings: Settings) -> object:
    from songy.adapters.s3.blob_store import S3BlobStore

    return S3BlobStore.from_settings(settings)


def _elevenlabs(settings: Settings) -> object:
    from songy.adapters.elevenlabs.generator import ElevenLabsAudioGenerator

    return ElevenLabsAudioGenerator(
        api_key=settings.elevenlabs_api_key or "",
        base_url=settings.elevenlabs_base_url,
        timeout_s=settings.elevenlabs_timeout_s,
        length_tolerance=timedelta(milliseconds=settings.provider_length_tolerance_ms),
    )


class Container(containers.DeclarativeContainer):
    """Singletons for clients and pools, factories for use cases. Tests override providers, not modules."""

    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(Cuid2Ids)
    outbox_signal = providers.Singleton(OutboxSignal)

    engine = providers.Singleton(build_engine, settings.provided.resolved_database_url)
    unit_of_work = providers.Factory(
        SqlUnitOfWork,
        engine,
        now=clock.provided.now,
        on_commit=outbox_signal.provided.nudge,
        request_id=providers.Object(current_request_id),
    )
    read_unit_of_work = providers.Factory(
        SqlUnitOfWork,
        providers.Singleton(reader_engine, engine),
        now=clock.provided.now,
        on_commit=outbox_signal.provided.nudge,
        read_only=True,
    )

    dev_tokens = providers.Singleton(DevTokens, providers.Callable(lambda s: s.resolved_dev_token_secret(), settings))
    identity_verifier = providers.Selector(
        settings.provided.auth,
        dev=dev_tokens,
        clerk=providers.Singleton(_clerk_verifier, settings),
    )

    clerk_webhooks = providers.Singleton(_clerk_webhooks, settings)

    blob_store = providers.Selector(
        settings.provided.blob_store,
        local=providers.Singleton(
            LocalFsBlobStore,
            root=settings.provided.blob_root,
            public_base_url=settings.provided.resolved_public_base_url,
            signing_key=providers.Callable(lambda s: s.resolved_dev_token_secret().encode(), settings),
            clock=clock,
            public=settings.provided.public_audio,
        ),
        s3=providers.Singleton(_s3_store, settings),
    )
    audio_generator = providers.Selector(
        settings.provided.audio_generator,
        synth=providers.Singleton(SynthAudioGenerator, settings.provided.soundfont),
        elevenlabs=providers.Singleton(_elevenlabs, settings),
    )

    broker = providers.Singleton(
        build_broker,
        settings.provided.redis_url,
        max_in_process_tasks=settings.provided.worker_concurrency,
        idle_timeout_ms=settings.provided.redelivery_idle_ms,
        completed_ttl=providers.Callable(lambda s: timedelta(seconds=s.job_record_completed_ttl_s), settings),
        failed_ttl=providers.Callable(lambda s: timedelta(seconds=s.job_record_failed_ttl_s), settings),
    )
    job_queue = providers.Singleton(TaskiqJobQueue, broker)
    queue_control = providers.Selector(
        providers.Callable(lambda s: "redis" if s.redis_url else "local", settings),
        local=providers.Singleton(MemoryQueueControl),
        redis=providers.Singleton(_redis_queue_control, settings),
    )
    event_bus = providers.Selector(
        providers.Callable(lambda s: "redis" if s.redis_url else "local", settings),
        local=providers.Singleton(InProcessEventBus),
        redis=providers.Singleton(_redis_event_bus, settings),
    )

    retry_policy = providers.Singleton(
        RetryPolicy,
        max_attempts=settings.provided.retry_max_attempts,
        base_delay=providers.Callable(lambda s: timedelta(seconds=s.retry_base_delay_s), settings),
    )
    resolve_user = providers.Singleton(
        ResolveUser,
        ids,
        clock,
        provision_unknown=providers.Callable(lambda s: s.auth == "dev", settings),
        initial_credits=settings.provided.initial_credits,
    )

    generate_music = providers.Singleton(GenerateMusic, unit_of_work.provider, resolve_user, ids, clock)
    get_account = providers.Singleton(GetAccount, unit_of_work.provider, resolve_user)
    grant_credits = providers.Singleton(GrantCredits, unit_of_work.provider)
    playlists = providers.Singleton(ManagePlaylists, unit_of_work.provider, resolve_user, ids, clock)
    list_music = providers.Singleton(ListMusic, unit_of_work.provider, resolve_user)
    cancel_music = providers.Singleton(CancelMusic, unit_of_work.provider, resolve_user, clock)
    delete_music = providers.Singleton(DeleteMusic, unit_of_work.provider, resolve_user, blob_store)
    sync_user = providers.Singleton(
        SyncUser, unit_of_work.provider, ids, clock, initial_credits=settings.provided.initial_credits
    )
    get_music_status = providers.Singleton(
        GetMusicStatus, unit_of_work.provider, resolve_user, reads=read_unit_of_work.provider
    )
    audio_url_ttl = providers.Callable(lambda s: timedelta(seconds=s.download_url_ttl_s), settings)
    audio_urls = providers.Singleton(AudioUrls, blob_store, audio_url_ttl, public=settings.provided.public_audio)
    get_download_link = providers.Singleton(
        GetDownloadLink, get_music_status, blob_store, providers.Singleton(CodecTranscoder), audio_url_ttl
    )
    process_generation = providers.Singleton(
        ProcessGeneration,
        unit_of_work.provider,
        audio_generator,
        blob_store,
        clock,
        retry_policy,
        providers.Singleton(DecodingAudioVerifier, blob_store),
        lease=providers.Callable(lambda s: timedelta(seconds=s.attempt_lease_s), settings),
    )
    held_generation = providers.Singleton(HoldWhilePaused, process_generation, queue_control)
    admin_retry = providers.Singleton(AdminRetryMusic, unit_of_work.provider, clock)
    admin_cancel = providers.Singleton(AdminCancelMusic, unit_of_work.provider, clock)
    purge_failures = providers.Singleton(PurgeFailures, unit_of_work.provider, clock)
    pause_queue = providers.Singleton(PauseQueue, queue_control)
    private_targets_allowed = providers.Callable(lambda s: s.auth == "dev" or s.webhooks_allow_private, settings)
    webhook_urls = providers.Singleton(
        WebhookUrlRules, allow_http=private_targets_allowed, allow_private=private_targets_allowed
    )
    webhook_sender = providers.Singleton(
        HttpWebhookSender,
        urls=webhook_urls,
        guard=providers.Singleton(AddressGuard, allow_private=private_targets_allowed),
    )
    webhook_endpoints = providers.Singleton(
        ManageWebhookEndpoints, unit_of_work.provider, resolve_user, ids, clock, webhook_urls
    )
    fan_out_webhooks = providers.Singleton(FanOutWebhooks, ids, clock, audio_urls)
    deliver_webhooks = providers.Singleton(DeliverWebhooks, unit_of_work.provider, webhook_sender, clock)
    relay_outbox = providers.Singleton(
        RelayOutbox,
        unit_of_work.provider,
        providers.Singleton(PausableJobQueue, job_queue, queue_control),
        event_bus,
        clock,
        fan_out=fan_out_webhooks,
        blobs=blob_store,
    )
    reap_stale = providers.Singleton(
        ReapStaleGenerations,
        unit_of_work.provider,
        clock,
        retry_policy,
        providers.Callable(lambda s: timedelta(seconds=s.reaper_deadline_s), settings),
    )
    job_history = providers.Singleton(job_records, broker)
    # each check resolves its dependency when it runs (a provider, not an instance): a replaced one is checked
    database_check = providers.Factory(SqlDatabaseCheck, engine)
    check_dependencies = providers.Singleton(
        CheckDependencies,
        providers.Dict(database=database_check.provider, queue=job_queue.provider, blobStore=blob_store.provider),
    )
    queue_dashboard = providers.Singleton(
        QueueDashboard, read_unit_of_work.provider, job_history, clock, check_dependencies
    )
    metrics_sampler = providers.Singleton(
        MetricsSampler,
        queue_dashboard,
        interval_s=settings.provided.metrics_sample_interval_s,
        redis_configured=providers.Callable(lambda s: bool(s.redis_url), settings),
    )
    metrics_port_server = providers.Singleton(MetricsPortServer, settings)
    prune_outbox = providers.Singleton(PruneOutbox, unit_of_work.provider, clock)
    expire_audio = providers.Singleton(
        ExpireAudio,
        unit_of_work.provider,
        blob_store,
        clock,
        providers.Callable(
            lambda s: timedelta(days=s.audio_retention_days) if s.audio_retention_days else None, settings
        ),
    )
    outbox_notifications = providers.Singleton(
        OutboxNotifications, settings.provided.resolved_database_url, outbox_signal.provided.nudge
    )
    background = providers.Singleton(
        BackgroundLoops,
        providers.List(relay_outbox, deliver_webhooks),
        providers.List(
            providers.Singleton(SkipWhilePaused, reap_stale, queue_control),
            prune_outbox,
            expire_audio,
            blob_store.provided.remove_abandoned_uploads,
        ),
        outbox_signal,
        poll_interval=settings.provided.outbox_poll_interval_s,
        reaper_interval=settings.provided.reaper_interval_s,
    )


def build_container(settings: Settings | None = None) -> Container:
    """A container for ``settings`` (read from the environment when not given)."""
    container = Container(settings=settings or Settings())
    return container
