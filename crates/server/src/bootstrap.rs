//! First start: the first admin from the environment, and the demo agents in demo mode.

use desk::{Competences, Role};
use store::{NewAgent, Store, StoreError};

use crate::auth;

/// A demo login printed at start and listed in the README.
pub struct DemoLogin {
    pub name: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub role: Role,
    pub skills: &'static [&'static str],
    /// self, people, situational.
    pub competences: (u8, u8, u8),
}

pub const DEMO_LOGINS: &[DemoLogin] = &[
    DemoLogin {
        name: "Anna Admin",
        email: "admin@demo.tandem",
        password: "tandem-demo-admin",
        role: Role::Admin,
        skills: &[],
        competences: (4, 3, 3),
    },
    DemoLogin {
        name: "Ben Berger",
        email: "ben@demo.tandem",
        password: "tandem-demo-ben",
        role: Role::Agent,
        skills: &["logistics", "billing"],
        // Service: patient with upset customers, fair in complaints.
        competences: (4, 5, 4),
    },
    DemoLogin {
        name: "Clara Chen",
        email: "clara@demo.tandem",
        password: "tandem-demo-clara",
        role: Role::Agent,
        skills: &["sales", "account"],
        // Sales: argues within the customer's values.
        competences: (4, 4, 4),
    },
];

/// Creates the first admin when the store has no agents and both values are given.
pub async fn first_admin(
    store: &dyn Store,
    email: Option<&str>,
    password: Option<&str>,
) -> anyhow::Result<bool> {
    let (Some(email), Some(password)) = (email, password) else {
        return Ok(false);
    };
    if store.count_agents().await? > 0 {
        return Ok(false);
    }
    if let Err(why) = desk::password::check(password) {
        anyhow::bail!("TANDEM_ADMIN_PASSWORD: {why}");
    }
    match store
        .create_agent(NewAgent {
            name: "Admin".into(),
            email: email.trim().into(),
            password_hash: auth::hash_password(password)
                .map_err(|_| anyhow::anyhow!("cannot hash password"))?,
            role: Role::Admin,
            locales: desk::Locale::german_and_english(),
            skills: vec![],
            competences: Competences::default(),
            limits: vec![],
            capacity: 5,
        })
        .await
    {
        Ok(_) => Ok(true),
        // Another node starting at the same time on the same database was first.
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Creates the demo agents when the store has none. Returns whether it did.
pub async fn demo_agents(store: &dyn Store) -> anyhow::Result<bool> {
    if store.count_agents().await? > 0 {
        return Ok(false);
    }
    for d in DEMO_LOGINS {
        let created = store
            .create_agent(NewAgent {
                name: d.name.into(),
                email: d.email.into(),
                password_hash: auth::hash_password(d.password)
                    .map_err(|_| anyhow::anyhow!("cannot hash password"))?,
                role: d.role,
                locales: desk::Locale::german_and_english(),
                skills: d
                    .skills
                    .iter()
                    .map(|s| desk::Skill::trusted(s.to_string()))
                    .collect(),
                competences: Competences {
                    self_: d.competences.0,
                    people: d.competences.1,
                    situational: d.competences.2,
                },
                limits: vec![],
                capacity: 3,
            })
            .await;
        match created {
            // Another node starting at the same time created this one.
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}
