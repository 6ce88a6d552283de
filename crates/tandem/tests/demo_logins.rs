//! `tandem serve` prints the demo logins only when those accounts exist: not when a first admin
//! from `TANDEM_ADMIN_EMAIL` was created on the empty database instead of the demo agents.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// Start `tandem serve` (demo playbook) on an empty data dir, wait until it answers an HTTP
/// request (it prints everything before it serves), stop it, and return everything it printed.
fn serve_output(admin: Option<(&str, &str)>) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("TANDEM_LOG", "warn")
        .env("TANDEM_ENCODER", "off")
        .env_remove("TANDEM_ADMIN_EMAIL")
        .env_remove("TANDEM_ADMIN_PASSWORD")
        .env_remove("TANDEM_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some((email, password)) = admin {
        cmd.env("TANDEM_ADMIN_EMAIL", email)
            .env("TANDEM_ADMIN_PASSWORD", password);
    }
    let mut child = cmd.spawn().expect("start tandem");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = String::new();
    let addr = loop {
        let mut line = String::new();
        let n = out.read_line(&mut line).expect("read");
        assert!(n > 0, "tandem exited early: {printed}");
        printed.push_str(&line);
        if let Some(rest) = line.split(" on http://").nth(1) {
            break rest.trim().trim_end_matches('/').to_string();
        }
    };
    // An answer means the desk serves, so every start-up line has been printed.
    let mut conn = TcpStream::connect(&addr).expect("connect");
    conn.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("request");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1."), "{answer}");
    let _ = child.kill();
    let _ = child.wait();
    out.read_to_string(&mut printed).expect("rest of stdout");
    printed
}

#[test]
fn demo_logins_are_printed_only_when_they_exist() {
    let demo = serve_output(None);
    assert!(demo.contains("demo logins:"), "{demo}");
    let with_admin = serve_output(Some(("chefin@example.org", "a-long-admin-passphrase")));
    assert!(
        with_admin.contains("Created the first admin: chefin@example.org"),
        "{with_admin}"
    );
    assert!(!with_admin.contains("demo logins:"), "{with_admin}");
}
