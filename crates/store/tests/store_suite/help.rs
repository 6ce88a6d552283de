//! The help center's storage: articles, comments, votes, CAPTCHAs, settings.

use super::*;

pub(super) fn article(id: &str, title: &str, published: bool) -> store::NewArticle {
    store::NewArticle {
        id: desk::ArticleId::parse(id).expect("article id"),
        locale: Some(de()),
        title: title.into(),
        body: "Text".into(),
        category: Some("Service".into()),
        published,
    }
}

pub(super) async fn articles_import_keeps_the_published_flag(s: Arc<dyn Store>) {
    s.import_articles(vec![article("a", "A", true), article("b", "B", true)])
        .await
        .expect("import");
    assert_eq!(s.articles(true).await.expect("list").len(), 2);
    let mut hidden = article("b", "B", false);
    hidden.body = "Edited".into();
    s.save_article(hidden).await.expect("unpublish");
    s.save_article(article("draft", "Draft", false))
        .await
        .expect("draft");
    // A restart imports the playbook again: new text, but the admin's unpublish stays.
    s.import_articles(vec![article("a", "A2", true), article("b", "B2", true)])
        .await
        .expect("re-import");
    let public: Vec<String> = s
        .articles(true)
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.id.into_string())
        .collect();
    assert_eq!(public, vec!["a".to_string()]);
    assert_eq!(s.articles(false).await.expect("all").len(), 3);
    let b = s.article("b").await.expect("get").expect("exists");
    assert!(!b.published);
    assert_eq!(b.title, "B2");
    assert_eq!(s.article("a").await.expect("get").expect("a").title, "A2");
    assert!(s.article("nope").await.expect("get").is_none());
}

pub(super) async fn comments_are_moderated(s: Arc<dyn Store>) {
    s.import_articles(vec![article("a", "A", true)])
        .await
        .expect("import");
    let c1 = s.add_comment("a", "Kim", "<b>hi</b>").await.expect("add");
    let c2 = s.add_comment("a", "Lu", "second").await.expect("add");
    assert_eq!(c1.status, store::CommentStatus::Pending);
    assert_eq!(c1.text, "<b>hi</b>");
    assert!(matches!(
        s.add_comment("missing", "Kim", "x").await,
        Err(StoreError::NotFound)
    ));
    let approved = s
        .set_comment_status(c1.id, store::CommentStatus::Approved)
        .await
        .expect("approve");
    assert_eq!(approved.status, store::CommentStatus::Approved);
    s.set_comment_status(c2.id, store::CommentStatus::Rejected)
        .await
        .expect("reject");
    assert!(matches!(
        s.set_comment_status(9999, store::CommentStatus::Approved)
            .await,
        Err(StoreError::NotFound)
    ));
    let public = s
        .comments(Some("a"), Some(store::CommentStatus::Approved))
        .await
        .expect("list");
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].id, c1.id);
    assert!(s
        .comments(None, Some(store::CommentStatus::Pending))
        .await
        .expect("pending")
        .is_empty());
    assert_eq!(s.comments(None, None).await.expect("all").len(), 2);
}

pub(super) async fn votes_are_counted(s: Arc<dyn Store>) {
    s.import_articles(vec![article("a", "A", true)])
        .await
        .expect("import");
    for helpful in [true, true, false] {
        s.vote("a", helpful).await.expect("vote");
    }
    assert_eq!(
        s.helpfulness("a").await.expect("count"),
        store::Helpfulness { yes: 2, no: 1 }
    );
    assert_eq!(
        s.helpfulness("other").await.expect("count"),
        store::Helpfulness::default()
    );
    assert!(matches!(
        s.vote("missing", true).await,
        Err(StoreError::NotFound)
    ));
}

pub(super) async fn captchas_are_used_once(s: Arc<dyn Store>) {
    let later = 4_000_000_000_000;
    assert!(s.use_captcha("k1", later).await.expect("first"));
    assert!(!s.use_captcha("k1", later).await.expect("replay"));
    assert!(s.use_captcha("k2", later).await.expect("other"));
    // Concurrent uses of one key: exactly one wins.
    let tries = (0..8).map(|_| {
        let s = s.clone();
        tokio::spawn(async move { s.use_captcha("k3", later).await.expect("use") })
    });
    let mut wins = 0;
    for t in tries {
        if t.await.expect("join") {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

pub(super) async fn settings_keep_the_first_value(s: Arc<dyn Store>) {
    assert_eq!(
        s.setting_or_init("captcha_secret", "one")
            .await
            .expect("init"),
        "one"
    );
    assert_eq!(
        s.setting_or_init("captcha_secret", "two")
            .await
            .expect("again"),
        "one"
    );
}
