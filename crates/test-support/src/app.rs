//! The one harness of the server's tests (feature `app`): the real app on port 0 with a fresh
//! database per test: SQLite in a temporary directory, or (for the scenarios that must hold on
//! both backends) a fresh PostgreSQL database at `TANDEM_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432`), dropped afterwards. The app is built from
//! [`Settings`] alone (`Application::build` reads no environment), so every test, the help
//! center's with its CAPTCHA secret included, starts it the same way.

use std::sync::Arc;

use playbook::Playbook;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use server::{bootstrap, Application, Settings};
use store::sqlite::SqliteStore;
use store::Store;
use tokio::sync::oneshot;

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub store: Arc<dyn Store>,
    /// The app's shared state: its clock can be advanced, and routing run, without HTTP.
    pub state: server::AppState,
    _dir: Option<tempfile::TempDir>,
    _stop: oneshot::Sender<()>,
    _pg: Option<PgDatabase>,
}

/// Which store a test app runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The real app on the given backend, with the demo agents and no rate limits (scenarios log
/// many people in).
pub async fn spawn_on(backend: Backend, playbook: Playbook, test: &str) -> TestApp {
    match backend {
        Backend::Sqlite => spawn_with(playbook, false).await,
        Backend::Postgres => {
            let db = PgDatabase::create(test).await;
            let store: Arc<dyn Store> = Arc::new(
                store::postgres::PgStore::connect(&db.url)
                    .await
                    .expect("connect to the test database"),
            );
            let mut app = spawn_store(store, playbook, false, HelpOptions::default()).await;
            app._pg = Some(db);
            app
        }
    }
}

pub use crate::PgDatabase;
use server::help::HelpOptions;

pub async fn spawn_app() -> TestApp {
    spawn_with(Playbook::demo(), true).await
}

pub async fn spawn_with(playbook: Playbook, rate_limits: bool) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("tandem.db")).expect("open store"));
    let mut app = spawn_store(store, playbook, rate_limits, HelpOptions::default()).await;
    app._dir = Some(dir);
    app
}

/// The real app on `store` (with the demo agents), serving until the [`TestApp`] is dropped.
pub async fn spawn_store(
    store: Arc<dyn Store>,
    playbook: Playbook,
    rate_limits: bool,
    help: HelpOptions,
) -> TestApp {
    bootstrap::demo_agents(store.as_ref())
        .await
        .expect("demo agents");
    let app = Application::build(
        Settings {
            bind: "127.0.0.1:0".into(),
            playbook,
            playbook_file: None,
            rate_limits,
            secure_cookies: false,
            first_response_timeout_secs: server::FIRST_RESPONSE_TIMEOUT_SECS,
            encoder: None,
            help,
            connections: Default::default(),
            mail: Default::default(),
        },
        store.clone(),
    )
    .await
    .expect("build app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        base,
        client,
        store,
        state,
        _dir: None,
        _stop: stop,
        _pg: None,
    }
}

pub struct Conv {
    pub id: String,
    pub token: String,
    pub body: Value,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        let mut req = self.client.post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    pub async fn start(&self, text: Option<&str>) -> Conv {
        let body = match text {
            Some(t) => json!({"text": t}),
            None => json!({}),
        };
        let res = self.post("/api/v1/conversations", None, body).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.expect("json");
        Conv {
            id: body["id"].as_str().expect("id").to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
            body,
        }
    }

    pub async fn say(&self, conv: &Conv, text: &str) -> Value {
        let res = self
            .post(
                &format!("/api/v1/conversations/{}/messages", conv.id),
                Some(&conv.token),
                json!({"text": text}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "posting {text:?}");
        res.json().await.expect("json")
    }

    pub async fn token_for(&self, email: &str, password: &str) -> String {
        let res = self
            .post(
                "/api/v1/auth/token",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.expect("json");
        body["token"].as_str().expect("token").to_owned()
    }

    pub async fn agent_id(&self, email: &str) -> i64 {
        self.store
            .agents()
            .await
            .expect("agents")
            .into_iter()
            .find(|a| a.email == email)
            .expect("agent exists")
            .id
            .get()
    }

    pub async fn online(&self, email: &str, token: &str) {
        let id = self.agent_id(email).await;
        let res = self
            .client
            .put(self.url(&format!("/api/v1/agents/{id}/presence")))
            .bearer_auth(token)
            .json(&json!({"status": "online"}))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }

    /// Logs in to the console as a browser does: fetch the form (which sets the login CSRF
    /// cookie), then post it with the cookie and the matching token.
    pub async fn console_login(&self, email: &str, password: &str) -> Response {
        let page = self.get("/console/login", None).await;
        let login = set_cookie(&page, "tandem_login").expect("login CSRF cookie");
        let csrf = login
            .split(';')
            .next()
            .and_then(|kv| kv.split_once('='))
            .map(|(_, v)| v.to_owned())
            .expect("cookie value");
        self.client
            .post(self.url("/console/login"))
            .header("cookie", format!("tandem_login={csrf}"))
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await
            .expect("request")
    }

    pub async fn conversation(&self, conv: &Conv) -> Value {
        let res = self
            .get(
                &format!("/api/v1/conversations/{}", conv.id),
                Some(&conv.token),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.expect("json")
    }
}

pub const BEN: (&str, &str) = ("ben@demo.tandem", "tandem-demo-ben");
pub const CLARA: (&str, &str) = ("clara@demo.tandem", "tandem-demo-clara");
pub const ADMIN: (&str, &str) = ("admin@demo.tandem", "tandem-demo-admin");

pub async fn error_code(res: Response) -> (StatusCode, String) {
    let status = res.status();
    let body: Value = res.json().await.expect("error body is JSON");
    (
        status,
        body["error"]["code"]
            .as_str()
            .expect("error.code")
            .to_owned(),
    )
}

/// The whole `Set-Cookie` header for cookie `name`, if the response sets it.
pub fn set_cookie(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The `name=value` pair of the console session a login response set.
pub fn cookie_pair(res: &Response) -> String {
    set_cookie(res, "tandem_session")
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .expect("session cookie")
}
