//! A throwaway PostgreSQL database per test.

use sqlx::{Connection, Executor, PgConnection};

/// Where the tests create their databases, unless `CLOUDREC_TEST_DATABASE_URL` says otherwise.
const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database created for one test, dropped when the guard is dropped (also
/// when the test panics).
pub(crate) struct TestDb {
    /// The URL of the test's database.
    pub(crate) url: String,
    admin: String,
    name: String,
}

fn admin_url() -> String {
    std::env::var("CLOUDREC_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// The URL's host part only, so a message never shows a password.
fn shown(url: &str) -> &str {
    url.rsplit_once('@').map_or(url, |(_, host)| host)
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

async fn admin_connection(admin: &str) -> PgConnection {
    PgConnection::connect(admin).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {} ({e}). Start it with `.ci/run`, or \
             `pg_ctlcluster 15 main start`, or set CLOUDREC_TEST_DATABASE_URL to a server \
             where this user may CREATE DATABASE",
            shown(admin)
        )
    })
}

impl TestDb {
    /// Creates `cloudrec_test_<random>`.
    pub(crate) async fn new() -> Self {
        let admin = admin_url();
        let name = format!("cloudrec_test_{:016x}", rand::random::<u64>());
        let mut conn = admin_connection(&admin).await;
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name} on {}: {e}", shown(&admin)));
        let _ = conn.close().await;
        Self {
            url: with_database(&admin, &name),
            admin,
            name,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // A thread of its own: Drop may run inside the test's runtime, which cannot block.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = conn.close().await;
                Ok::<_, String>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!(
                "could not drop test database {}: the dropping thread panicked",
                self.name
            ),
        }
    }
}

#[test]
fn database_names_are_replaced() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgres://h:5432", "t1"),
        "postgres://h:5432/t1"
    );
    assert_eq!(
        with_database("postgres://h/db?sslmode=disable", "t1"),
        "postgres://h/db?sslmode=disable".replace("/db", "/t1")
    );
}
