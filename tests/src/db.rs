//! One database per test, cloned from a template migrated once per migration
//! set (named by a hash of the migration SQL, built under an advisory lock).

use std::path::Path;

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};

/// The server the tests use, as its owner.
pub fn server_url() -> String {
    std::env::var("ONEGRID_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn migrations_hash() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut hasher = Sha256::new();
    for migration in entries {
        for file in ["up.sql", "down.sql"] {
            let path = migration.join(file);
            hasher.update(path.file_name().unwrap().as_encoded_bytes());
            hasher.update(migration.file_name().unwrap().as_encoded_bytes());
            hasher.update(std::fs::read(&path).unwrap_or_default());
        }
    }
    hasher
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exists: bool,
}

async fn exists(conn: &mut AsyncPgConnection, name: &str) -> bool {
    diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
        .bind::<Text, _>(name)
        .get_result::<Exists>(conn)
        .await
        .unwrap()
        .exists
}

async fn template() -> String {
    // Templates of older migration sets are never used again.
    #[derive(diesel::QueryableByName)]
    struct Stale {
        #[diesel(sql_type = Text)]
        datname: String,
    }
    let name = format!("onegrid_tpl_{}", migrations_hash());
    let mut conn = AsyncPgConnection::establish(&format!("{}/postgres", server_url())).await.expect(
        "PostgreSQL is not reachable: start it with pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    );
    if exists(&mut conn, &name).await {
        return name;
    }
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(0x0_6E_67_72_69_64_i64)
        .execute(&mut conn)
        .await
        .unwrap();
    if !exists(&mut conn, &name).await {
        let building = format!("{name}_building");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {building}"))
            .execute(&mut conn)
            .await
            .unwrap();
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut conn)
            .await
            .unwrap();
        onegrid_store::migrate::run_migrations(&format!("{}/{building}", server_url()))
            .await
            .unwrap();
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let stale: Vec<Stale> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'onegrid_tpl_%' AND datname NOT IN ($1, $2)")
            .bind::<Text, _>(&name)
            .bind::<Text, _>(&building)
            .load(&mut conn)
            .await
            .unwrap_or_default();
        for s in stale {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                s.datname
            ))
            .execute(&mut conn)
            .await;
        }
    }
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(0x0_6E_67_72_69_64_i64)
        .execute(&mut conn)
        .await
        .unwrap();
    name
}

/// A database of one test, dropped when the test ends.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub async fn create() -> TestDb {
        let template = template().await;
        let name = format!("onegrid_t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = AsyncPgConnection::establish(&format!("{}/postgres", server_url()))
            .await
            .unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut conn)
            .await
            .unwrap();
        TestDb { name }
    }

    /// Owner URL of this database.
    pub fn url(&self) -> String {
        format!("{}/{}", server_url(), self.name)
    }

    /// URL of this database as the application role.
    pub fn app_url(&self) -> String {
        onegrid_config::with_user(&self.url(), onegrid_config::APP_ROLE, None).unwrap()
    }

    /// A connection as the owner (bypasses RLS): for asserting side effects.
    pub async fn owner(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url()).await.unwrap()
    }

    /// A connection as the application role with no scope set.
    pub async fn app(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.app_url()).await.unwrap()
    }

    /// Counts rows of `table`, as the owner.
    pub async fn count(&self, table: &str) -> i64 {
        self.scalar(&format!("SELECT count(*) FROM {table}")).await
    }

    /// The id (as text) of the first row `from` names (`FROM ... WHERE ...`), as the owner.
    pub async fn first_id(&self, from: &str) -> String {
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: uuid::Uuid,
        }
        let mut conn = self.owner().await;
        diesel::sql_query(format!("SELECT id {from} LIMIT 1"))
            .get_result::<Id>(&mut conn)
            .await
            .unwrap()
            .id
            .to_string()
    }

    /// The one bigint `sql` returns, as the owner.
    pub async fn scalar(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = self.owner().await;
        diesel::sql_query(format!("SELECT ({sql})::bigint AS n"))
            .get_result::<N>(&mut conn)
            .await
            .unwrap()
            .n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let url = format!("{}/postgres", server_url());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut conn) = AsyncPgConnection::establish(&url).await {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn)
                            .await;
                }
            });
        })
        .join();
    }
}
