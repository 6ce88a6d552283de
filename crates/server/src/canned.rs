//! Canned responses as the service layer keeps them: who may see and change which, the checks
//! on what comes in, and filling in the variables (`{{customer.name}}`, `{{agent.name}}`).

use desk::{Agent, Locale, Role};
use store::{CannedResponse, NewCanned};

use crate::service::{DeskError, DeskResult};
use crate::state::AppState;

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 100;

/// Checks a new or changed response's fields.
pub fn checked(
    title: &str,
    text: &str,
    locale: Option<&str>,
    owner: Option<desk::AgentId>,
) -> DeskResult<NewCanned> {
    let title =
        desk::text::clean(title).ok_or_else(|| DeskError::invalid("title must not be empty"))?;
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(DeskError::invalid(format!(
            "title must be at most {MAX_TITLE_CHARS} characters"
        )));
    }
    let text = crate::flow::check_text(text)?;
    let locale = locale
        .filter(|l| !l.trim().is_empty())
        .map(|l| Locale::parse(l).map_err(|why| DeskError::invalid(format!("locale {why}"))))
        .transpose()?;
    Ok(NewCanned {
        owner,
        title,
        text,
        locale,
    })
}

/// Who may change a response: its owner, or an admin for a shared one.
pub fn may_change(agent: &Agent, c: &CannedResponse) -> bool {
    match c.owner {
        Some(owner) => owner == agent.id,
        None => agent.role == Role::Admin,
    }
}

/// The response `id` if the agent may see it (shared, or their own); else not found.
pub async fn visible(state: &AppState, agent: &Agent, id: i64) -> DeskResult<CannedResponse> {
    match state.store.canned().canned(id).await? {
        Some(c) if c.owner.is_none() || c.owner == Some(agent.id) => Ok(c),
        _ => Err(DeskError::NotFound),
    }
}

/// Whether a response is for `locale`: one for every locale, or for that one.
pub fn for_locale(c: &CannedResponse, locale: &str) -> bool {
    c.locale.as_ref().is_none_or(|l| l.as_str() == locale)
}

/// The text with its variables filled in (unknown ones stay as written).
pub fn render(text: &str, customer: Option<&str>, agent: &str) -> String {
    text.replace("{{customer.name}}", customer.unwrap_or(""))
        .replace("{{agent.name}}", agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_filled_in() {
        assert_eq!(
            render(
                "Hallo {{customer.name}}, hier ist {{agent.name}}. {{x}}",
                Some("Kim"),
                "Ben"
            ),
            "Hallo Kim, hier ist Ben. {{x}}"
        );
        assert_eq!(render("Hallo {{customer.name}}!", None, "Ben"), "Hallo !");
    }

    #[test]
    fn fields_are_checked() {
        assert!(checked(" ", "x", None, None).is_err());
        assert!(checked(&"t".repeat(101), "x", None, None).is_err());
        assert!(checked("t", " ", None, None).is_err());
        assert!(checked("t", "x", Some("not a locale!"), None).is_err());
        let ok = checked("Gruß", "Hallo", Some("de"), None).expect("valid");
        assert_eq!(ok.locale.map(|l| l.as_str().to_owned()), Some("de".into()));
    }
}
