//! What only the PostgreSQL store does, against a real PostgreSQL (the one
//! `.ci/run` starts): migrations, `NOTIFY` on release, the password in URLs.
//! The behaviour both stores share is in `behaviour.rs`.
#![cfg(feature = "postgres")]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use cloudrec_fleet::{ListQuery, NewSession, PgStore, SessionStore, SessionUpdate, StoreError};
use common::TestDb;
use uuid::Uuid;

const LONG: Duration = Duration::from_secs(60);

fn new_session(n: usize) -> NewSession {
    NewSession {
        app_id: "app".to_owned(),
        mode: "mix".to_owned(),
        cname: format!("room-{n}"),
        uid: "527841".to_owned(),
        state: "acquired".to_owned(),
        snapshot: serde_json::json!({ "phase": "acquired", "n": n }),
        request: serde_json::json!({}),
        sealed_start: None,
        idempotency: None,
    }
}

async fn store(db: &TestDb) -> PgStore {
    PgStore::connect(&db.url)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

/// `n` sessions created by `owner` with `lease`.
async fn create_many(store: &PgStore, owner: &str, lease: Duration, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        let row = store
            .create(owner, lease, &new_session(i))
            .await
            .unwrap()
            .row;
        assert_eq!(row.epoch, 1);
        assert_eq!(row.owner.as_deref(), Some(owner));
        assert!(row.lease_until.is_some());
        ids.push(row.id);
    }
    ids
}

#[tokio::test]
async fn migrations_run_twice_and_concurrently() {
    // Concurrently on a fresh database: both migrate, one waits for the other.
    let fresh = TestDb::new().await;
    let connect = |url: String| tokio::spawn(async move { PgStore::connect(&url).await });
    let (a, b) = tokio::join!(connect(fresh.url.clone()), connect(fresh.url.clone()));
    a.unwrap().unwrap();
    b.unwrap().unwrap();
    drop(fresh);

    // Twice in a row.
    let db = TestDb::new().await;
    let first = store(&db).await;
    let second = store(&db).await;
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM cloudrec_store_migrations")
        .fetch_one(second.pool())
        .await
        .unwrap();
    assert_eq!(applied, 3);
    let row = first.create("w", LONG, &new_session(0)).await.unwrap().row;
    assert_eq!(second.get(row.id).await.unwrap(), Some(row.clone()));
    assert_eq!(row.id.get_version_num(), 7);
}

#[tokio::test]
async fn concurrent_claims_never_share_a_session() {
    let db = TestDb::new().await;
    let store = store(&db).await;
    let ids: HashSet<Uuid> = create_many(&store, "creator", LONG, 50)
        .await
        .into_iter()
        .collect();
    assert_eq!(store.release("creator").await.unwrap(), 50);

    let claimer = |worker: &'static str| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = store.claim(worker, LONG, 3).await.unwrap();
                if batch.is_empty() {
                    return got;
                }
                for row in batch {
                    assert_eq!(row.owner.as_deref(), Some(worker));
                    assert_eq!(row.epoch, 2, "release keeps epoch 1, the claim makes it 2");
                    got.push(row.id);
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let (a, b) = tokio::join!(claimer("a"), claimer("b"));
    let (a, b): (HashSet<Uuid>, HashSet<Uuid>) = (
        a.unwrap().into_iter().collect(),
        b.unwrap().into_iter().collect(),
    );
    assert!(
        a.is_disjoint(&b),
        "claimed twice: {:?}",
        a.intersection(&b).collect::<Vec<_>>()
    );
    assert_eq!(a.union(&b).copied().collect::<HashSet<_>>(), ids);
    assert!(store.claim("c", LONG, 100).await.unwrap().is_empty());
}

#[tokio::test]
async fn expired_lease_is_claimed_and_old_owner_is_fenced() {
    let db = TestDb::new().await;
    let store = store(&db).await;
    let old = store
        .create("a", Duration::from_secs(1), &new_session(0))
        .await
        .unwrap()
        .row;
    assert!(
        store.claim("b", LONG, 10).await.unwrap().is_empty(),
        "the lease still runs"
    );

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let claimed = store.claim("b", LONG, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, old.id);
    assert_eq!(claimed[0].epoch, old.epoch + 1);
    assert_eq!(claimed[0].owner.as_deref(), Some("b"));

    let update = SessionUpdate {
        state: "running".to_owned(),
        snapshot: serde_json::json!({ "phase": "running" }),
        report: serde_json::json!({ "last": "running" }),
        resource_id: Some("r1".to_owned()),
        sid: Some("s1".to_owned()),
    };
    let refused = store
        .write("a", old.id, old.epoch, &update)
        .await
        .unwrap_err();
    let StoreError::Fenced(fenced) = &refused else {
        panic!("expected Fenced, got {refused}");
    };
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
        store.write("a", old.id, 2, &update).await,
        Err(StoreError::Fenced(_))
    ));
    assert!(store.renew("a", LONG).await.unwrap().is_empty());

    store.write("b", old.id, 2, &update).await.unwrap();
    let row = store.get(old.id).await.unwrap().unwrap();
    assert_eq!(row.state, "running");
    assert_eq!(row.snapshot, update.snapshot);
    assert_eq!(row.report, update.report);
    assert_eq!(row.sid.as_deref(), Some("s1"));
    assert_eq!(row.resource_id.as_deref(), Some("r1"));
    assert_eq!(row.epoch, 2);
}

/// Renewal is one `UPDATE ... RETURNING` per call, whatever the number of
/// sessions (see `PgStore::renew`); this test checks what it renews.
#[tokio::test]
async fn renew_extends_exactly_the_owned_leases() {
    let db = TestDb::new().await;
    let store = store(&db).await;
    let short = Duration::from_secs(5);
    let mine: HashSet<Uuid> = create_many(&store, "a", short, 3)
        .await
        .into_iter()
        .collect();
    let theirs = create_many(&store, "b", short, 2).await;
    let ended = store.create("a", short, &new_session(9)).await.unwrap().row;
    let stopped = SessionUpdate {
        state: "stopped".to_owned(),
        snapshot: serde_json::json!({}),
        report: serde_json::json!({}),
        resource_id: None,
        sid: None,
    };
    store
        .write("a", ended.id, ended.epoch, &stopped)
        .await
        .unwrap();

    let renewed = store.renew("a", LONG).await.unwrap();
    let renewed_ids: HashSet<Uuid> = renewed.iter().map(|lease| lease.id).collect();
    assert_eq!(renewed_ids, mine);
    assert!(renewed.iter().all(|lease| lease.epoch == 1));

    let extended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM cloudrec_sessions \
         WHERE owner = 'a' AND lease_until > now() + interval '50 seconds'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(extended, 3);
    let untouched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM cloudrec_sessions \
         WHERE id = ANY($1) AND lease_until <= now() + interval '5 seconds'",
    )
    .bind(&theirs)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(untouched, 2);
    assert!(store.renew("nobody", LONG).await.unwrap().is_empty());
}

#[tokio::test]
async fn release_hands_over_at_once_and_notifies() {
    let db = TestDb::new().await;
    let store = store(&db).await;
    let mut listener = store.listen().await.unwrap();
    let ids: HashSet<Uuid> = create_many(&store, "a", LONG, 5)
        .await
        .into_iter()
        .collect();
    assert!(store.claim("b", LONG, 10).await.unwrap().is_empty());

    assert_eq!(store.release("a").await.unwrap(), 5);
    let released = tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .expect("no notification within 10 s")
        .unwrap();
    assert_eq!(released.worker, "a");

    let claimed = store.claim("b", LONG, 10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|row| row.id).collect::<HashSet<_>>(),
        ids
    );
    assert!(claimed.iter().all(|row| row.epoch == 2));
    assert!(store.renew("a", LONG).await.unwrap().is_empty());
    assert_eq!(store.release("a").await.unwrap(), 0);
}

#[tokio::test]
async fn a_command_notifies_its_session_id_once_stored() {
    let db = TestDb::new().await;
    let store = store(&db).await;
    let mut listener = store.listen_commands().await.unwrap();
    let ids = create_many(&store, "a", LONG, 1).await;
    let sent = store
        .send_command(
            ids[0],
            cloudrec_fleet::CommandKind::QueryNow,
            &serde_json::Value::Null,
        )
        .await
        .unwrap();
    let session = tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .expect("no notification within 10 s")
        .unwrap();
    assert_eq!(session, ids[0].to_string());
    let pending = store.pending_commands("a").await.unwrap();
    assert_eq!(pending.iter().map(|c| c.id).collect::<Vec<_>>(), vec![sent]);
}

#[tokio::test]
async fn connect_errors_hide_the_password() {
    let secret = "pw-Secret-42";
    for url in [
        format!("postgres://alice:{secret}@127.0.0.1:1/nothing"),
        format!("postgres://alice:{secret}@127.0.0.1:notaport/nothing"),
        format!("postgres://alice@127.0.0.1:1/nothing?password={secret}"),
    ] {
        let error = PgStore::connect(&url).await.unwrap_err();
        let (shown, debug) = (error.to_string(), format!("{error:?}"));
        assert!(
            !shown.contains(secret) && !debug.contains(secret),
            "{shown} / {debug}"
        );
        assert!(
            shown.contains("cannot connect") && shown.contains("***"),
            "{shown}"
        );
    }

    // Trust authentication accepts any password: the store's Debug must hide it.
    let db = TestDb::new().await;
    let with_password = db
        .url
        .replacen("://postgres@", &format!("://postgres:{secret}@"), 1);
    if with_password != db.url {
        let store = PgStore::connect(&with_password).await.unwrap();
        let debug = format!("{store:?}");
        assert!(!debug.contains(secret) && debug.contains("***"), "{debug}");
    }
}

#[tokio::test]
async fn get_and_list_page_through_sessions() {
    let db = TestDb::new().await;
    let store = store(&db).await;
    let ids = create_many(&store, "a", LONG, 5).await;
    assert_eq!(store.get(Uuid::now_v7()).await.unwrap(), None);

    let page = |after: Option<Uuid>| ListQuery {
        after,
        limit: 2,
        ..ListQuery::default()
    };
    let first = store.list(&page(None)).await.unwrap();
    let second = store
        .list(&page(first.last().map(|row| row.id)))
        .await
        .unwrap();
    let third = store
        .list(&page(second.last().map(|row| row.id)))
        .await
        .unwrap();
    let paged: Vec<Uuid> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|row| row.id)
        .collect();
    assert_eq!(paged, ids, "UUID v7 ids list in creation order");

    let update = SessionUpdate {
        state: "running".to_owned(),
        snapshot: serde_json::json!({}),
        report: serde_json::json!({}),
        resource_id: None,
        sid: None,
    };
    store.write("a", ids[3], 1, &update).await.unwrap();
    let running = store
        .list(&ListQuery {
            state: Some("running".to_owned()),
            limit: 10,
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        running.iter().map(|row| row.id).collect::<Vec<_>>(),
        vec![ids[3]]
    );
}

/// A database left at migration 1 (the schema before the idempotency keys)
/// is upgraded by migrations 2 and 3 (the commands); its sessions keep their
/// fields and read with the new columns' defaults.
#[tokio::test]
async fn migration_2_upgrades_a_version_1_database() {
    let db = TestDb::new().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    for statement in [
        "CREATE TABLE cloudrec_store_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
        "CREATE TABLE cloudrec_sessions (
            id UUID PRIMARY KEY,
            app_id TEXT NOT NULL,
            mode TEXT NOT NULL,
            cname TEXT NOT NULL,
            uid TEXT NOT NULL,
            resource_id TEXT,
            sid TEXT,
            state TEXT NOT NULL,
            snapshot JSONB NOT NULL DEFAULT '{}'::jsonb,
            owner TEXT,
            lease_until TIMESTAMPTZ,
            epoch BIGINT NOT NULL DEFAULT 0,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
        "INSERT INTO cloudrec_store_migrations (version, name) VALUES (1, 'sessions')",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    let old = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO cloudrec_sessions (id, app_id, mode, cname, uid, sid, state, snapshot, owner, epoch) \
         VALUES ($1, 'app', 'mix', 'room', '1', 's1', 'running', '{\"n\": 1}', NULL, 3)",
    )
    .bind(old)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = store(&db).await;
    let versions: Vec<i32> =
        sqlx::query_scalar("SELECT version FROM cloudrec_store_migrations ORDER BY version")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(versions, vec![1, 2, 3]);
    let row = store.get(old).await.unwrap().unwrap();
    assert_eq!(
        (row.state.as_str(), row.sid.as_deref(), row.epoch),
        ("running", Some("s1"), 3)
    );
    assert_eq!(row.snapshot, serde_json::json!({ "n": 1 }));
    assert_eq!(row.report, serde_json::json!({}));
    assert_eq!(row.request, serde_json::json!({}));
    assert_eq!((row.sealed_start, row.idempotency), (None, None));
    let claimed = store.claim("w", LONG, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].epoch, 4);
    let command = store
        .send_command(
            old,
            cloudrec_fleet::CommandKind::Stop,
            &serde_json::Value::Null,
        )
        .await
        .unwrap();
    let pending = store.pending_commands("w").await.unwrap();
    assert_eq!(
        pending.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![command]
    );
}
