//! Opportunistic batching for a server: the texts of callers who arrive while a forward pass is
//! running share the next one. One worker thread owns the passes; a lone caller is embedded at
//! once (no waiting for company), so latency at low load is unchanged, while under load one
//! pass of 16 short messages costs about what 3 single ones do (`tandem bench encoder
//! --concurrency`), and the two cores are not split between competing passes.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;

use crate::embedding::{EmbedError, Embedder};

/// Texts one pass takes from the queue at most (a larger single call still goes in one piece).
const MAX_JOINED: usize = 32;

type Reply = Result<Vec<Vec<f32>>, String>;

struct Job {
    texts: Vec<String>,
    reply: SyncSender<Reply>,
}

/// An [`Embedder`] whose concurrent calls are batched by one worker thread. Dropping it stops
/// the worker once the queue is drained.
pub struct Batcher {
    queue: Mutex<Sender<Job>>,
    dim: usize,
}

impl Batcher {
    /// Put `encoder` behind a worker thread named `tandem-encoder`.
    pub fn new(encoder: Arc<dyn Embedder>) -> std::io::Result<Batcher> {
        let dim = encoder.dim();
        let (queue, jobs) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("tandem-encoder".into())
            .spawn(move || work(encoder.as_ref(), &jobs))?;
        Ok(Batcher {
            queue: Mutex::new(queue),
            dim,
        })
    }
}

/// Take the first waiting job, then whatever else is already queued (up to [`MAX_JOINED`]
/// texts), embed them in one call and hand each caller its vectors.
fn work(encoder: &dyn Embedder, jobs: &Receiver<Job>) {
    let mut held: Option<Job> = None;
    loop {
        let first = match held.take() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        let mut texts = first.texts.len();
        let mut batch = vec![first];
        while texts < MAX_JOINED {
            match jobs.try_recv() {
                Ok(job) if texts + job.texts.len() <= MAX_JOINED => {
                    texts += job.texts.len();
                    batch.push(job);
                }
                Ok(job) => {
                    held = Some(job);
                    break;
                }
                Err(_) => break,
            }
        }
        let all: Vec<&str> = batch
            .iter()
            .flat_map(|j| j.texts.iter().map(String::as_str))
            .collect();
        match encoder.embed(&all) {
            Ok(vectors) if vectors.len() == all.len() => {
                let mut vectors = vectors.into_iter();
                for job in batch {
                    let mine: Vec<Vec<f32>> = vectors.by_ref().take(job.texts.len()).collect();
                    // A caller that gave up is no reason to stop.
                    let _ = job.reply.send(Ok(mine));
                }
            }
            result => {
                let e = match result {
                    Err(e) => e.0,
                    Ok(v) => format!("{} vectors for {} texts", v.len(), all.len()),
                };
                for job in batch {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

impl Embedder for Batcher {
    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = mpsc::sync_channel(1);
        let job = Job {
            texts: texts.iter().map(|t| (*t).to_owned()).collect(),
            reply,
        };
        self.queue
            .lock()
            .map_err(|_| EmbedError("the encoder queue is poisoned".into()))?
            .send(job)
            .map_err(|_| EmbedError("the encoder worker has stopped".into()))?;
        answer
            .recv()
            .map_err(|_| EmbedError("the encoder worker has stopped".into()))?
            .map_err(EmbedError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Barrier;
    use std::time::Duration;

    /// Vectors that spell their text's length; every call is counted and takes a while, as a
    /// forward pass does.
    struct Slow {
        calls: AtomicUsize,
        texts: AtomicUsize,
    }

    impl Embedder for Slow {
        fn dim(&self) -> usize {
            2
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.texts.fetch_add(texts.len(), Ordering::SeqCst);
            thread::sleep(Duration::from_millis(30));
            if texts.contains(&"fail") {
                return Err(EmbedError("broken text".into()));
            }
            Ok(texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
        }
    }

    fn slow() -> Arc<Slow> {
        Arc::new(Slow {
            calls: AtomicUsize::new(0),
            texts: AtomicUsize::new(0),
        })
    }

    #[test]
    fn concurrent_callers_share_passes_and_each_gets_its_own_vectors() {
        let inner = slow();
        let batcher = Arc::new(Batcher::new(inner.clone()).expect("worker"));
        let callers = 12;
        let start = Arc::new(Barrier::new(callers));
        let handles: Vec<_> = (0..callers)
            .map(|i| {
                let batcher = batcher.clone();
                let start = start.clone();
                thread::spawn(move || {
                    let texts = ["x".repeat(i + 1), "y".repeat(100 + i)];
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    start.wait();
                    (i, batcher.embed(&refs))
                })
            })
            .collect();
        for h in handles {
            let (i, got) = h.join().expect("caller");
            let got = got.expect("vectors");
            assert_eq!(
                got,
                vec![vec![(i + 1) as f32, 1.0], vec![(100 + i) as f32, 1.0]]
            );
        }
        assert_eq!(inner.texts.load(Ordering::SeqCst), 2 * callers);
        let calls = inner.calls.load(Ordering::SeqCst);
        assert!(
            calls < callers,
            "{calls} passes for {callers} concurrent callers: nothing was batched"
        );
    }

    #[test]
    fn a_lone_caller_and_a_large_call_go_straight_through() {
        let inner = slow();
        let batcher = Batcher::new(inner.clone()).expect("worker");
        assert_eq!(batcher.embed(&["abc"]).expect("one"), vec![vec![3.0, 1.0]]);
        let many: Vec<String> = (0..MAX_JOINED * 2).map(|i| "z".repeat(i + 1)).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let got = batcher.embed(&refs).expect("many");
        assert_eq!(got.len(), refs.len());
        assert_eq!(got[MAX_JOINED][0], (MAX_JOINED + 1) as f32);
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
        assert!(batcher.embed(&[]).expect("none").is_empty());
    }

    #[test]
    fn a_failed_pass_reaches_its_callers_and_the_worker_goes_on() {
        let inner = slow();
        let batcher = Batcher::new(inner).expect("worker");
        let err = batcher.embed(&["fail"]).expect_err("must fail");
        assert!(err.0.contains("broken text"), "{}", err.0);
        assert_eq!(batcher.embed(&["ok"]).expect("after"), vec![vec![2.0, 1.0]]);
    }
}
