//! The host side against a real engine and a real in-memory journal, with a
//! clock the test sets: timers fire by the injected clock, stops count in
//! the gauges. No guest runs (the executions' function is not served here,
//! so an owed invocation is left waiting).

use super::model::{ExecutionStart, GuestTransition, OpRef, plan_guest, plan_start};
use super::{Clock, Durable, InvokeFuture, Invoker, model::ErrorType};
use crate::config::EngineConfig;
use crate::engine::LaminaEngine;
use crate::journal::{
    EventType, ExecutionStatus, Journal, MemoryJournal, OperationStatus, execution_arn,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const T0: u64 = 1_800_000_000_000;
const FUNCTION: &str = "served-elsewhere";

struct TestClock(AtomicU64);

impl Clock for TestClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

struct NoTargets;

impl Invoker for NoTargets {
    fn invoke<'a>(&'a self, function: &'a str, _payload: &'a str) -> InvokeFuture<'a> {
        Box::pin(async move { Err(ErrorType::ResourceNotFound.error(function)) })
    }
}

/// An execution of [`FUNCTION`] started at [`T0`] with a wait of 10 s.
async fn waiting_execution(journal: &MemoryJournal) -> String {
    let arn = execution_arn(FUNCTION);
    let start = ExecutionStart {
        arn: arn.clone(),
        function: FUNCTION.into(),
        name: "e".into(),
        input: "{}".into(),
        timeout_s: 3600,
        code_sha256: None,
    };
    journal
        .create_execution(plan_start(T0, start))
        .await
        .expect("create");
    let op = OpRef {
        id: "1".into(),
        parent_id: None,
        name: None,
        sub_type: "Wait".into(),
    };
    let plan =
        plan_guest(T0, None, &op, GuestTransition::WaitStarted { seconds: 10 }).expect("plan");
    journal.apply(&arn, plan.batch).await.expect("apply");
    arn
}

async fn runtime(journal: Arc<MemoryJournal>, clock: Arc<TestClock>) -> Arc<Durable> {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = LaminaEngine::new(&EngineConfig {
        pooling: false,
        max_instances: 4,
        max_memory_mb: 64,
        cache_dir: dir.path().join("cache"),
    })
    .expect("engine");
    Durable::start_with(
        Arc::new(engine),
        journal,
        [],
        Arc::new(NoTargets),
        clock,
        None,
    )
    .await
    .expect("durable runtime")
}

#[tokio::test]
async fn a_wait_ends_when_the_injected_clock_reaches_it() {
    let journal = Arc::new(MemoryJournal::new());
    let arn = waiting_execution(&journal).await;
    let clock = Arc::new(TestClock(AtomicU64::new(T0)));
    let durable = runtime(journal.clone(), clock).await;

    assert_eq!(durable.tick(T0 + 9_999).await.expect("tick"), 0);
    let op = journal
        .operation(&arn, "1")
        .await
        .expect("read")
        .expect("op");
    assert_eq!(op.status, OperationStatus::Started);

    assert_eq!(durable.tick(T0 + 10_000).await.expect("tick"), 1);
    let op = journal
        .operation(&arn, "1")
        .await
        .expect("read")
        .expect("op");
    assert_eq!(op.status, OperationStatus::Succeeded);
    assert_eq!(op.end_ms, Some(T0 + 10_000));
    let last = journal
        .history_reverse(&arn, None, 1)
        .await
        .expect("history");
    assert_eq!(last[0].event_type, EventType::WaitSucceeded);
    assert_eq!(
        durable.tick(T0 + 20_000).await.expect("tick"),
        0,
        "fired once"
    );
}

#[tokio::test]
async fn a_stop_is_stamped_by_the_clock_and_leaves_the_running_gauge() {
    let journal = Arc::new(MemoryJournal::new());
    let arn = waiting_execution(&journal).await;
    let clock = Arc::new(TestClock(AtomicU64::new(T0 + 5_000)));
    let durable = runtime(journal.clone(), clock).await;
    assert_eq!(durable.metrics.running(FUNCTION), 1, "counted at start");

    let at = durable.stop(&arn, None).await.expect("stop");
    assert_eq!(at, T0 + 5_000);
    let e = durable.get(&arn).await.expect("execution");
    assert_eq!(e.status, ExecutionStatus::Stopped);
    assert_eq!(e.end_ms, Some(T0 + 5_000));
    assert_eq!(durable.metrics.running(FUNCTION), 0);
    // Its wait's timer went with the stop: nothing fires later.
    assert_eq!(durable.tick(T0 + 60_000).await.expect("tick"), 0);
}
