//! The dashboard's figure tiles: the figures a manager reads first, each beside its change
//! against the period of the same length just before.

use maud::{html, Markup};
use store::Summary;

use super::layout::Lang;

/// How a figure moved: the text, and whether that is good news (`None`: neither).
type Change = (String, Option<bool>);

/// One tile: its element id, label, value and change.
type Tile<'a> = (&'a str, &'a str, String, Change);

fn change(
    now: Option<f64>,
    before: Option<f64>,
    unit: Unit,
    higher_is_better: Option<bool>,
) -> Change {
    let (Some(now), Some(before)) = (now, before) else {
        return ("–".into(), None);
    };
    let d = now - before;
    let text = match unit {
        Unit::Count => format!("{:+}", d.round() as i64),
        Unit::Points => format!("{:+.1} pp", d * 100.0),
        Unit::Seconds => format!("{d:+.0} s"),
        Unit::Score => format!("{d:+.2}"),
    };
    let good = higher_is_better
        .filter(|_| d.abs() > f64::EPSILON)
        .map(|h| (d > 0.0) == h);
    (text, good)
}

#[derive(Clone, Copy)]
enum Unit {
    Count,
    Points,
    Seconds,
    Score,
}

fn pct(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

pub(super) fn tiles(lang: Lang, now: &Summary, before: &Summary, queue_now: usize) -> Markup {
    let conv = |s: &Summary| Some(s.conversations as f64);
    let rate = |s: &Summary, f: fn(&Summary) -> f64| (s.conversations > 0).then(|| f(s));
    let tiles: Vec<Tile> = vec![
        (
            "f-conversations",
            lang.t("Gespräche", "Conversations"),
            now.conversations.to_string(),
            change(conv(now), conv(before), Unit::Count, None),
        ),
        (
            "f-self-service",
            lang.t("Selbst gelöst", "Self-service rate"),
            pct(now.self_service_rate),
            change(
                rate(now, |s| s.self_service_rate),
                rate(before, |s| s.self_service_rate),
                Unit::Points,
                Some(true),
            ),
        ),
        (
            "f-handoff",
            lang.t("Übergeben", "Handoff rate"),
            pct(now.handoff_rate),
            change(
                rate(now, |s| s.handoff_rate),
                rate(before, |s| s.handoff_rate),
                Unit::Points,
                Some(false),
            ),
        ),
        (
            "f-first-response",
            lang.t("Median bis zur ersten Antwort", "Median time to a person"),
            now.first_response_secs
                .median
                .map_or("–".into(), |s| format!("{s:.0} s")),
            change(
                now.first_response_secs.median,
                before.first_response_secs.median,
                Unit::Seconds,
                Some(false),
            ),
        ),
        (
            "f-csat",
            lang.t("Zufriedenheit (CSAT)", "Satisfaction (CSAT)"),
            now.csat
                .average
                .map_or("–".into(), |a| format!("{a:.2} ({})", now.csat.count)),
            change(
                now.csat.average,
                before.csat.average,
                Unit::Score,
                Some(true),
            ),
        ),
        (
            "f-contacts",
            lang.t("Kontakte je Kunde", "Contacts per customer"),
            format!("{:.2}", now.contacts_per_customer),
            change(
                rate(now, |s| s.contacts_per_customer),
                rate(before, |s| s.contacts_per_customer),
                Unit::Score,
                Some(false),
            ),
        ),
    ];
    let versus = lang.t("zum Zeitraum davor", "against the period before");
    html! {
        dl.figures.tiles {
            @for (id, label, value, (delta, good)) in &tiles {
                div.tile {
                    dt { (label) }
                    dd id=(id) { (value) }
                    dd class={"change" @match good { Some(true) => " good", Some(false) => " bad", None => "" }}
                        title=(versus) { (delta) span.sr-only { " " (versus) } }
                }
            }
            div.tile {
                dt { (lang.t("Warteschlange jetzt", "Queue now")) }
                dd #f-queue { (queue_now) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_good_or_bad_news() {
        assert_eq!(
            change(Some(0.5), Some(0.4), Unit::Points, Some(true)),
            ("+10.0 pp".into(), Some(true))
        );
        assert_eq!(
            change(Some(30.0), Some(45.0), Unit::Seconds, Some(false)),
            ("-15 s".into(), Some(true))
        );
        assert_eq!(
            change(Some(4.0), Some(4.0), Unit::Score, Some(true)),
            ("+0.00".into(), None)
        );
        assert_eq!(
            change(None, Some(1.0), Unit::Count, None),
            ("–".into(), None)
        );
    }
}
