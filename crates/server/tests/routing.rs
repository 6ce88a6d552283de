//! Routing by competence, through the real API, on both backends: the right person for every
//! hand-off, limits that never relax, capacity, relaxation over time and the first-response
//! timeout (time moves by the app's clock, never by sleeping).

use desk::ConversationId;
use playbook::Playbook;
use reqwest::StatusCode;
use serde_json::{json, Value};
use test_support::app::*;

/// The demo shop plus a solar quote that needs both `sales` and `solar`.
fn playbook() -> Playbook {
    let solar = r#"
[[intent]]
id = "solar_quote"
kind = "sales"
handoff = true
skills = ["sales", "solar"]
examples = ["Angebot für eine Solaranlage", "Was kostet eine Photovoltaikanlage auf meinem Dach?",
  "Solaranlage Angebot anfragen", "Ich möchte eine PV-Anlage mit Speicher", "quote for a solar installation",
  "solar panels on my roof price", "photovoltaic system offer"]
"#;
    Playbook::parse(&format!("{}\n{solar}", playbook::DEMO)).expect("playbook")
}

const UPSET: &str = "Ich bin total wütend, das ist eine Frechheit!";
const COMPLAINT: &str = "Ich möchte mich beschweren, die Lieferung war kaputt.";
const PERSON: &str = "Ich will mit einem Menschen sprechen";
const SOLAR: &str = "Ich hätte gern ein Angebot für eine Solaranlage auf meinem Dach";

struct Person {
    email: String,
    token: String,
}

/// What the routing scenarios do with the app.
trait Routing {
    async fn person(
        &self,
        name: &str,
        competences: (u8, u8),
        skills: &[&str],
        limits: &[&str],
        capacity: u32,
    ) -> Person;
    async fn go_online(&self, p: &Person);
    async fn assignee(&self, conv: &Conv) -> Option<String>;
    async fn why(&self, conv: &Conv) -> Value;
    async fn tick(&self);
    fn advance_secs(&self, secs: i64);
}

impl Routing for TestApp {
    /// Creates an agent through the admin API and logs them in (still offline).
    async fn person(
        &self,
        name: &str,
        (people, situational): (u8, u8),
        skills: &[&str],
        limits: &[&str],
        capacity: u32,
    ) -> Person {
        let admin = self.token_for(ADMIN.0, ADMIN.1).await;
        let email = format!("{}@routing.test", name.to_lowercase());
        let res = self
            .post(
                "/api/v1/agents",
                Some(&admin),
                json!({"name": name, "email": email, "password": "routing-test-pw", "role": "agent",
                    "locales": ["de", "en"], "skills": skills,
                    "competences": {"self": 3, "people": people, "situational": situational},
                    "limits": limits, "capacity": capacity}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let token = self.token_for(&email, "routing-test-pw").await;
        Person { email, token }
    }

    async fn go_online(&self, p: &Person) {
        self.online(&p.email, &p.token).await;
    }

    async fn assignee(&self, conv: &Conv) -> Option<String> {
        let c = self.conversation(conv).await;
        c["assignee"]["name"].as_str().map(str::to_owned)
    }

    /// The explanation stored with the conversation's latest assignment.
    async fn why(&self, conv: &Conv) -> Value {
        let id = ConversationId::parse(&conv.id).expect("id");
        let events = self.store.events(&id).await.expect("events");
        events
            .iter()
            .rev()
            .find(|e| e.kind == "assigned" || e.kind == "reassigned")
            .map(|e| e.data["why"].clone())
            .expect("an assignment event")
    }

    /// What the routing tick does, at the app's current (possibly advanced) time.
    async fn tick(&self) {
        server::flow::tick(&self.state).await;
    }

    fn advance_secs(&self, secs: i64) {
        self.state.clock.advance(secs * 1000);
    }
}

async fn upset_customer_goes_to_the_highest_people_competence(b: Backend) {
    let app = spawn_on(b, playbook(), "upset").await;
    let warm = app.person("Petra", (5, 4), &[], &[], 3).await;
    let fair = app.person("Oskar", (4, 5), &[], &[], 3).await;
    let cool = app.person("Rita", (3, 5), &[], &[], 3).await;
    for p in [&cool, &fair, &warm] {
        app.go_online(p).await;
    }
    let conv = app.start(Some(UPSET)).await;
    assert_eq!(
        conv.body["handoff"]["reasons"],
        json!(["negative_sentiment"])
    );
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Petra"));
    let why = app.why(&conv).await;
    assert_eq!(why["levels"]["people"], 4);
    assert!(why["others"]
        .as_array()
        .expect("others")
        .iter()
        .any(|o| o["name"] == "Rita" && o["lost"] == "level"));

    // The console shows why, in one line, to the agent who got it.
    let login = app.console_login(&warm.email, "routing-test-pw").await;
    let cookie = set_cookie(&login, "tandem_session").expect("session cookie");
    let page = app
        .client
        .get(app.url(&format!("/console/c/{}?lang=en", conv.id)))
        .header("cookie", cookie.split(';').next().unwrap_or_default())
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("Why: negative_sentiment"), "{page}");
    assert!(page.contains("Petra fits best"), "{page}");
    assert!(page.contains("Rita people 3 &lt; 4") || page.contains("Rita people 3 < 4"));
}

async fn a_quote_for_sales_and_solar_goes_to_the_agent_with_both(b: Backend) {
    let app = spawn_on(b, playbook(), "solar").await;
    let seller = app.person("Sven", (5, 5), &["sales"], &[], 3).await;
    let both = app
        .person("Sonja", (3, 4), &["sales", "solar"], &[], 3)
        .await;
    let tech = app.person("Tim", (5, 5), &["solar"], &[], 3).await;
    for p in [&seller, &tech, &both] {
        app.go_online(p).await;
    }
    let conv = app.start(Some(SOLAR)).await;
    assert_eq!(conv.body["handoff"]["skills"], json!(["sales", "solar"]));
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Sonja"));
}

async fn a_complaint_never_goes_to_an_agent_who_ruled_it_out(b: Backend) {
    let app = spawn_on(b, playbook(), "limits").await;
    let no = app.person("Nils", (5, 5), &[], &["complaint"], 5).await;
    app.go_online(&no).await;
    let conv = app.start(Some(COMPLAINT)).await;
    assert!(conv.body["handoff"]["reasons"]
        .as_array()
        .expect("reasons")
        .contains(&json!("complaint")));
    assert_eq!(conv.body["state"], "queued");
    // Not even when the wait is long and every relaxation step is in force.
    app.advance_secs(3600);
    app.tick().await;
    assert_eq!(app.conversation(&conv).await["state"], "queued");
    // A fit agent comes online: it goes to her at once.
    let yes = app.person("Frida", (4, 4), &[], &[], 2).await;
    app.go_online(&yes).await;
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Frida"));
    let why = app.why(&conv).await;
    assert!(why["others"]
        .as_array()
        .expect("others")
        .iter()
        .any(|o| o["name"] == "Nils" && o["lost"] == "rules_out" && o["what"] == "complaint"));
}

async fn capacity_holds_and_a_resolve_drains_the_queue(b: Backend) {
    let app = spawn_on(b, playbook(), "capacity").await;
    let solo = app.person("Uwe", (3, 3), &[], &[], 1).await;
    app.go_online(&solo).await;
    let first = app.start(Some(PERSON)).await;
    let second = app.start(Some(PERSON)).await;
    assert_eq!(app.assignee(&first).await.as_deref(), Some("Uwe"));
    assert_eq!(app.conversation(&second).await["state"], "queued");
    let res = app
        .post(
            &format!("/api/v1/conversations/{}/resolve", first.id),
            Some(&solo.token),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.assignee(&second).await.as_deref(), Some("Uwe"));
}

async fn requirements_relax_as_the_wait_grows(b: Backend) {
    let app = spawn_on(b, playbook(), "relax").await;
    let calm = app.person("Vera", (3, 3), &[], &[], 2).await;
    app.go_online(&calm).await;
    let conv = app.start(Some(UPSET)).await;
    assert_eq!(conv.body["state"], "queued");
    app.advance_secs(30);
    app.tick().await;
    assert_eq!(app.conversation(&conv).await["state"], "queued");
    app.advance_secs(31);
    app.tick().await;
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Vera"));
    let why = app.why(&conv).await;
    assert_eq!(why["relaxed"], "levels -1");
    assert_eq!(why["levels_in_force"]["people"], 3);
}

async fn an_unanswered_conversation_moves_on_after_the_timeout(b: Backend) {
    let app = spawn_on(b, playbook(), "timeout").await;
    let slow = app.person("Wim", (4, 4), &[], &[], 2).await;
    app.go_online(&slow).await;
    let conv = app.start(Some(PERSON)).await;
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Wim"));
    let quick = app.person("Xenia", (3, 3), &[], &[], 2).await;
    app.go_online(&quick).await;
    // Still within the timeout: it stays.
    app.advance_secs(100);
    app.tick().await;
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Wim"));
    app.advance_secs(21);
    app.tick().await;
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Xenia"));
    // Wim is told, in the transcript he can still read in the event log, and the move is logged.
    let id = ConversationId::parse(&conv.id).expect("id");
    let events = app.store.events(&id).await.expect("events");
    let moved = events
        .iter()
        .find(|e| e.kind == "reassigned")
        .expect("reassigned event");
    assert_eq!(moved.data["from"], app.agent_id(&slow.email).await);
    let messages = app.conversation(&conv).await["messages"].clone();
    assert!(
        messages
            .as_array()
            .expect("messages")
            .iter()
            .any(|m| m["author"] == "system"
                && m["text"].as_str().unwrap_or_default().contains("Wim"))
    );

    // An agent who replies in time keeps the conversation.
    let other = app.start(Some(PERSON)).await;
    let keeper = app.assignee(&other).await.expect("assigned");
    let token = if keeper == "Wim" {
        &slow.token
    } else {
        &quick.token
    };
    let res = app
        .post(
            &format!("/api/v1/conversations/{}/messages", other.id),
            Some(token),
            json!({"text": "Ich bin für Sie da."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.advance_secs(600);
    app.tick().await;
    assert_eq!(app.assignee(&other).await, Some(keeper));
}

async fn nobody_online_is_said_honestly_and_the_queue_shows_the_wait(b: Backend) {
    let app = spawn_on(b, playbook(), "honest").await;
    let first = app.start(Some(PERSON)).await;
    assert_eq!(first.body["state"], "queued");
    let said = first.body["messages"][1]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(said.contains("gerade ist leider niemand da"), "{said}");
    let view = app.conversation(&first).await;
    assert_eq!(
        view["queue"],
        json!({"position": 1, "expected_wait_secs": null})
    );
    let second = app.start(Some(PERSON)).await;
    assert_eq!(app.conversation(&second).await["queue"]["position"], 2);

    // Someone comes online with room for one: the first goes to him, the second moves up.
    let solo = app.person("Yann", (3, 3), &[], &[], 1).await;
    app.go_online(&solo).await;
    assert_eq!(app.conversation(&first).await["queue"], Value::Null);
    assert_eq!(
        app.conversation(&second).await["queue"],
        json!({"position": 1, "expected_wait_secs": 300})
    );
    // Now someone is there: the usual words.
    let third = app.start(Some(PERSON)).await;
    let said = third.body["messages"][1]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(said.contains("Sie müssen nichts wiederholen"), "{said}");
    assert_eq!(
        app.conversation(&third).await["queue"],
        json!({"position": 2, "expected_wait_secs": 600})
    );
}

async fn agents_transfer_to_a_colleague_or_a_skill(b: Backend) {
    let app = spawn_on(b, playbook(), "transfer").await;
    let ida = app.person("Ida", (3, 3), &[], &[], 2).await;
    app.go_online(&ida).await;
    let conv = app.start(Some(PERSON)).await;
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Ida"));
    let path = format!("/api/v1/conversations/{}/transfer", conv.id);

    // Not to someone offline, nor to someone who ruled it out; the customer cannot transfer.
    let kai = app
        .person("Kai", (5, 5), &[], &["human_requested"], 2)
        .await;
    let kai_id = app.agent_id(&kai.email).await;
    let res = app
        .post(&path, Some(&ida.token), json!({"agent": kai_id}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["message"], "that colleague is not online");
    app.go_online(&kai).await;
    let res = app
        .post(&path, Some(&ida.token), json!({"agent": kai_id}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app
        .post(&path, Some(&conv.token), json!({"skill": "x"}))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.post(&path, Some(&ida.token), json!({})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // To a colleague: Jonas gets it at once.
    let jonas = app.person("Jonas", (3, 3), &[], &[], 2).await;
    app.go_online(&jonas).await;
    let jonas_id = app.agent_id(&jonas.email).await;
    let res = app
        .post(&path, Some(&ida.token), json!({"agent": jonas_id}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Jonas"));

    // To a skill nobody online has: it waits, then goes to the first who has it.
    let res = app
        .post(&path, Some(&jonas.token), json!({"skill": "billing"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let now = app.conversation(&conv).await;
    assert_eq!(now["state"], "queued");
    assert_eq!(now["handoff"]["skills"], json!(["billing"]));
    let lea = app.person("Lea", (3, 3), &["billing"], &[], 2).await;
    app.go_online(&lea).await;
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Lea"));
    let texts: Vec<String> = app.conversation(&conv).await["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["author"] == "system")
        .filter_map(|m| m["text"].as_str().map(str::to_owned))
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Ida hat das Gespräch an Jonas übergeben")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("(billing)")), "{texts:?}");
}

async fn raising_capacity_drains_the_queue_and_limits_are_the_agents_own(b: Backend) {
    let app = spawn_on(b, playbook(), "own_limits").await;
    let uwe = app.person("Uwe", (4, 4), &[], &["complaint"], 1).await;
    app.go_online(&uwe).await;
    let uwe_id = app.agent_id(&uwe.email).await;
    let first = app.start(Some(PERSON)).await;
    let second = app.start(Some(PERSON)).await;
    assert_eq!(app.conversation(&second).await["state"], "queued");
    let path = format!("/api/v1/agents/{uwe_id}/limits");
    let put = |token: String, body: Value| {
        app.client
            .put(app.url(&path))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    // More capacity: the queue drains at once.
    let res = put(
        uwe.token.clone(),
        json!({"limits": ["complaint"], "capacity": 3}),
    )
    .await
    .expect("put");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.assignee(&second).await.as_deref(), Some("Uwe"));
    assert_eq!(app.assignee(&first).await.as_deref(), Some("Uwe"));
    // Only he (or an admin) sets his limits.
    let other = app.person("Vik", (3, 3), &[], &[], 1).await;
    let res = put(other.token.clone(), json!({"limits": [], "capacity": 3}))
        .await
        .expect("put");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = put(uwe.token.clone(), json!({"limits": [], "capacity": 0}))
        .await
        .expect("put");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // A complaint waits while he rules complaints out, and comes to him when he stops.
    let complaint = app.start(Some(COMPLAINT)).await;
    assert_eq!(app.conversation(&complaint).await["state"], "queued");
    let res = put(uwe.token.clone(), json!({"limits": [], "capacity": 3}))
        .await
        .expect("put");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.assignee(&complaint).await.as_deref(), Some("Uwe"));
}

/// The console's transfer and limits forms, with the session's CSRF token.
async fn console_forms_transfer_and_set_limits(b: Backend) {
    let app = spawn_on(b, playbook(), "console_forms").await;
    let cookie = cookie_pair(&app.console_login(BEN.0, BEN.1).await);
    let conv = app.start(Some(PERSON)).await;
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Ben Berger"));
    let clara = app.token_for(CLARA.0, CLARA.1).await;
    app.online(CLARA.0, &clara).await;
    let clara_id = app.agent_id(CLARA.0).await;
    let page = app
        .client
        .get(app.url(&format!("/console/c/{}", conv.id)))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("id=\"transfer\""), "{page}");
    assert!(page.contains("Clara Chen"));
    let csrf = page
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf meta")
        .to_owned();
    let form = |path: String, fields: Vec<(&'static str, String)>| {
        app.client
            .post(app.url(&path))
            .header("cookie", &cookie)
            .form(&fields)
            .send()
    };
    let transfer = format!("/console/c/{}/transfer", conv.id);
    let res = form(
        transfer.clone(),
        vec![("csrf", "wrong".into()), ("agent", clara_id.to_string())],
    )
    .await
    .expect("post");
    assert_ne!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Ben Berger"));
    let res = form(
        transfer,
        vec![
            ("csrf", csrf.clone()),
            ("agent", clara_id.to_string()),
            ("skill", String::new()),
        ],
    )
    .await
    .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.assignee(&conv).await.as_deref(), Some("Clara Chen"));

    let res = form(
        "/console/limits".into(),
        vec![
            ("csrf", csrf),
            ("limits", "complaint, sensitive_topic".into()),
            ("capacity", "4".into()),
        ],
    )
    .await
    .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let ben = app
        .store
        .agents()
        .await
        .expect("agents")
        .into_iter()
        .find(|a| a.email == BEN.0)
        .expect("ben");
    assert_eq!(ben.limits, vec!["complaint", "sensitive_topic"]);
    assert_eq!(ben.capacity, 4);
}

macro_rules! scenarios {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(Backend::Sqlite).await;
                }
            )+
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(Backend::Postgres).await;
                }
            )+
        }
    };
}

scenarios!(
    upset_customer_goes_to_the_highest_people_competence,
    a_quote_for_sales_and_solar_goes_to_the_agent_with_both,
    a_complaint_never_goes_to_an_agent_who_ruled_it_out,
    capacity_holds_and_a_resolve_drains_the_queue,
    requirements_relax_as_the_wait_grows,
    an_unanswered_conversation_moves_on_after_the_timeout,
    nobody_online_is_said_honestly_and_the_queue_shows_the_wait,
    agents_transfer_to_a_colleague_or_a_skill,
    raising_capacity_drains_the_queue_and_limits_are_the_agents_own,
    console_forms_transfer_and_set_limits,
);
