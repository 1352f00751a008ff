//! One behaviour suite for every `SessionStore`: each test below runs against
//! PostgreSQL (a database of its own on the server of `.ci/run`) and against
//! SQLite (a file in a directory of its own).
#![cfg(any(feature = "postgres", feature = "sqlite"))]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use cloudrec_fleet::{
    CommandKind, CommandState, Idempotency, ListQuery, NewSession, SessionRow, SessionStore,
    SessionUpdate, StoreError,
};
#[cfg(feature = "sqlite")]
use common::TempDir;
#[cfg(feature = "postgres")]
use common::TestDb;
use uuid::Uuid;

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_millis(200);

/// Where one test keeps its store; dropping it removes the database or directory.
enum Backend {
    #[cfg(feature = "postgres")]
    Postgres(TestDb),
    #[cfg(feature = "sqlite")]
    Sqlite(TempDir),
    /// SQLite behind the cache of a sole writer.
    #[cfg(feature = "sqlite")]
    Cached(TempDir),
}

impl Backend {
    #[cfg(feature = "postgres")]
    async fn postgres() -> Self {
        Self::Postgres(TestDb::new().await)
    }

    #[cfg(feature = "sqlite")]
    async fn sqlite() -> Self {
        Self::Sqlite(TempDir::new())
    }

    #[cfg(feature = "sqlite")]
    async fn cached() -> Self {
        Self::Cached(TempDir::new())
    }

    /// Opens (again) the store of this test.
    async fn open(&self) -> Arc<dyn SessionStore> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(db) => Arc::new(
                cloudrec_fleet::PgStore::connect(&db.url)
                    .await
                    .unwrap_or_else(|e| panic!("connect: {e}")),
            ),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(dir) => Arc::new(
                cloudrec_fleet::SqliteStore::open(&dir.path.join("state/sessions.sqlite3"))
                    .await
                    .unwrap_or_else(|e| panic!("open: {e}")),
            ),
            #[cfg(feature = "sqlite")]
            Self::Cached(dir) => Arc::new(cloudrec_fleet::SoleWriterCache::new(Arc::new(
                cloudrec_fleet::SqliteStore::open(&dir.path.join("state/sessions.sqlite3"))
                    .await
                    .unwrap_or_else(|e| panic!("open: {e}")),
            ))),
        }
    }
}

/// Every behaviour, once per backend.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = super::Backend::postgres().await;
                    super::behaviour::$name(&backend).await;
                }
            )*
        }

        #[cfg(feature = "sqlite")]
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = super::Backend::sqlite().await;
                    super::behaviour::$name(&backend).await;
                }
            )*
        }

        #[cfg(feature = "sqlite")]
        mod cached_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = super::Backend::cached().await;
                    super::behaviour::$name(&backend).await;
                }
            )*
        }
    };
}

suite!(
    ping_answers,
    create_then_get,
    idempotent_create,
    concurrent_creates_with_one_key_store_one_row,
    claim_takes_only_unowned_or_expired_sessions,
    concurrent_claims_never_share_a_session,
    renew_returns_exactly_the_live_leases,
    fenced_write_after_another_claim,
    release_clears_the_owners,
    list_filters_and_pages,
    lease_expires_on_the_store_clock,
    leases_out_of_range_are_refused,
    reopened_store_keeps_the_sessions,
    live_workers_are_the_owners_of_unexpired_leases,
    commands_come_in_order_to_the_owner_only,
    a_finished_command_is_visible_and_loses_its_body,
    commands_follow_the_session_to_its_next_owner,
    find_by_sid_finds_the_latest_session_of_a_sid,
);

fn new_session(app_id: &str, n: usize) -> NewSession {
    NewSession {
        app_id: app_id.to_owned(),
        mode: "mix".to_owned(),
        cname: format!("room-{n}"),
        uid: "527841".to_owned(),
        state: "acquired".to_owned(),
        snapshot: serde_json::json!({ "phase": "acquired", "n": n }),
        request: serde_json::json!({ "cname": format!("room-{n}"), "storage": "removed" }),
        sealed_start: None,
        idempotency: None,
    }
}

fn keyed(app_id: &str, n: usize, key: &str) -> NewSession {
    NewSession {
        idempotency: Some(Idempotency {
            key: key.to_owned(),
            request_hash: format!("hash-{n}"),
        }),
        ..new_session(app_id, n)
    }
}

fn update(state: &str) -> SessionUpdate {
    SessionUpdate {
        state: state.to_owned(),
        snapshot: serde_json::json!({ "phase": state }),
        report: serde_json::json!({ "last": state }),
        resource_id: None,
        sid: None,
    }
}

/// `n` sessions of App ID `app` created by `owner` with `lease`.
async fn create_many(
    store: &dyn SessionStore,
    owner: &str,
    lease: Duration,
    n: usize,
) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        let created = store
            .create(owner, lease, &new_session("app", i))
            .await
            .unwrap();
        assert!(!created.existing);
        assert_eq!(created.row.epoch, 1);
        assert_eq!(created.row.owner.as_deref(), Some(owner));
        ids.push(created.row.id);
    }
    ids
}

/// Claims as `worker` until something is claimed (the store's clock decides
/// when a lease has run out); fails after 20 s.
async fn claim_when_expired(store: &dyn SessionStore, worker: &str) -> Vec<SessionRow> {
    let start = Instant::now();
    loop {
        let claimed = store.claim(worker, LONG, 100).await.unwrap();
        if !claimed.is_empty() {
            return claimed;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "a lease of {SHORT:?} has not run out on the store's clock after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn ids(rows: &[SessionRow]) -> Vec<Uuid> {
    rows.iter().map(|row| row.id).collect()
}

fn id_set(rows: &[SessionRow]) -> HashSet<Uuid> {
    rows.iter().map(|row| row.id).collect()
}

/// The store's clock now: the creation time of a probe session (ended, so
/// never claimed, renewed or released).
async fn store_now(store: &dyn SessionStore) -> SystemTime {
    let probe = NewSession {
        state: "stopped".to_owned(),
        ..new_session("probe", 0)
    };
    store
        .create("probe", LONG, &probe)
        .await
        .unwrap()
        .row
        .created_at
}

/// Waits until the store's clock has passed `until`; fails after 20 s.
async fn wait_until(store: &dyn SessionStore, until: SystemTime) {
    let start = Instant::now();
    while store_now(store).await <= until {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the store's clock has not reached {until:?} after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

mod behaviour {
    use super::*;

    pub(super) async fn ping_answers(backend: &Backend) {
        backend.open().await.ping().await.unwrap();
    }

    pub(super) async fn create_then_get(backend: &Backend) {
        let store = backend.open().await;
        let mut new = keyed("app", 7, "key-1");
        new.sealed_start = Some(vec![1, 2, 3, 0, 255]);
        let created = store.create("a", LONG, &new).await.unwrap();
        assert!(!created.existing);
        let row = created.row;
        assert_eq!(row.id.get_version_num(), 7);
        assert_eq!(
            (&*row.app_id, &*row.mode, &*row.cname, &*row.uid),
            ("app", "mix", "room-7", "527841")
        );
        assert_eq!(row.state, "acquired");
        assert_eq!(row.snapshot, new.snapshot);
        assert_eq!(row.request, new.request);
        assert_eq!(row.report, serde_json::json!({}));
        assert_eq!(row.sealed_start, new.sealed_start);
        assert_eq!(row.idempotency, new.idempotency);
        assert_eq!(
            (row.resource_id.as_deref(), row.sid.as_deref()),
            (None, None)
        );
        assert_eq!(row.owner.as_deref(), Some("a"));
        assert_eq!(row.epoch, 1);
        let lease_until = row.lease_until.expect("a lease");
        let lease = lease_until.duration_since(row.created_at).unwrap();
        assert!(
            lease.abs_diff(LONG) < Duration::from_millis(2),
            "lease {lease:?} from the store's now()"
        );
        assert_eq!(store.get(row.id).await.unwrap(), Some(row.clone()));
        assert_eq!(store.get(Uuid::now_v7()).await.unwrap(), None);

        let plain = store
            .create("a", LONG, &new_session("app", 8))
            .await
            .unwrap();
        assert_eq!(plain.row.idempotency, None);
        assert_eq!(plain.row.sealed_start, None);
        assert!(plain.row.id > row.id, "UUID v7 ids grow");
    }

    pub(super) async fn idempotent_create(backend: &Backend) {
        let store = backend.open().await;
        let first = store
            .create("a", LONG, &keyed("app", 1, "k"))
            .await
            .unwrap();
        assert!(!first.existing);

        // The same key on the same App ID: the earlier row, nothing stored,
        // and the earlier hash for the caller to compare.
        let again = store
            .create("b", LONG, &keyed("app", 2, "k"))
            .await
            .unwrap();
        assert!(again.existing);
        assert_eq!(again.row, first.row);
        assert_eq!(
            again.row.idempotency.as_ref().map(|i| &*i.request_hash),
            Some("hash-1")
        );

        // The same key on another App ID, another key, no key: new rows.
        let other_app = store
            .create("a", LONG, &keyed("other", 3, "k"))
            .await
            .unwrap();
        assert!(!other_app.existing);
        assert_ne!(other_app.row.id, first.row.id);
        let other_key = store
            .create("a", LONG, &keyed("app", 4, "k2"))
            .await
            .unwrap();
        assert!(!other_key.existing);
        for n in 5..7 {
            let plain = store
                .create("a", LONG, &new_session("app", n))
                .await
                .unwrap();
            assert!(!plain.existing);
        }

        let all = store
            .list(&ListQuery {
                limit: 100,
                ..ListQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(all.len(), 5, "{all:?}");
        assert_eq!(all[0], first.row);
    }

    pub(super) async fn concurrent_creates_with_one_key_store_one_row(backend: &Backend) {
        let store = backend.open().await;
        let tasks: Vec<_> = (0..8)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .create(&format!("w{n}"), LONG, &keyed("app", n, "once"))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut created = Vec::new();
        for task in tasks {
            created.push(task.await.unwrap());
        }
        assert_eq!(created.iter().filter(|c| !c.existing).count(), 1);
        let ids: HashSet<Uuid> = created.iter().map(|c| c.row.id).collect();
        assert_eq!(ids.len(), 1, "one session for one key");
        let all = store.list(&ListQuery::default()).await.unwrap();
        assert_eq!(all.len(), 1);
    }

    pub(super) async fn claim_takes_only_unowned_or_expired_sessions(backend: &Backend) {
        let store = backend.open().await;
        let live = create_many(&*store, "a", LONG, 1).await[0];
        let released = create_many(&*store, "r", LONG, 1).await[0];
        assert_eq!(store.release("r").await.unwrap(), 1);
        let ended_released = create_many(&*store, "e3", LONG, 1).await[0];
        store
            .write("e3", ended_released, 1, &update("failed"))
            .await
            .unwrap();
        assert_eq!(store.release("e3").await.unwrap(), 0, "ended: not released");

        // Only the released session: the others are owned with a live lease or ended.
        let first = store.claim("b", LONG, 100).await.unwrap();
        assert_eq!(ids(&first), vec![released]);
        assert_eq!(
            first[0].epoch, 2,
            "release keeps epoch 1, the claim makes it 2"
        );
        assert_eq!(first[0].owner.as_deref(), Some("b"));
        assert!(first[0].lease_until.is_some());

        // Once short leases run out: the expiring session, never the ended one.
        let expiring = create_many(&*store, "e", SHORT, 1).await[0];
        let ended = create_many(&*store, "e2", SHORT, 1).await[0];
        store
            .write("e2", ended, 1, &update("stopped"))
            .await
            .unwrap();
        let second = claim_when_expired(&*store, "c").await;
        assert_eq!(ids(&second), vec![expiring]);
        assert_eq!(second[0].epoch, 2);
        assert_eq!(second[0].owner.as_deref(), Some("c"));
        let ended_until = store
            .get(ended)
            .await
            .unwrap()
            .unwrap()
            .lease_until
            .unwrap();
        wait_until(&*store, ended_until).await;
        assert!(store.claim("d", LONG, 100).await.unwrap().is_empty());

        let live_row = store.get(live).await.unwrap().unwrap();
        assert_eq!((live_row.owner.as_deref(), live_row.epoch), (Some("a"), 1));
        let ended_row = store.get(ended).await.unwrap().unwrap();
        assert_eq!(
            (ended_row.owner.as_deref(), ended_row.epoch),
            (Some("e2"), 1)
        );
        let ended_released_row = store.get(ended_released).await.unwrap().unwrap();
        assert_eq!(ended_released_row.epoch, 1);
        assert_eq!(ended_released_row.owner.as_deref(), Some("e3"));
        assert!(store.claim("d", LONG, 0).await.unwrap().is_empty());
    }

    pub(super) async fn concurrent_claims_never_share_a_session(backend: &Backend) {
        let store = backend.open().await;
        let all: HashSet<Uuid> = create_many(&*store, "creator", LONG, 60)
            .await
            .into_iter()
            .collect();
        assert_eq!(store.release("creator").await.unwrap(), 60);

        let claimer = |worker: String| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let batch = store.claim(&worker, LONG, 3).await.unwrap();
                    if batch.is_empty() {
                        return got;
                    }
                    for row in batch {
                        assert_eq!(row.owner.as_deref(), Some(&*worker));
                        assert_eq!(row.epoch, 2);
                        got.push(row.id);
                    }
                    tokio::task::yield_now().await;
                }
            })
        };
        let tasks: Vec<_> = (0..4).map(|n| claimer(format!("w{n}"))).collect();
        let mut seen = HashSet::new();
        for task in tasks {
            for id in task.await.unwrap() {
                assert!(seen.insert(id), "session {id} claimed twice");
            }
        }
        assert_eq!(seen, all);
        assert!(store.claim("late", LONG, 100).await.unwrap().is_empty());
    }

    pub(super) async fn renew_returns_exactly_the_live_leases(backend: &Backend) {
        let store = backend.open().await;
        let mine: HashSet<Uuid> = create_many(&*store, "a", Duration::from_secs(5), 3)
            .await
            .into_iter()
            .collect();
        let theirs = create_many(&*store, "b", Duration::from_secs(5), 2).await;
        let ended = create_many(&*store, "a", Duration::from_secs(5), 1).await[0];
        store
            .write("a", ended, 1, &update("stopped"))
            .await
            .unwrap();
        // A lease of `a` that runs out (and is not claimed): not renewed.
        let lapsed = store
            .create("a", SHORT, &new_session("lapsing", 0))
            .await
            .unwrap()
            .row;
        wait_until(&*store, lapsed.lease_until.unwrap()).await;

        let before: Vec<SessionRow> = store.list(&ListQuery::default()).await.unwrap();
        let renewed = store.renew("a", LONG).await.unwrap();
        let renewed_ids: HashSet<Uuid> = renewed.iter().map(|lease| lease.id).collect();
        assert_eq!(renewed_ids, mine);
        assert!(renewed.iter().all(|lease| lease.epoch == 1));

        for old in before {
            let now = store.get(old.id).await.unwrap().unwrap();
            assert_eq!(now.epoch, old.epoch);
            assert_eq!(now.owner, old.owner);
            if mine.contains(&old.id) {
                let extended = now
                    .lease_until
                    .unwrap()
                    .duration_since(now.created_at)
                    .unwrap();
                assert!(extended > Duration::from_secs(50), "{extended:?}");
            } else {
                assert_eq!(now.lease_until, old.lease_until, "{} untouched", old.id);
            }
        }
        assert!(theirs.iter().all(|id| !renewed_ids.contains(id)));
        assert!(store.renew("nobody", LONG).await.unwrap().is_empty());
    }

    pub(super) async fn fenced_write_after_another_claim(backend: &Backend) {
        let store = backend.open().await;
        let old = store
            .create("a", LONG, &new_session("app", 0))
            .await
            .unwrap()
            .row;
        store.release("a").await.unwrap();
        let claimed = store.claim("b", LONG, 10).await.unwrap();
        assert_eq!(ids(&claimed), vec![old.id]);

        let mut running = update("running");
        running.resource_id = Some("r1".to_owned());
        running.sid = Some("s1".to_owned());
        let refused = store.write("a", old.id, 1, &running).await.unwrap_err();
        let StoreError::Fenced(fenced) = &refused else {
            panic!("expected Fenced, got {refused}");
        };
        assert_eq!(fenced.id, old.id);
        assert_eq!((fenced.worker.as_str(), fenced.epoch), ("a", 1));
        assert_eq!(fenced.current_epoch, Some(2));
        assert_eq!(fenced.current_owner.as_deref(), Some("b"));
        let message = refused.to_string();
        assert!(message.starts_with("not yours:"), "{message}");
        assert!(
            message.contains("epoch 2") && message.contains("another worker, b"),
            "{message}"
        );
        // The old owner, even with the new epoch, is not the owner.
        assert!(matches!(
            store.write("a", old.id, 2, &running).await,
            Err(StoreError::Fenced(_))
        ));
        // Nothing was written.
        let unchanged = store.get(old.id).await.unwrap().unwrap();
        assert_eq!(unchanged.state, "acquired");
        assert_eq!(unchanged.report, serde_json::json!({}));

        store.write("b", old.id, 2, &running).await.unwrap();
        let row = store.get(old.id).await.unwrap().unwrap();
        assert_eq!(row.state, "running");
        assert_eq!(row.snapshot, running.snapshot);
        assert_eq!(row.report, running.report);
        assert_eq!(row.resource_id.as_deref(), Some("r1"));
        assert_eq!(row.sid.as_deref(), Some("s1"));
        assert_eq!(row.epoch, 2);
        assert!(row.updated_at >= row.created_at);

        // `None` keeps the stored resource id and sid.
        store
            .write("b", old.id, 2, &update("stopping"))
            .await
            .unwrap();
        let row = store.get(old.id).await.unwrap().unwrap();
        assert_eq!(
            (row.resource_id.as_deref(), row.sid.as_deref()),
            (Some("r1"), Some("s1"))
        );

        let gone = Uuid::now_v7();
        let StoreError::Fenced(fenced) = store.write("b", gone, 1, &running).await.unwrap_err()
        else {
            panic!("expected Fenced");
        };
        assert_eq!((fenced.current_epoch, fenced.current_owner), (None, None));
    }

    pub(super) async fn release_clears_the_owners(backend: &Backend) {
        let store = backend.open().await;
        let mine = create_many(&*store, "a", LONG, 3).await;
        let ended = create_many(&*store, "a", LONG, 1).await[0];
        store
            .write("a", ended, 1, &update("stopped"))
            .await
            .unwrap();
        let theirs = create_many(&*store, "b", LONG, 1).await[0];

        assert_eq!(store.release("a").await.unwrap(), 3);
        for id in &mine {
            let row = store.get(*id).await.unwrap().unwrap();
            assert_eq!((row.owner, row.lease_until, row.epoch), (None, None, 1));
        }
        let ended = store.get(ended).await.unwrap().unwrap();
        assert_eq!(ended.owner.as_deref(), Some("a"), "ended sessions stay put");
        let theirs = store.get(theirs).await.unwrap().unwrap();
        assert_eq!(theirs.owner.as_deref(), Some("b"));
        assert!(store.renew("a", LONG).await.unwrap().is_empty());
        assert_eq!(store.release("a").await.unwrap(), 0);

        let claimed = store.claim("c", LONG, 10).await.unwrap();
        assert_eq!(id_set(&claimed), mine.into_iter().collect());
        assert!(claimed.iter().all(|row| row.epoch == 2));
    }

    pub(super) async fn live_workers_are_the_owners_of_unexpired_leases(backend: &Backend) {
        let store = backend.open().await;
        assert_eq!(store.live_workers().await.unwrap(), 0);
        create_many(&*store, "a", LONG, 2).await;
        create_many(&*store, "b", LONG, 1).await;
        let lapsing = store
            .create("c", SHORT, &new_session("lapsing", 0))
            .await
            .unwrap()
            .row;
        assert_eq!(store.live_workers().await.unwrap(), 3);
        wait_until(&*store, lapsing.lease_until.unwrap()).await;
        assert_eq!(
            store.live_workers().await.unwrap(),
            2,
            "an expired lease is no member"
        );
        store.release("b").await.unwrap();
        assert_eq!(store.live_workers().await.unwrap(), 1);
    }

    pub(super) async fn list_filters_and_pages(backend: &Backend) {
        let store = backend.open().await;
        let mut all = Vec::new();
        for n in 0..7 {
            let app = if n % 2 == 0 { "even" } else { "odd" };
            let row = store
                .create("a", LONG, &new_session(app, n))
                .await
                .unwrap()
                .row;
            all.push(row.id);
        }
        for id in [all[1], all[2], all[4]] {
            store.write("a", id, 1, &update("running")).await.unwrap();
        }

        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .list(&ListQuery {
                    after,
                    limit: 3,
                    ..ListQuery::default()
                })
                .await
                .unwrap();
            assert!(page.len() <= 3);
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            paged.extend(ids(&page));
        }
        assert_eq!(paged, all, "pages in creation order");

        let list = |state: Option<&str>, app_id: Option<&str>, after: Option<Uuid>, limit| {
            let store = store.clone();
            let query = ListQuery {
                state: state.map(str::to_owned),
                app_id: app_id.map(str::to_owned),
                after,
                limit,
            };
            async move { ids(&store.list(&query).await.unwrap()) }
        };
        assert_eq!(
            list(Some("running"), None, None, 10).await,
            vec![all[1], all[2], all[4]]
        );
        assert_eq!(
            list(None, Some("odd"), None, 10).await,
            vec![all[1], all[3], all[5]]
        );
        assert_eq!(
            list(Some("running"), Some("even"), None, 10).await,
            vec![all[2], all[4]]
        );
        assert_eq!(
            list(Some("running"), Some("even"), Some(all[2]), 10).await,
            vec![all[4]]
        );
        assert_eq!(
            list(None, Some("even"), None, 2).await,
            vec![all[0], all[2]]
        );
        assert_eq!(list(None, None, Some(all[6]), 10).await, Vec::<Uuid>::new());
        assert_eq!(list(None, None, None, 0).await, Vec::<Uuid>::new());
        assert_eq!(
            list(Some("stopped"), None, None, 10).await,
            Vec::<Uuid>::new()
        );
    }

    pub(super) async fn lease_expires_on_the_store_clock(backend: &Backend) {
        let store = backend.open().await;
        let created = store
            .create("a", SHORT, &new_session("app", 0))
            .await
            .unwrap()
            .row;
        let lease = created
            .lease_until
            .unwrap()
            .duration_since(created.created_at)
            .unwrap();
        assert!(
            lease.abs_diff(SHORT) < Duration::from_millis(2),
            "{lease:?}"
        );
        let claimed = claim_when_expired(&*store, "b").await;
        assert_eq!(ids(&claimed), vec![created.id]);
        assert_eq!(claimed[0].epoch, 2);
        assert_eq!(claimed[0].owner.as_deref(), Some("b"));
        let until = claimed[0].lease_until.unwrap();
        assert!(until > created.lease_until.unwrap());
        assert!(store.renew("a", LONG).await.unwrap().is_empty());
        assert!(matches!(
            store.write("a", created.id, 1, &update("running")).await,
            Err(StoreError::Fenced(_))
        ));
        // The claim ran, on the store's clock, once the lease had run out.
        assert!(claimed[0].updated_at >= created.lease_until.unwrap());
        assert!(claimed[0].updated_at < until);
    }

    pub(super) async fn leases_out_of_range_are_refused(backend: &Backend) {
        let store = backend.open().await;
        for lease in [
            Duration::ZERO,
            cloudrec_fleet::MAX_LEASE + Duration::from_secs(1),
        ] {
            assert!(matches!(
                store.create("a", lease, &new_session("app", 0)).await,
                Err(StoreError::BadLease(_))
            ));
            assert!(matches!(
                store.claim("a", lease, 1).await,
                Err(StoreError::BadLease(_))
            ));
            assert!(matches!(
                store.renew("a", lease).await,
                Err(StoreError::BadLease(_))
            ));
        }
        assert!(store.list(&ListQuery::default()).await.unwrap().is_empty());
    }

    pub(super) async fn commands_come_in_order_to_the_owner_only(backend: &Backend) {
        let store = backend.open().await;
        let a = create_many(&*store, "a", LONG, 2).await;
        let b = create_many(&*store, "b", LONG, 1).await;
        let body = serde_json::json!({ "layoutConfig": [] });
        let first = store
            .send_command(a[0], CommandKind::UpdateLayout, &body)
            .await
            .unwrap();
        let for_b = store
            .send_command(b[0], CommandKind::Stop, &serde_json::Value::Null)
            .await
            .unwrap();
        let second = store
            .send_command(a[1], CommandKind::QueryNow, &serde_json::Value::Null)
            .await
            .unwrap();
        let third = store
            .send_command(a[0], CommandKind::Stop, &serde_json::Value::Null)
            .await
            .unwrap();
        assert!(first < for_b && for_b < second && second < third);
        // A command for a session nobody owns (or that does not exist) waits.
        let nobody = store
            .send_command(Uuid::now_v7(), CommandKind::Stop, &serde_json::Value::Null)
            .await
            .unwrap();

        let pending = store.pending_commands("a").await.unwrap();
        let seen: Vec<_> = pending
            .iter()
            .map(|c| (c.id, c.session_id, c.kind))
            .collect();
        assert_eq!(
            seen,
            vec![
                (first, a[0], CommandKind::UpdateLayout),
                (second, a[1], CommandKind::QueryNow),
                (third, a[0], CommandKind::Stop),
            ]
        );
        assert_eq!(pending[0].body, body);
        assert!(pending.iter().all(|c| c.state == CommandState::Pending));
        assert!(
            pending
                .iter()
                .all(|c| c.result.is_none() && c.done_at.is_none())
        );
        let for_b_pending = store.pending_commands("b").await.unwrap();
        assert_eq!(
            for_b_pending.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![for_b]
        );
        assert!(store.pending_commands("c").await.unwrap().is_empty());

        store.finish_command(first, true, None).await.unwrap();
        let pending = store.pending_commands("a").await.unwrap();
        assert_eq!(
            pending.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![second, third]
        );
        let waiting = store.command(nobody).await.unwrap().unwrap();
        assert_eq!(waiting.state, CommandState::Pending);
    }

    pub(super) async fn a_finished_command_is_visible_and_loses_its_body(backend: &Backend) {
        let store = backend.open().await;
        let ids = create_many(&*store, "a", LONG, 1).await;
        let body = serde_json::json!({ "storageConfig": { "secretKey": "SK-not-kept" } });
        let id = store
            .send_command(ids[0], CommandKind::Update, &body)
            .await
            .unwrap();
        let sent = store.command(id).await.unwrap().unwrap();
        assert_eq!(sent.body, body);
        assert_eq!(sent.state, CommandState::Pending);
        assert!(!format!("{sent:?}").contains("SK-not-kept"));
        let detail = r#"{"status":502,"detail":"refused"}"#;
        store.finish_command(id, false, Some(detail)).await.unwrap();
        let failed = store.command(id).await.unwrap().unwrap();
        assert_eq!(failed.state, CommandState::Failed);
        assert_eq!(failed.result.as_deref(), Some(detail));
        assert_eq!(failed.body, serde_json::Value::Null, "the body is cleared");
        let done_at = failed.done_at.expect("the time it was finished");
        assert!(done_at >= failed.created_at);
        // Finished once: a second finish changes nothing.
        store.finish_command(id, true, None).await.unwrap();
        assert_eq!(store.command(id).await.unwrap().unwrap(), failed);
        assert!(store.pending_commands("a").await.unwrap().is_empty());

        let stop = store
            .send_command(ids[0], CommandKind::Stop, &serde_json::Value::Null)
            .await
            .unwrap();
        store.finish_command(stop, true, None).await.unwrap();
        let done = store.command(stop).await.unwrap().unwrap();
        assert_eq!(done.state, CommandState::Done);
        assert_eq!(done.result, None);
        assert!(
            store
                .command(cloudrec_fleet::CommandId(stop.0 + 1000))
                .await
                .unwrap()
                .is_none()
        );
    }

    pub(super) async fn commands_follow_the_session_to_its_next_owner(backend: &Backend) {
        let store = backend.open().await;
        let ids = create_many(&*store, "a", LONG, 1).await;
        let id = store
            .send_command(ids[0], CommandKind::Stop, &serde_json::Value::Null)
            .await
            .unwrap();
        assert_eq!(store.release("a").await.unwrap(), 1);
        assert!(store.pending_commands("a").await.unwrap().is_empty());
        let claimed = store.claim("b", LONG, 10).await.unwrap();
        assert_eq!(self::ids(&claimed), ids);
        let pending = store.pending_commands("b").await.unwrap();
        assert_eq!(pending.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id]);
    }

    pub(super) async fn find_by_sid_finds_the_latest_session_of_a_sid(backend: &Backend) {
        let store = backend.open().await;
        let ids = create_many(&*store, "a", LONG, 3).await;
        let with_sid = |sid: &str| SessionUpdate {
            sid: Some(sid.to_owned()),
            ..update("running")
        };
        store
            .write("a", ids[0], 1, &with_sid("sid-1"))
            .await
            .unwrap();
        store
            .write("a", ids[1], 1, &with_sid("sid-2"))
            .await
            .unwrap();
        store
            .write("a", ids[2], 1, &with_sid("sid-1"))
            .await
            .unwrap();
        let found = store.find_by_sid("sid-1").await.unwrap().unwrap();
        assert_eq!(found.id, ids[2]);
        assert_eq!(found.sid.as_deref(), Some("sid-1"));
        assert_eq!(
            store.find_by_sid("sid-2").await.unwrap().unwrap().id,
            ids[1]
        );
        assert!(store.find_by_sid("sid-3").await.unwrap().is_none());
    }

    pub(super) async fn reopened_store_keeps_the_sessions(backend: &Backend) {
        let first = backend.open().await;
        let ids = create_many(&*first, "a", LONG, 3).await;
        first
            .write("a", ids[1], 1, &update("running"))
            .await
            .unwrap();
        let before = first.list(&ListQuery::default()).await.unwrap();
        drop(first);

        let again = backend.open().await;
        assert_eq!(again.list(&ListQuery::default()).await.unwrap(), before);
        assert!(
            !again
                .create("b", LONG, &keyed("app", 9, "k"))
                .await
                .unwrap()
                .existing
        );
        let third = backend.open().await;
        assert!(
            third
                .create("c", LONG, &keyed("app", 9, "k"))
                .await
                .unwrap()
                .existing
        );
    }
}

#[cfg(feature = "sqlite")]
mod open_store {
    use super::*;
    use cloudrec_fleet::open_store;

    #[tokio::test]
    async fn no_url_opens_sqlite_in_the_state_directory() {
        let dir = TempDir::new();
        let state = dir.path.join("nested/state");
        let store = open_store(None, &state).await.unwrap();
        assert!(format!("{store:?}").contains("SqliteStore"), "{store:?}");
        store.ping().await.unwrap();
        assert!(state.join("sessions.sqlite3").is_file());
    }

    #[tokio::test]
    async fn other_schemes_are_refused_with_the_password_hidden() {
        let dir = TempDir::new();
        for url in [
            "mysql://alice:pw-Secret-42@db.example/sessions",
            "sqlite://pw-Secret-42",
            "not a url",
        ] {
            let error = open_store(Some(url), &dir.path).await.unwrap_err();
            let (shown, debug) = (error.to_string(), format!("{error:?}"));
            assert!(matches!(error, StoreError::Unsupported { .. }), "{debug}");
            if url.contains(':') && url.contains('@') {
                assert!(
                    !shown.contains("pw-Secret-42") && !debug.contains("pw-Secret-42"),
                    "{shown}"
                );
                assert!(shown.contains("***"), "{shown}");
            }
            assert!(
                shown.contains("postgres://") && shown.contains("postgresql://"),
                "{shown}"
            );
        }
    }

    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn a_postgres_url_opens_postgres() {
        let db = TestDb::new().await;
        for url in [
            db.url.clone(),
            db.url.replacen("postgres://", "postgresql://", 1),
        ] {
            let store = open_store(Some(&url), std::path::Path::new("/nonexistent"))
                .await
                .unwrap();
            assert!(format!("{store:?}").contains("PgStore"), "{store:?}");
            store.ping().await.unwrap();
        }
    }
}
