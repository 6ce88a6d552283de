//! `tandem bench mail`: e-mail throughput of a desk in this process (demo playbook, no encoder,
//! a temporary SQLite database).
//!
//! 1. In: `--mails` mails from distinct senders, `--concurrency` SMTP connections at once, into
//!    the desk's inbound listener. Each is parsed, triaged and stored (a new conversation, the
//!    bot's reply queued in the outbox) before the listener says 250.
//! 2. Out: a second desk on the same database, now with `--smtp-url`, sends the queued replies;
//!    timed until the outbox is empty. Run a sink first, e.g.
//!    `python scripts/mail_sink.py --port 2525 --dir /tmp/sink` (target/mail-venv has aiosmtpd).

use std::sync::Arc;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use playbook::Playbook;
use server::mail::MailSettings;
use server::{Application, Settings};

#[derive(clap::Args, Debug)]
pub struct MailBenchArgs {
    /// Where the replies go (an SMTP server that takes everything). Without it, only mails in
    /// are measured.
    #[arg(long)]
    pub smtp_url: Option<String>,
    /// Mails to take in (and answers to send).
    #[arg(long, default_value_t = 2000)]
    pub mails: usize,
    /// SMTP connections at once into the listener.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
}

pub fn run(args: MailBenchArgs) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(args))
}

fn settings(mail: MailSettings) -> Settings {
    Settings {
        mail,
        ..Settings::local(Playbook::demo())
    }
}

const QUESTIONS: &[&str] = &[
    "Wo ist meine Bestellung?",
    "Wie kann ich etwas zurückschicken?",
    "Welche Zahlungsarten gibt es?",
    "How long does delivery take?",
    "Ich möchte mich beschweren, das Paket ist kaputt.",
];

async fn bench(args: MailBenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let inbound = MailSettings {
        from: Some("Bench <service@bench.example>".into()),
        inbound_smtp_bind: Some(format!("127.0.0.1:{port}")),
        per_sender_per_hour: u32::MAX,
        ..MailSettings::default()
    };
    let store = super::serve::open_store(None, dir.path()).await?;
    let app = Application::build(settings(inbound), store).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    eprintln!(
        "mail in: {} mails over {} SMTP connections …",
        args.mails, args.concurrency
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let next = next.clone();
        let total = args.mails;
        workers.push(tokio::spawn(async move {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
                .port(port)
                .build();
            let mut refused = 0usize;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return refused;
                }
                let from = format!("kunde{i}@bench.example");
                let raw = format!(
                    "From: {from}\r\nTo: service@bench.example\r\nSubject: Frage {i}\r\nMessage-ID: <bench{i}@bench.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
                    QUESTIONS[i % QUESTIONS.len()]
                );
                let envelope = Envelope::new(
                    from.parse().ok(),
                    vec!["service@bench.example".parse().expect("address")],
                )
                .expect("envelope");
                if transport.send_raw(&envelope, raw.as_bytes()).await.is_err() {
                    refused += 1;
                }
            }
        }));
    }
    let mut refused = 0;
    for w in workers {
        refused += w.await?;
    }
    let took = started.elapsed();
    println!(
        "mail in:  {} mails in {:.2} s = {:.0} mails/s (each parsed, triaged, stored; {refused} refused)",
        args.mails,
        took.as_secs_f64(),
        args.mails as f64 / took.as_secs_f64()
    );
    let _ = stop.send(());
    served.await??;
    let Some(smtp_url) = args.smtp_url else {
        print_memory();
        return Ok(());
    };
    let outbound = MailSettings {
        from: Some("Bench <service@bench.example>".into()),
        smtp_url: Some(smtp_url),
        ..MailSettings::default()
    };
    let store = super::serve::open_store(None, dir.path()).await?;
    let queued = queued_or_sending(store.as_ref()).await?;
    let app = Application::build(settings(outbound), store.clone()).await?;
    eprintln!("mail out: {queued} replies waiting in the outbox …");
    let started = Instant::now();
    tokio::spawn(app.run());
    loop {
        let left = queued_or_sending(store.as_ref()).await?;
        if left == 0 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "the outbox did not empty in 10 minutes ({left} left)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    let counts = store.mailbox().outbox_counts().await?;
    println!(
        "mail out: {queued} mails in {:.2} s = {:.0} mails/s through the outbox ({counts:?})",
        took.as_secs_f64(),
        queued as f64 / took.as_secs_f64()
    );
    print_memory();
    Ok(())
}

async fn queued_or_sending(store: &dyn store::Store) -> anyhow::Result<u64> {
    Ok(store
        .mailbox()
        .outbox_counts()
        .await?
        .into_iter()
        .filter(|(s, _)| matches!(s, desk::MailState::Queued | desk::MailState::Sending))
        .map(|(_, n)| n)
        .sum())
}

fn print_memory() {
    let (rss, peak) = super::bench_encoder::memory_mb();
    println!(
        "memory:   RSS {:.0} MB, peak {:.0} MB (this process: the desk with mail on, and the bench's clients)",
        rss.unwrap_or(0.0),
        peak.unwrap_or(0.0)
    );
}
