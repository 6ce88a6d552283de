//! The desk's own words to customers (German and English), apart from the playbook's answers.

fn de(locale: &str) -> bool {
    locale.starts_with("de")
}

pub fn clarify(locale: &str) -> &'static str {
    if de(locale) {
        "Ich bin nicht sicher, ob ich Sie richtig verstanden habe. Können Sie Ihr Anliegen etwas genauer beschreiben?"
    } else {
        "I'm not sure I understood you correctly. Could you describe what you need in a bit more detail?"
    }
}

pub fn handoff(locale: &str) -> &'static str {
    if de(locale) {
        "Ich verbinde Sie mit einer Kollegin oder einem Kollegen. Ihr bisheriger Verlauf wird übergeben – Sie müssen nichts wiederholen."
    } else {
        "I'm passing you on to a colleague. They will see everything you've written so far – no need to repeat yourself."
    }
}

pub fn assigned(locale: &str, agent_name: &str) -> String {
    if de(locale) {
        format!("{agent_name} hat das Gespräch übernommen.")
    } else {
        format!("{agent_name} has joined the conversation.")
    }
}

pub fn handed_back(locale: &str) -> &'static str {
    if de(locale) {
        "Sie sprechen wieder mit dem Assistenten. Schreiben Sie einfach, wenn Sie noch Fragen haben."
    } else {
        "You're back with the assistant. Just write if you have more questions."
    }
}

pub fn resolved(locale: &str) -> &'static str {
    if de(locale) {
        "Das Gespräch wurde abgeschlossen. Wie zufrieden waren Sie?"
    } else {
        "This conversation has been resolved. How satisfied were you?"
    }
}

/// An answer made from a knowledge-base article: its title and the start of its body.
pub fn article(locale: &str, title: &str, body: &str) -> String {
    let mut excerpt: String = body.chars().take(600).collect();
    if excerpt.len() < body.len() {
        excerpt.push('…');
    }
    if de(locale) {
        format!("Dazu habe ich den Artikel „{title}“ gefunden:\n\n{excerpt}")
    } else {
        format!("I found the article “{title}”:\n\n{excerpt}")
    }
}
