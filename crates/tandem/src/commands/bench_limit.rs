//! `tandem bench --limit`: what the database alone can do, measured in the same run as the desk,
//! so the ratio between the two can be repeated anywhere.
//!
//! - SQLite: a bare axum server whose one route inserts each message durably (WAL,
//!   `synchronous=FULL`, through one writer thread that commits whatever is waiting in one
//!   transaction: group commit, as the desk's writer does), driven by the same client and
//!   workers as the desk. That is the yardstick of issue 18 ("a bare axum + SQLite server"): the
//!   desk is held against HTTP plus durable storage, not against storage without HTTP. The same
//!   writer without HTTP, from `concurrency` closed-loop tasks, is printed beside it.
//! - PostgreSQL: `concurrency` connections, each inserting one row per transaction
//!   (autocommit, `synchronous_commit` as the server has it), and `pgbench` with the same
//!   single-INSERT script when it is installed.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

/// Inserts per second of one run.
pub struct Limit {
    pub what: String,
    pub per_sec: f64,
    /// Other measurements of the same limit (pgbench beside our own loop).
    pub also: Vec<(String, f64)>,
}

const TABLE: &str = "CREATE TABLE IF NOT EXISTS bench_limit (
    id BIGSERIAL PRIMARY KEY, conversation TEXT NOT NULL, text TEXT NOT NULL, created_at BIGINT NOT NULL)";
const INSERT: &str =
    "INSERT INTO bench_limit (conversation, text, created_at) VALUES ('c_bench', 'Wo ist meine Bestellung?', 0)";

/// One writer thread over a fresh SQLite file that commits whatever inserts are waiting in one
/// transaction (group commit, as the desk's writer does); each caller waits for its commit.
#[derive(Clone)]
struct GroupCommit {
    queue: std::sync::mpsc::Sender<(Row, tokio::sync::oneshot::Sender<()>)>,
}

/// A row of the limit's table: the conversation and the text.
type Row = (String, String);

impl GroupCommit {
    fn open(path: &Path) -> anyhow::Result<(Self, std::thread::JoinHandle<anyhow::Result<u64>>)> {
        let conn = rusqlite::Connection::open(path)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")?;
        conn.execute_batch(&TABLE.replace("BIGSERIAL", "INTEGER"))?;
        let (queue, rx) = std::sync::mpsc::channel::<(Row, tokio::sync::oneshot::Sender<()>)>();
        let writer = std::thread::spawn(move || -> anyhow::Result<u64> {
            let mut conn = conn;
            let mut done = 0u64;
            while let Ok(first) = rx.recv() {
                let mut waiting = vec![first];
                while let Ok(more) = rx.try_recv() {
                    waiting.push(more);
                }
                let t = conn.transaction()?;
                {
                    let mut stmt = t.prepare_cached(
                        "INSERT INTO bench_limit (conversation, text, created_at) VALUES (?1, ?2, 0)",
                    )?;
                    for ((conversation, text), _) in &waiting {
                        stmt.execute([conversation, text])?;
                    }
                }
                t.commit()?;
                done += waiting.len() as u64;
                for (_, w) in waiting {
                    let _ = w.send(());
                }
            }
            Ok(done)
        });
        Ok((Self { queue }, writer))
    }

    /// Inserts one row; returns once it is committed (false if the writer is gone).
    async fn insert(&self, row: Row) -> bool {
        let (ack, acked) = tokio::sync::oneshot::channel();
        self.queue.send((row, ack)).is_ok() && acked.await.is_ok()
    }
}

/// Durable single-row inserts on a fresh SQLite file in `dir`.
pub async fn sqlite(dir: &Path, concurrency: usize, run: Duration) -> anyhow::Result<Limit> {
    let (writer, thread) = GroupCommit::open(&dir.join("limit.db"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (writer, stop, count) = (writer.clone(), stop.clone(), count.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let row = ("c_bench".to_owned(), "Wo ist meine Bestellung?".to_owned());
                if !writer.insert(row).await {
                    return;
                }
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    drop(writer);
    tokio::time::sleep(run).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await?;
    }
    let elapsed = started.elapsed();
    thread
        .join()
        .map_err(|_| anyhow::anyhow!("the writer panicked"))??;
    Ok(Limit {
        what: "SQLite, durable single-row inserts (WAL, synchronous=FULL, group commit)".into(),
        per_sec: count.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64(),
        also: Vec::new(),
    })
}

/// A bare axum server in front of a group-committing SQLite writer (a fresh file in `dir`), with
/// the desk's two routes: opening a conversation answers at once, and a message is inserted
/// durably before its 201. The desk's HTTP and storage floor without the desk, for the same
/// client as the desk (`tandem bench` drives it with the same workers). Returns its base URL.
pub async fn sqlite_server(dir: &Path) -> anyhow::Result<String> {
    use axum::extract::{Path as UrlPath, State};
    use axum::http::StatusCode;
    use axum::routing::post;
    use axum::Json;
    let (writer, _thread) = GroupCommit::open(&dir.join("limit-server.db"))?;
    let opened = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new()
        .route(
            "/api/v1/conversations",
            post(
                |State((_, opened)): State<(GroupCommit, Arc<AtomicU64>)>| async move {
                    let n = opened.fetch_add(1, Ordering::Relaxed);
                    let id = format!("c_bare{n:012}");
                    (
                        StatusCode::CREATED,
                        Json(serde_json::json!({"id": id, "token": "bare"})),
                    )
                },
            ),
        )
        .route(
            "/api/v1/conversations/{id}/messages",
            post(
                |State((writer, _)): State<(GroupCommit, Arc<AtomicU64>)>,
                 UrlPath(id): UrlPath<String>,
                 Json(body): Json<serde_json::Value>| async move {
                    let text = body["text"].as_str().unwrap_or_default().to_owned();
                    if !writer.insert((id.clone(), text.clone())).await {
                        return (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({})));
                    }
                    let messages = [("customer", text.as_str()), ("bot", "Danke!")]
                        .map(|(author, text)| serde_json::json!({"author": author, "text": text}));
                    (
                        StatusCode::CREATED,
                        Json(serde_json::json!({"id": id, "state": "bot", "messages": messages})),
                    )
                },
            ),
        )
        .with_state((writer, opened));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

/// Single-row insert transactions on the PostgreSQL database at `url`.
pub async fn postgres(url: &str, concurrency: usize, run: Duration) -> anyhow::Result<Limit> {
    let (setup, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("cannot connect for the limit")?;
    tokio::spawn(conn);
    setup.batch_execute(TABLE).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        let (stop, count) = (stop.clone(), count.clone());
        clients.push(tokio::spawn(async move {
            let stmt = client.prepare(INSERT).await?;
            while !stop.load(Ordering::Relaxed) {
                client.execute(&stmt, &[]).await?;
                count.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, tokio_postgres::Error>(())
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(run).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await??;
    }
    let per_sec = count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let mut limits = vec![(
        "PostgreSQL, one INSERT per transaction (this bench's own clients)".to_owned(),
        per_sec,
    )];
    if let Some(tps) = pgbench(url, concurrency, run)? {
        limits.push(tps);
    }
    setup.batch_execute("DROP TABLE bench_limit").await?;
    // The best of the two is the limit the desk is held against; both are printed.
    limits.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (what, per_sec) = limits.remove(0);
    Ok(Limit {
        what,
        per_sec,
        also: limits,
    })
}

/// `pgbench -n -c C -j 2 -T S -f <one INSERT>`, when `pgbench` is on the PATH.
fn pgbench(url: &str, concurrency: usize, run: Duration) -> anyhow::Result<Option<(String, f64)>> {
    let script = tempfile::NamedTempFile::new()?;
    std::fs::write(script.path(), format!("{INSERT};\n"))?;
    let out = std::process::Command::new("pgbench")
        .args(["-n", "-c", &concurrency.max(1).to_string(), "-j", "2", "-T"])
        .arg(run.as_secs().max(1).to_string())
        .arg("-f")
        .arg(script.path())
        .arg(url)
        .output();
    let Ok(out) = out else {
        eprintln!("bench: pgbench is not installed; the limit is this bench's own insert loop");
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let tps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok());
    Ok(tps.map(|per_sec| {
        (
            format!(
                "pgbench, one INSERT per transaction, {} clients",
                concurrency.max(1)
            ),
            per_sec,
        )
    }))
}
