//! Opportunistic batching for a server: the texts of callers who arrive while a forward pass is
//! running share the next one. One worker thread owns the passes; a lone caller is embedded at
//! once (no waiting for company), so latency at low load is unchanged, while under load one
//! pass of 16 short messages costs about what 3 single ones do (`tandem bench encoder
//! --concurrency`), and the two cores are not split between competing passes.
//!
//! With a latency budget ([`Batcher::with_budget`], as `tandem serve` runs it) the queue is
//! bounded and a request that would wait longer than the budget for its vectors is refused at
//! once with an [`EmbedError`] — the cascade then keeps the fast path's decision — and counted
//! ([`Batcher::skipped`]). The wait is estimated when the request arrives: what is left of the
//! pass that runs, the passes the texts queued ahead need, and its own pass, each priced by a
//! moving model of what a pass of n texts took lately ([`PassCost`]). Joining a pass makes it
//! longer for everyone in it, so the wait of the earliest request already waiting for that pass
//! counts too: admitting a newcomer never pushes an earlier request over the budget.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use crate::embedding::{EmbedError, Embedder};

/// Texts one pass takes from the queue at most (a larger single call still goes in one piece).
const MAX_JOINED: usize = 32;

/// `tandem serve`'s default latency budget (`--encoder-budget-ms`).
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(150);

/// Texts that may wait with a budget, by default: four full passes.
pub const DEFAULT_MAX_QUEUED: usize = 4 * MAX_JOINED;

/// How long a request may wait, and how many texts may queue, before the encoder refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The longest a request may expect to wait for its vectors: what is left of the running
    /// pass, the passes for the texts queued ahead of it, and its own pass — nor may it make
    /// a request already waiting for that pass wait longer. A request that finds the worker idle
    /// always goes.
    pub max_wait: Duration,
    /// Texts waiting for a pass at most (the running pass not counted); beyond, requests are
    /// refused whatever the estimate says.
    pub max_queued: usize,
}

impl Budget {
    /// `max_wait`, with the default bound on the queue.
    pub fn new(max_wait: Duration) -> Budget {
        Budget {
            max_wait,
            max_queued: DEFAULT_MAX_QUEUED,
        }
    }
}

type Reply = Result<Vec<Vec<f32>>, String>;

struct Job {
    texts: Vec<String>,
    reply: SyncSender<Reply>,
}

/// The worker's load, shared by the callers (admission) and the worker (bookkeeping).
#[derive(Default)]
struct Load {
    /// The jobs sent and not yet taken into a pass, in order: when each arrived, its texts.
    waiting: VecDeque<(Instant, usize)>,
    /// Their texts.
    queued: usize,
    /// The running pass: when it started and how many texts it has.
    pass: Option<(Instant, usize)>,
    cost: PassCost,
}

/// An [`Embedder`] whose concurrent calls are batched by one worker thread. Dropping it stops
/// the worker once the queue is drained.
pub struct Batcher {
    queue: Sender<Job>,
    load: Arc<Mutex<Load>>,
    budget: Option<Budget>,
    skipped: AtomicU64,
    dim: usize,
}

impl Batcher {
    /// Put `encoder` behind a worker thread named `tandem-encoder`. Every request waits its
    /// turn, however long the queue (for batch work and benchmarks; a server wants
    /// [`Batcher::with_budget`]).
    pub fn new(encoder: Arc<dyn Embedder>) -> std::io::Result<Batcher> {
        Self::start(encoder, None)
    }

    /// As [`Batcher::new`], refusing at once a request that would wait longer than `budget`
    /// allows (counted in [`Batcher::skipped`]).
    pub fn with_budget(encoder: Arc<dyn Embedder>, budget: Budget) -> std::io::Result<Batcher> {
        Self::start(encoder, Some(budget))
    }

    fn start(encoder: Arc<dyn Embedder>, budget: Option<Budget>) -> std::io::Result<Batcher> {
        let dim = encoder.dim();
        let (queue, jobs) = mpsc::channel::<Job>();
        let load = Arc::new(Mutex::new(Load::default()));
        let worker_load = load.clone();
        thread::Builder::new()
            .name("tandem-encoder".into())
            .spawn(move || work(encoder.as_ref(), &jobs, &worker_load))?;
        Ok(Batcher {
            queue,
            load,
            budget,
            skipped: AtomicU64::new(0),
            dim,
        })
    }

    /// Requests refused for the budget since the start (`tandem_encoder_skipped_total`).
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// The budget, if requests are refused at all.
    pub fn budget(&self) -> Option<Budget> {
        self.budget
    }

    fn refuse(&self, why: String) -> EmbedError {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        EmbedError(why)
    }
}

/// The counters are plain numbers: a panic elsewhere cannot leave them inconsistent.
fn lock(load: &Mutex<Load>) -> MutexGuard<'_, Load> {
    load.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Take the first waiting job, then whatever else is already queued (up to [`MAX_JOINED`]
/// texts), embed them in one call and hand each caller its vectors.
fn work(encoder: &dyn Embedder, jobs: &Receiver<Job>, load: &Mutex<Load>) {
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
        let started = Instant::now();
        {
            let mut load = lock(load);
            // The batch is the oldest jobs, in the order they were sent.
            for _ in 0..batch.len() {
                load.waiting.pop_front();
            }
            load.queued = load.queued.saturating_sub(all.len());
            load.pass = Some((started, all.len()));
        }
        let result = encoder.embed(&all);
        {
            let mut load = lock(load);
            load.pass = None;
            load.cost.observe(all.len(), started.elapsed());
        }
        match result {
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

impl Load {
    /// How long a request of `k` texts sent now would wait for its vectors, and when the
    /// earliest request waiting for the same pass arrived (`now` if none). Nothing to wait for
    /// if the worker is idle (it goes at once); else what is left of the running pass, the
    /// passes for the jobs queued ahead — packed as the worker packs them: in order, up to
    /// [`MAX_JOINED`] texts, a larger job alone — and the pass it joins.
    fn expected_wait(&self, k: usize, now: Instant) -> (Duration, Instant) {
        if self.pass.is_none() && self.waiting.is_empty() {
            return (Duration::ZERO, now);
        }
        let mut wait = self.pass.map_or(Duration::ZERO, |(started, n)| {
            self.cost
                .predict(n)
                .saturating_sub(now.saturating_duration_since(started))
        });
        let mut texts = 0;
        let mut first = now;
        for &(arrived, n) in &self.waiting {
            if texts > 0 && texts + n > MAX_JOINED {
                wait += self.cost.predict(texts);
                texts = 0;
            }
            if texts == 0 {
                first = arrived;
            }
            texts += n;
        }
        if texts > 0 && texts + k > MAX_JOINED {
            wait += self.cost.predict(texts);
            texts = 0;
            first = now;
        }
        (wait + self.cost.predict(texts + k), first)
    }
}

/// A moving model of a forward pass's time, `t ≈ a + b·n` for a pass of `n` texts: least
/// squares over the passes run so far, each pass's weight shrinking by [`PassCost::DECAY`] with
/// every later one (so the last dozen or so count). While every recent pass had about the same
/// size, the time is taken as proportional to the texts (which overestimates larger passes: the
/// budget errs towards refusing). Before the first pass it predicts nothing (zero).
#[derive(Debug, Default, Clone, Copy)]
pub struct PassCost {
    w: f64,
    n: f64,
    t: f64,
    nn: f64,
    nt: f64,
}

impl PassCost {
    /// The weight a pass keeps for each later pass.
    pub const DECAY: f64 = 0.9;
    /// Below this variance of the recent passes' sizes (texts²), no slope is fitted.
    const MIN_VARIANCE: f64 = 0.5;

    /// Learn from one pass of `n` texts that took `took`.
    pub fn observe(&mut self, n: usize, took: Duration) {
        let (n, t) = (n as f64, took.as_secs_f64());
        let d = Self::DECAY;
        self.w = self.w * d + 1.0;
        self.n = self.n * d + n;
        self.t = self.t * d + t;
        self.nn = self.nn * d + n * n;
        self.nt = self.nt * d + n * t;
    }

    /// The expected time of a pass of `n` texts.
    pub fn predict(&self, n: usize) -> Duration {
        if self.w <= 0.0 {
            return Duration::ZERO;
        }
        let (mean_n, mean_t) = (self.n / self.w, self.t / self.w);
        let variance = self.nn / self.w - mean_n * mean_n;
        let n = n as f64;
        let secs = if variance > Self::MIN_VARIANCE {
            let slope = ((self.nt / self.w - mean_n * mean_t) / variance).max(0.0);
            (mean_t - slope * mean_n).max(0.0) + slope * n
        } else {
            mean_t / mean_n.max(1.0) * n
        };
        if secs.is_finite() && secs > 0.0 {
            Duration::from_secs_f64(secs.min(3600.0))
        } else {
            Duration::ZERO
        }
    }
}

impl Embedder for Batcher {
    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.send(texts, self.budget)
    }
}

/// The batcher without its latency budget: for a training, which must get every vector however
/// busy the encoder is with customers' messages (they keep their budget, and go first in no
/// particular order: the queue is shared).
pub struct Patient(pub Arc<Batcher>);

impl Embedder for Patient {
    fn dim(&self) -> usize {
        self.0.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.0.send(texts, None)
    }
}

impl Batcher {
    /// Queues `texts` for the worker and waits for their vectors; with a `budget`, refuses them
    /// when they would wait longer than it allows.
    fn send(&self, texts: &[&str], budget: Option<Budget>) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let k = texts.len();
        let (reply, answer) = mpsc::sync_channel(1);
        let job = Job {
            texts: texts.iter().map(|t| (*t).to_owned()).collect(),
            reply,
        };
        {
            // Admission and sending under one lock: concurrent callers see each other's texts.
            let mut load = lock(&self.load);
            if let Some(budget) = budget {
                if load.queued > 0 && load.queued + k > budget.max_queued {
                    return Err(self.refuse(format!(
                        "the encoder's queue is full ({} texts waiting)",
                        load.queued
                    )));
                }
                let now = Instant::now();
                let (wait, first) = load.expected_wait(k, now);
                // Everyone in a pass gets their vectors when it ends.
                let longest = wait + now.saturating_duration_since(first);
                if longest > budget.max_wait {
                    return Err(self.refuse(format!(
                        "the encoder is busy: about {} ms to wait, over the budget of {} ms",
                        longest.as_millis(),
                        budget.max_wait.as_millis()
                    )));
                }
            }
            if self.queue.send(job).is_err() {
                return Err(EmbedError("the encoder worker has stopped".into()));
            }
            load.queued += k;
            load.waiting.push_back((Instant::now(), k));
        }
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
        pass: Duration,
    }

    impl Embedder for Slow {
        fn dim(&self) -> usize {
            2
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.texts.fetch_add(texts.len(), Ordering::SeqCst);
            thread::sleep(self.pass);
            if texts.contains(&"fail") {
                return Err(EmbedError("broken text".into()));
            }
            Ok(texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
        }
    }

    fn slow() -> Arc<Slow> {
        slow_by(Duration::from_millis(30))
    }

    fn slow_by(pass: Duration) -> Arc<Slow> {
        Arc::new(Slow {
            calls: AtomicUsize::new(0),
            texts: AtomicUsize::new(0),
            pass,
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

    /// `callers` threads, released at once, each embedding one text of its own; their results.
    fn burst(batcher: &Arc<Batcher>, callers: usize) -> Vec<Result<Vec<Vec<f32>>, EmbedError>> {
        let start = Arc::new(Barrier::new(callers));
        let handles: Vec<_> = (0..callers)
            .map(|i| {
                let batcher = batcher.clone();
                let start = start.clone();
                thread::spawn(move || {
                    let text = "b".repeat(i + 1);
                    start.wait();
                    (i, batcher.embed(&[text.as_str()]))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                let (i, got) = h.join().expect("caller");
                if let Ok(v) = &got {
                    assert_eq!(v, &vec![vec![(i + 1) as f32, 1.0]], "caller {i}");
                }
                got
            })
            .collect()
    }

    #[test]
    fn requests_beyond_the_budget_are_refused_counted_and_the_worker_goes_on() {
        // Passes of 60 ms and a budget of 80 ms: a request that finds a pass running must wait
        // for the rest of it and then for its own, over 80 ms unless the pass is nearly done.
        let inner = slow_by(Duration::from_millis(60));
        let budget = Budget::new(Duration::from_millis(80));
        let batcher = Arc::new(Batcher::with_budget(inner.clone(), budget).expect("worker"));
        assert_eq!(batcher.budget(), Some(budget));
        // An idle worker takes anything; this pass also teaches it what a pass costs.
        assert_eq!(batcher.embed(&["abc"]).expect("idle"), vec![vec![3.0, 1.0]]);
        assert_eq!(batcher.skipped(), 0);

        let callers = 16;
        let results = burst(&batcher, callers);
        let refused: Vec<&EmbedError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        let served = callers - refused.len();
        assert!(!refused.is_empty(), "nobody was refused");
        assert!(
            served >= 1,
            "the first caller of a burst finds the worker idle"
        );
        for e in &refused {
            assert!(e.0.contains("budget of 80 ms"), "{}", e.0);
        }
        assert_eq!(batcher.skipped(), refused.len() as u64);
        // Only what was admitted reached the encoder.
        assert_eq!(inner.texts.load(Ordering::SeqCst), 1 + served);

        // The worker carries on: a lone request afterwards is served, and not counted.
        assert_eq!(
            batcher.embed(&["after"]).expect("after"),
            vec![vec![5.0, 1.0]]
        );
        assert_eq!(batcher.skipped(), refused.len() as u64);

        // A training waits for its vectors however busy the encoder is.
        let patient = Patient(batcher.clone());
        let training = std::thread::spawn(move || patient.embed(&["abcd"; 40]));
        let results = burst(&batcher, callers);
        assert!(
            results.iter().any(Result::is_err),
            "customers keep their budget"
        );
        let vectors = training.join().expect("thread").expect("never refused");
        assert_eq!(vectors.len(), 40);
    }

    #[test]
    fn the_queue_is_bounded_even_before_the_cost_is_known() {
        // No pass has run, so no wait can be estimated: only the bound on the queue refuses.
        let inner = slow_by(Duration::from_millis(300));
        let budget = Budget {
            max_wait: Duration::from_secs(60),
            max_queued: 4,
        };
        let batcher = Arc::new(Batcher::with_budget(inner.clone(), budget).expect("worker"));
        let first = {
            let batcher = batcher.clone();
            thread::spawn(move || batcher.embed(&["first"]))
        };
        // Wait until the worker runs that pass, then send more than the queue holds.
        let deadline = Instant::now() + Duration::from_secs(5);
        while lock(&batcher.load).pass.is_none() {
            assert!(Instant::now() < deadline, "the worker never started");
            thread::sleep(Duration::from_millis(1));
        }
        let results = burst(&batcher, 10);
        let refused: Vec<&EmbedError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(refused.len(), 10 - 4, "{refused:?}");
        assert!(
            refused.iter().all(|e| e.0.contains("queue is full")),
            "{refused:?}"
        );
        assert_eq!(batcher.skipped(), 6);
        assert!(first.join().expect("first").is_ok());
        assert_eq!(inner.texts.load(Ordering::SeqCst), 1 + 4);
    }

    #[test]
    fn a_batcher_without_budget_refuses_nothing() {
        let inner = slow_by(Duration::from_millis(40));
        let batcher = Arc::new(Batcher::new(inner).expect("worker"));
        batcher.embed(&["warm"]).expect("warm");
        let results = burst(&batcher, 40);
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(batcher.skipped(), 0);
        assert_eq!(batcher.budget(), None);
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_pass_cost_follows_recent_passes() {
        let mut cost = PassCost::default();
        assert_eq!(cost.predict(8), Duration::ZERO, "nothing known yet");
        // Passes of one size only: proportional to the texts.
        for _ in 0..5 {
            cost.observe(2, ms(40));
        }
        let near = |got: Duration, want: Duration| {
            let (g, w) = (got.as_secs_f64(), want.as_secs_f64());
            assert!((g - w).abs() < 0.002, "{got:?} instead of about {want:?}");
        };
        near(cost.predict(4), ms(80));
        // Passes of several sizes on t = 20 ms + 5 ms·n: the line is found.
        for _ in 0..40 {
            for n in [1usize, 8, 32, 4] {
                cost.observe(n, ms(20 + 5 * n as u64));
            }
        }
        near(cost.predict(1), ms(25));
        near(cost.predict(16), ms(100));
        near(cost.predict(32), ms(180));
        // Older passes fade: the machine got twice as slow.
        for _ in 0..80 {
            for n in [1usize, 8, 32, 4] {
                cost.observe(n, ms(40 + 10 * n as u64));
            }
        }
        near(cost.predict(16), ms(200));
    }

    #[test]
    fn the_wait_counts_the_running_pass_the_passes_ahead_and_its_own() {
        let mut cost = PassCost::default();
        for _ in 0..40 {
            for n in [1usize, 8, 32, 4] {
                cost.observe(n, ms(20 + 5 * n as u64));
            }
        }
        let now = Instant::now();
        let mut load = Load {
            cost,
            ..Load::default()
        };
        let queue = |load: &mut Load, jobs: &[(u64, usize)]| {
            load.waiting = jobs.iter().map(|&(ago, n)| (now - ms(ago), n)).collect();
            load.queued = jobs.iter().map(|j| j.1).sum();
        };
        assert_eq!(
            load.expected_wait(1, now),
            (Duration::ZERO, now),
            "idle: at once"
        );
        let near = |(got, first): (Duration, Instant), want: u64, first_ago: u64| {
            let g = got.as_secs_f64() * 1e3;
            assert!(
                (g - want as f64).abs() < 2.0,
                "{got:?} instead of about {want} ms"
            );
            assert_eq!(first, now - ms(first_ago), "the first in its pass");
        };
        // A pass of 32 (180 ms) that started 100 ms ago: 80 ms left, then its own pass of 1.
        load.pass = Some((now - ms(100), 32));
        near(load.expected_wait(1, now), 80 + 25, 0);
        // 10 texts queued in two jobs: it joins their pass (11 texts: 75 ms), whose first
        // request has waited 40 ms already.
        queue(&mut load, &[(40, 4), (10, 6)]);
        near(load.expected_wait(1, now), 80 + 75, 40);
        // 40 queued: a full pass of 32 goes first, then 8 + 1.
        queue(&mut load, &[(90, 16), (80, 16), (30, 8)]);
        near(load.expected_wait(1, now), 80 + 180 + 65, 30);
        // A job that does not fit the pass being filled starts the next one (as the worker
        // holds it back), and so does the newcomer's when it does not fit.
        queue(&mut load, &[(90, 30), (80, 5)]);
        near(load.expected_wait(1, now), 80 + 170 + 50, 80);
        near(load.expected_wait(30, now), 80 + 170 + 45 + 170, 0);
        // A pass that overran its estimate counts as about to end.
        load.pass = Some((now - ms(500), 32));
        queue(&mut load, &[]);
        near(load.expected_wait(2, now), 30, 0);
    }

    #[test]
    fn a_newcomer_may_not_push_an_earlier_request_over_the_budget() {
        // Passes cost 20 ms + 5 ms a text; a request waiting for the next pass has waited 100
        // ms. Joining it makes that pass end in 30 ms: 130 ms for the first, over 120.
        let mut cost = PassCost::default();
        for _ in 0..40 {
            for n in [1usize, 8, 32, 4] {
                cost.observe(n, ms(20 + 5 * n as u64));
            }
        }
        let now = Instant::now();
        let load = Load {
            cost,
            waiting: [(now - ms(100), 1)].into_iter().collect(),
            queued: 1,
            pass: None,
        };
        let (wait, first) = load.expected_wait(1, now);
        let longest = wait + now.saturating_duration_since(first);
        assert!(longest > ms(120) && longest < ms(140), "{longest:?}");
    }
}
