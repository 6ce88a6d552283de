//! Nothing in the desk is tied to the demo shop: the same flow with another business's playbook
//! (a municipal utility), through the API.

use playbook::Playbook;
use reqwest::StatusCode;
use serde_json::json;
use test_support::app::*;

const UTILITY: &str = r#"
[desk]
name = "Stadtwerke Musterstadt"
locales = ["de", "en"]

[[intent]]
id = "meter_reading"
skills = ["metering"]
examples = ["Wie gebe ich meinen Zählerstand durch?", "Zählerstand melden", "Zaehlerstand online eingeben",
  "Ablesung Stromzähler", "How do I submit my meter reading?", "report meter reading"]
answer.de = "Ihren Zählerstand geben Sie im Kundenportal unter „Verbrauch → Zählerstand“ ein."
answer.en = "Submit your meter reading in the customer portal under “Usage → Meter reading”."

[[intent]]
id = "move_house"
examples = ["Ich ziehe um", "Umzug melden", "Strom ummelden wegen Umzug", "neue Wohnung Vertrag mitnehmen",
  "I am moving house", "register a move"]
answer.de = "Einen Umzug melden Sie bis 2 Wochen vorher im Kundenportal unter „Vertrag → Umzug“."
answer.en = "Report a move up to 2 weeks ahead in the customer portal under “Contract → Move”."

[[intent]]
id = "tariff_change"
kind = "sales"
handoff = true
skills = ["sales"]
examples = ["Ich möchte den Tarif wechseln", "günstigeren Stromtarif", "Tarifwechsel", "Angebot für Ökostrom",
  "I want to change my tariff", "cheaper electricity plan"]
answer.de = "Unser Vertrieb berät Sie gern zu Ihrem Tarif."
"#;

#[tokio::test]
async fn another_business_runs_the_whole_flow() {
    let playbook = Playbook::parse(UTILITY).expect("valid playbook");
    let app = spawn_with(playbook, true).await;

    // The bot answers what the playbook knows, with umlauts folded either way.
    let conv = app
        .start(Some("Wo kann ich den Zaehlerstand eingeben?"))
        .await;
    assert_eq!(conv.body["state"], "bot");
    assert!(conv.body["messages"][1]["text"]
        .as_str()
        .unwrap_or("")
        .contains("Kundenportal"));

    // An intent marked `handoff = true` always goes to a person.
    let tariff = app.start(Some("Ich möchte den Tarif wechseln")).await;
    assert_eq!(tariff.body["state"], "queued");
    let reasons = tariff.body["handoff"]["reasons"]
        .as_array()
        .expect("reasons")
        .clone();
    assert!(
        reasons.iter().any(|r| r == "intent_requires_human"),
        "{reasons:?}"
    );
    assert_eq!(tariff.body["handoff"]["skills"], json!(["sales"]));

    // A complaint is handed off with its reason.
    let complaint = app
        .say(
            &conv,
            "Ich möchte mich beschweren, die Abrechnung ist eine Frechheit!",
        )
        .await;
    assert_eq!(complaint["state"], "queued");
    let reasons = complaint["handoff"]["reasons"]
        .as_array()
        .expect("reasons")
        .clone();
    assert!(reasons.iter().any(|r| r == "complaint"), "{reasons:?}");

    // Both agents come online. The tariff change needs `sales`, so Clara gets it; the
    // complaint was recognised as a tariff matter too, so it also needs `sales`. The assignee
    // replies and resolves.
    let ben = app.token_for(BEN.0, BEN.1).await;
    app.online(BEN.0, &ben).await;
    assert_eq!(app.conversation(&tariff).await["state"], "queued");
    let clara = app.token_for(CLARA.0, CLARA.1).await;
    app.online(CLARA.0, &clara).await;
    let tariff_now = app.conversation(&tariff).await;
    assert_eq!(tariff_now["state"], "assigned");
    assert_eq!(tariff_now["assignee"]["name"], "Clara Chen");
    let conv_now = app.conversation(&conv).await;
    assert_eq!(conv_now["state"], "assigned", "{conv_now}");
    let assignee = if conv_now["assignee"]["name"] == "Clara Chen" {
        clara
    } else {
        ben
    };
    let reply = app
        .post(
            &format!("/api/v1/conversations/{}/messages", conv.id),
            Some(&assignee),
            json!({"text": "Das tut mir leid – ich prüfe Ihre Abrechnung."}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let res = app
        .post(
            &format!("/api/v1/conversations/{}/resolve", conv.id),
            Some(&assignee),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post(
            &format!("/api/v1/conversations/{}/rating", conv.id),
            Some(&conv.token),
            json!({"score": 4}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // The English side of the same desk.
    let english = app.start(Some("How do I submit my meter reading?")).await;
    assert!(english.body["messages"][1]["text"]
        .as_str()
        .unwrap_or("")
        .contains("customer portal"));
}
