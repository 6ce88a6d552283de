//! Temporary experiment knobs (env vars); removed before release.
pub fn get(name: &str, default: f32) -> f32 {
    std::env::var(format!("KNOB_{name}")).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
