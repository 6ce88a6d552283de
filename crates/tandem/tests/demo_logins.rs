//! `tandem serve`'s start-up through the real binary: it prints the demo logins only when those
//! accounts exist (not when a first admin from `TANDEM_ADMIN_EMAIL` was created on the empty
//! database instead of the demo agents), and its settings come in layers: defaults, the config
//! file (`--config`), `TANDEM_*` variables, flags.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// Start `tandem serve` (demo playbook) on an empty data dir, wait until it answers an HTTP
/// request (it prints everything before it serves), stop it, and return everything it printed.
fn serve_output(admin: Option<(&str, &str)>) -> String {
    serve_output_with(|cmd| {
        if let Some((email, password)) = admin {
            cmd.env("TANDEM_ADMIN_EMAIL", email)
                .env("TANDEM_ADMIN_PASSWORD", password);
        }
    })
}

/// [`serve_output`] with the command adjusted by `setup` (after the defaults, so it may
/// override them).
fn serve_output_with(setup: impl FnOnce(&mut Command)) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("TANDEM_LOG", "warn")
        .env("TANDEM_ENCODER", "off")
        .env_remove("TANDEM_ADMIN_EMAIL")
        .env_remove("TANDEM_ADMIN_PASSWORD")
        .env_remove("TANDEM_DATABASE_URL")
        .env_remove("TANDEM_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    setup(&mut cmd);
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

#[test]
fn a_config_file_is_overridden_by_the_environment_and_the_environment_by_flags() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("tandem.toml");
    std::fs::write(
        &file,
        "admin-email = \"file@example.org\"\nadmin_password = \"a-long-file-passphrase\"\n",
    )
    .expect("write the config file");
    let from_file = serve_output_with(|cmd| {
        cmd.arg("--config").arg(&file);
    });
    assert!(
        from_file.contains("Created the first admin: file@example.org"),
        "{from_file}"
    );
    let from_env = serve_output_with(|cmd| {
        cmd.env("TANDEM_CONFIG", &file)
            .env("TANDEM_ADMIN_EMAIL", "env@example.org");
    });
    assert!(
        from_env.contains("Created the first admin: env@example.org"),
        "{from_env}"
    );
    let from_flag = serve_output_with(|cmd| {
        cmd.arg("--config")
            .arg(&file)
            .env("TANDEM_ADMIN_EMAIL", "env@example.org")
            .args(["--admin-email", "flag@example.org"]);
    });
    assert!(
        from_flag.contains("Created the first admin: flag@example.org"),
        "{from_flag}"
    );
}

#[test]
fn an_unknown_setting_in_the_config_file_stops_the_start_and_names_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("tandem.toml");
    std::fs::write(&file, "bnid = \"0.0.0.0:80\"\n").expect("write the config file");
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["serve", "--config"])
        .arg(&file)
        .env("TANDEM_ENCODER", "off")
        .output()
        .expect("run tandem");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown setting \"bnid\""), "{err}");
}
