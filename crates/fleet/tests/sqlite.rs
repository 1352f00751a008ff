//! What only the SQLite store does: the file, its directory, WAL mode, the
//! migrations recorded in it, and sessions surviving a reopen.
#![cfg(feature = "sqlite")]

mod common;

use std::time::Duration;

use cloudrec_fleet::{ListQuery, NewSession, SessionStore, SessionUpdate, SqliteStore, StoreError};
use common::TempDir;

const LONG: Duration = Duration::from_secs(60);

fn new_session(n: usize) -> NewSession {
    NewSession {
        app_id: "app".to_owned(),
        mode: "individual".to_owned(),
        cname: format!("room-{n}"),
        uid: "1".to_owned(),
        state: "acquired".to_owned(),
        snapshot: serde_json::json!({ "n": n, "text": "ünïcödé ✓" }),
        request: serde_json::json!({ "cname": format!("room-{n}") }),
        sealed_start: Some(vec![0, 1, 2, 254, 255]),
        idempotency: None,
    }
}

#[tokio::test]
async fn open_creates_the_directory_and_file_in_wal_mode() {
    let dir = TempDir::new();
    let path = dir.path.join("a/b/sessions.sqlite3");
    let store = SqliteStore::open(&path).await.unwrap();
    assert!(path.is_file());
    assert_eq!(store.path(), path);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let debug = format!("{store:?}");
    assert!(debug.contains("sessions.sqlite3"), "{debug}");
}

#[tokio::test]
async fn sessions_survive_closing_and_reopening_the_file() {
    let dir = TempDir::new();
    let path = dir.path.join("sessions.sqlite3");
    let store = SqliteStore::open(&path).await.unwrap();
    let created = store.create("a", LONG, &new_session(1)).await.unwrap().row;
    store
        .write(
            "a",
            created.id,
            1,
            &SessionUpdate {
                state: "running".to_owned(),
                snapshot: serde_json::json!({ "phase": "running" }),
                report: serde_json::json!({ "files": ["a.m3u8"] }),
                resource_id: Some("r".to_owned()),
                sid: Some("s".to_owned()),
            },
        )
        .await
        .unwrap();
    let before = store.get(created.id).await.unwrap().unwrap();
    store.pool().close().await;

    let reopened = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        reopened.get(created.id).await.unwrap(),
        Some(before.clone())
    );
    assert_eq!(before.sealed_start, Some(vec![0, 1, 2, 254, 255]));
    assert_eq!(before.snapshot, serde_json::json!({ "phase": "running" }));
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM cloudrec_store_migrations ORDER BY version")
            .fetch_all(reopened.pool())
            .await
            .unwrap();
    assert_eq!(versions, vec![1, 2], "migrations run once");
    // The lease, on the file's clock, still holds: no one else may claim it.
    assert!(reopened.claim("b", LONG, 10).await.unwrap().is_empty());
    assert_eq!(reopened.renew("a", LONG).await.unwrap().len(), 1);
}

#[tokio::test]
async fn two_stores_on_one_file_share_it() {
    let dir = TempDir::new();
    let path = dir.path.join("sessions.sqlite3");
    let (a, b) = tokio::join!(SqliteStore::open(&path), SqliteStore::open(&path));
    let (a, b) = (a.unwrap(), b.unwrap());
    let created = a.create("a", LONG, &new_session(1)).await.unwrap().row;
    assert_eq!(b.get(created.id).await.unwrap(), Some(created));
    assert_eq!(a.release("a").await.unwrap(), 1);
    assert_eq!(b.claim("b", LONG, 10).await.unwrap().len(), 1);
    assert_eq!(a.list(&ListQuery::default()).await.unwrap()[0].epoch, 2);
}

#[tokio::test]
async fn errors_name_the_file() {
    let dir = TempDir::new();
    // A directory where the file should be.
    let path = dir.path.join("taken");
    std::fs::create_dir_all(&path).unwrap();
    let error = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(error, StoreError::Connect { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&*path.to_string_lossy()),
        "{error}"
    );

    // A file where the directory should be.
    let blocker = dir.path.join("file");
    std::fs::write(&blocker, b"").unwrap();
    let error = SqliteStore::open(&blocker.join("sessions.sqlite3"))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains(&*blocker.to_string_lossy()),
        "{error}"
    );

    // Not a database.
    let garbage = dir.path.join("garbage.sqlite3");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    let error = SqliteStore::open(&garbage).await.unwrap_err();
    assert!(error.to_string().contains("garbage.sqlite3"), "{error}");
}
