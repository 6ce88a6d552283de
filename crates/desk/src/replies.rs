//! The desk's own words to customers (German and English), apart from the playbook's answers.

fn de(locale: &str) -> bool {
    locale.starts_with("de")
}

/// The handoff when nobody who could take it is online (for example out of hours): honest, and
/// the conversation stays queued, so the customer can leave their message.
pub fn handoff_nobody_online(locale: &str) -> &'static str {
    if de(locale) {
        "Ich verbinde Sie mit einer Kollegin oder einem Kollegen, sobald jemand erreichbar ist – gerade ist leider niemand da, der Ihnen dabei helfen kann. Schreiben Sie uns gern schon Ihr Anliegen: Ihr bisheriger Verlauf wird übergeben, und wir melden uns."
    } else {
        "I'll pass you on to a colleague as soon as one is available – right now nobody who can help with this is in. Feel free to leave your message: they will see everything you've written so far, and we'll get back to you."
    }
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

/// The assigned person did not answer in time; another one takes over. Said in the transcript,
/// so the first person reads it too.
pub fn moved(locale: &str, from: &str, to: &str) -> String {
    if de(locale) {
        format!("{from} konnte nicht rechtzeitig antworten. {to} hat das Gespräch übernommen.")
    } else {
        format!("{from} could not answer in time. {to} has taken over the conversation.")
    }
}

/// An agent passed the conversation to a colleague.
pub fn transferred(locale: &str, from: &str, to: &str) -> String {
    if de(locale) {
        format!("{from} hat das Gespräch an {to} übergeben.")
    } else {
        format!("{from} has passed the conversation to {to}.")
    }
}

/// An agent passed the conversation on to whoever has a skill.
pub fn transferred_to_skill(locale: &str, from: &str, skill: &str) -> String {
    if de(locale) {
        format!("{from} hat das Gespräch an eine Fachkollegin oder einen Fachkollegen ({skill}) weitergegeben. Bitte haben Sie einen Moment Geduld.")
    } else {
        format!("{from} has passed the conversation on to a colleague who knows {skill}. Please bear with us a moment.")
    }
}

/// The conversation goes back to the queue because its agent is no longer available.
pub fn back_to_queue(locale: &str, from: &str) -> String {
    if de(locale) {
        format!("{from} ist nicht mehr erreichbar. Das Gespräch geht an eine Kollegin oder einen Kollegen; Ihr bisheriger Verlauf bleibt erhalten.")
    } else {
        format!("{from} is no longer available. The conversation goes to a colleague; everything you've written so far stays with it.")
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
