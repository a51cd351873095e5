//! The password hashers: a fixed set of threads that run every argon2id hash and check,
//! with a short queue in front of them.
//!
//! One hash holds 19 MiB while it runs. Run on the blocking pool, a storm of sign-ups or
//! logins runs as many at once as there are requests, on as many threads, and the
//! allocator keeps each thread's 19 MiB after it is done: 64 at once held almost 3 GB.
//! Here at most one hash per thread runs (a thread per core by default, the most the CPU
//! can do anyway), each thread reuses its own memory, and the rest wait in a queue of
//! bounded length. When the queue is full the request is answered at once with 503 and
//! `Retry-After` (`server_busy`) instead of adding to the wait: a caller first takes a
//! `Turn` (before it records anything), then runs its hash with it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};

use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send>;

/// Where sign-ups and logins hash their passwords. Cloning shares the same threads.
#[derive(Clone)]
pub struct Hashers {
    queue: Sender<Job>,
    /// Turns taken and not yet done (running or waiting).
    taken: Arc<AtomicUsize>,
    /// The most turns at once: the threads and the queue.
    capacity: usize,
}

/// A place at the hashers, taken before the request records anything (a login attempt,
/// a sign-up against its address's limit), so that one turned away as busy has cost
/// nothing. Given back when its hash is done, or when dropped unused.
pub struct Turn {
    taken: Arc<AtomicUsize>,
    queue: Sender<Job>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.taken.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hashers {
    /// Starts `threads` hashing threads with room for `queue` hashes waiting for one
    /// (`0`: a hash is taken only when a thread is free). The threads end when the last
    /// handle is dropped.
    pub fn start(threads: usize, queue: usize) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let (sender, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("password-hasher-{n}"))
                .spawn(move || loop {
                    // The lock is held only while waiting for the next job.
                    let next = jobs
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .recv();
                    match next {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })?;
        }
        Ok(Self {
            queue: sender,
            taken: Arc::new(AtomicUsize::new(0)),
            capacity: threads + queue,
        })
    }

    /// A turn at the hashers, or `ApiError::Busy` at once when as many hashes as the
    /// threads and the queue hold are already running or waiting.
    pub fn reserve(&self) -> Result<Turn, ApiError> {
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.capacity).then_some(n + 1)
            })
            .map_err(|_| ApiError::Busy {
                retry_after_secs: 1,
            })?;
        Ok(Turn {
            taken: self.taken.clone(),
            queue: self.queue.clone(),
        })
    }
}

impl Turn {
    /// Runs `work` (a hash or a check) on a hashing thread, in queue order, and gives
    /// its result; the turn is given back when `work` is done.
    pub async fn run<T, F>(self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let queue = self.queue.clone();
        let job: Job = Box::new(move || {
            // A panic inside argon2 would be a bug; the thread survives it and the
            // caller gets an internal error from the dropped answer.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            // Given back before the answer, so the caller's next turn finds it free.
            drop(self);
            if let Ok(result) = result {
                // The caller may have gone (a dropped request): nothing to tell.
                let _ = answer.send(result);
            }
        });
        queue.send(job).map_err(|_| {
            ApiError::Internal(anyhow::anyhow!("the password hashers have stopped"))
        })?;
        answered
            .await
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("a password hash failed")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No more run at once than there are threads, however many are asked for together;
    /// what does not fit in the queue is refused at once, not run later.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_one_hash_per_thread_runs_and_a_full_queue_refuses() {
        let hashers = Hashers::start(2, 3).unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (hashers, running, most) = (hashers.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    hashers
                        .reserve()?
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(300));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        let (mut done, mut busy) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => done += 1,
                Err(ApiError::Busy { retry_after_secs }) => {
                    assert!(retry_after_secs >= 1);
                    busy += 1
                }
                Err(other) => panic!("unexpected: {other:?}"),
            }
        }
        assert_eq!(most.load(Ordering::SeqCst), 2, "two threads, two at once");
        assert!((2..=5).contains(&done), "the threads and the queue: {done}");
        assert_eq!(done + busy, 20);
        // Once the storm has passed, work is taken again.
        assert_eq!(hashers.reserve().unwrap().run(|| 7).await.unwrap(), 7);
        // A turn taken and not used is given back.
        for _ in 0..10 {
            drop(hashers.reserve().unwrap());
        }
        assert_eq!(hashers.taken.load(Ordering::SeqCst), 0);
    }
}
