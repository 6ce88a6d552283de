//! The inbox: read markers per agent, and finding conversations by their words within what an
//! agent may see.

use super::*;
use store::{Find, Scope};

fn ids(list: &[store::Conversation]) -> Vec<&str> {
    list.iter().map(|c| c.id.as_str()).collect()
}

/// The agent's unread counts for these conversations.
async fn unread(
    s: &Arc<dyn Store>,
    agent: AgentId,
    of: &[ConversationId],
) -> Vec<(ConversationId, u32)> {
    s.inbox().unread(agent, of).await.expect("unread")
}

pub(super) async fn unread_counts_follow_each_agents_read_marker(s: Arc<dyn Store>) {
    let ben = s
        .create_agent(agent("ben@x.org", 5, &[]))
        .await
        .expect("ben");
    let cleo = s
        .create_agent(agent("cleo@x.org", 5, &[]))
        .await
        .expect("cleo");
    let mut new = new_conversation("c_unread");
    new.change = Some(handoff(vec![Reason::HumanRequested]));
    let created = s.create_conversation(new).await.expect("create");
    let id = created.conversation.id.clone();
    // Only the bot has spoken here: nothing to read.
    let mut quiet = new_conversation("c_quiet");
    quiet.messages.remove(0);
    let other = s
        .create_conversation(quiet)
        .await
        .expect("create")
        .conversation
        .id;
    let both = [id.clone(), other.clone()];
    // The customer's "Hallo" is unread for both; the bot's answer never counts.
    assert_eq!(unread(&s, ben.id, &both).await, [(id.clone(), 1)]);
    s.inbox()
        .mark_read(ben.id, &id, Some(created.messages[1].id))
        .await
        .expect("read");
    assert!(unread(&s, ben.id, &both).await.is_empty());
    assert_eq!(unread(&s, cleo.id, &both).await.len(), 1, "per agent");
    // Two customer messages and a note by Cleo: three new for Ben, and Ben's own reply is not.
    let later = s
        .append(
            &id,
            &[ConversationState::Queued],
            vec![
                NewMessage::customer("Noch da?"),
                NewMessage::customer("Hallo??"),
                NewMessage::note(cleo.id, "Kenne ich, Rückruf"),
                NewMessage::agent(ben.id, "Ja, ich bin da"),
            ],
            None,
        )
        .await
        .expect("append");
    assert_eq!(unread(&s, ben.id, &both).await, [(id.clone(), 3)]);
    // Cleo has read nothing: "Hallo", the two, and Ben's reply; not her own note.
    assert_eq!(unread(&s, cleo.id, &both).await, [(id.clone(), 4)]);
    // A marker moves forward only.
    assert_eq!(later.messages.len(), 4);
    s.inbox().mark_read(ben.id, &id, None).await.expect("read");
    s.inbox()
        .mark_read(ben.id, &id, Some(created.messages[0].id))
        .await
        .expect("older");
    assert!(unread(&s, ben.id, &both).await.is_empty());
    assert!(unread(&s, ben.id, &[]).await.is_empty());
}

pub(super) async fn search_finds_words_within_what_an_agent_may_see(s: Arc<dyn Store>) {
    let ben = s
        .create_agent(agent("ben@x.org", 5, &[]))
        .await
        .expect("ben");
    let cleo = s
        .create_agent(agent("cleo@x.org", 5, &[]))
        .await
        .expect("cleo");
    s.set_presence(ben.id, Presence::Online)
        .await
        .expect("online");
    // Ben gets the first (the only one online), then the second waits in the queue.
    for id in ["c_1bens", "c_2queued"] {
        let mut new = new_conversation(id);
        new.messages = vec![NewMessage::customer("Meine Rechnung 100% falsch")];
        new.change = Some(handoff(vec![Reason::HumanRequested]));
        s.create_conversation(new).await.expect("create");
        // Newest first is by creation time: keep the three apart.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        if id == "c_1bens" {
            s.assign_queued(&Rules::default(), now_ms())
                .await
                .expect("assign");
            s.set_presence(ben.id, Presence::Offline)
                .await
                .expect("off");
        }
    }
    // With the bot: only admins see it.
    let mut bot = new_conversation("c_3bot");
    bot.messages = vec![NewMessage::customer("rechnung bitte")];
    bot.customer.email = Some("kim@example.org".into());
    s.create_conversation(bot).await.expect("create");
    let find = |text: &str, scope: Scope| Find {
        text: Some(text.into()),
        scope,
        state: None,
        limit: 10,
    };
    let all = s
        .inbox()
        .find(find("RECHNUNG", Scope::All))
        .await
        .expect("all");
    assert_eq!(
        ids(&all),
        ["c_3bot", "c_2queued", "c_1bens"],
        "newest first, any case"
    );
    let bens = s
        .inbox()
        .find(find("rechnung", Scope::VisibleTo(ben.id)))
        .await
        .expect("ben");
    assert_eq!(ids(&bens), ["c_2queued", "c_1bens"]);
    let cleos = s
        .inbox()
        .find(find("rechnung", Scope::VisibleTo(cleo.id)))
        .await
        .expect("cleo");
    assert_eq!(ids(&cleos), ["c_2queued"], "not Ben's");
    // Name and e-mail match too; wildcards are taken as written.
    let by_mail = s
        .inbox()
        .find(find("kim@example", Scope::All))
        .await
        .expect("mail");
    assert_eq!(ids(&by_mail), ["c_3bot"]);
    let percent = s.inbox().find(find("100%", Scope::All)).await.expect("%");
    assert_eq!(percent.len(), 2);
    assert!(s
        .inbox()
        .find(find("1_0", Scope::All))
        .await
        .expect("_")
        .is_empty());
    // Ben resolves his: it is found among his resolved ones, and by nobody else's.
    s.append(
        &ConversationId::parse("c_1bens").expect("id"),
        &[ConversationState::Assigned],
        vec![],
        Some(Change::Resolve { by: Some(ben.id) }),
    )
    .await
    .expect("resolve");
    let resolved = |scope| Find {
        text: None,
        scope,
        state: Some(ConversationState::Resolved),
        limit: 10,
    };
    let bens = s
        .inbox()
        .find(resolved(Scope::VisibleTo(ben.id)))
        .await
        .expect("ben");
    assert_eq!(ids(&bens), ["c_1bens"]);
    assert!(s
        .inbox()
        .find(resolved(Scope::VisibleTo(cleo.id)))
        .await
        .expect("cleo")
        .is_empty());
    let limited = s
        .inbox()
        .find(Find {
            limit: 1,
            ..find("rechnung", Scope::All)
        })
        .await
        .expect("limit");
    assert_eq!(ids(&limited), ["c_3bot"]);
}
