//! Tests of the journal: most run against every backend (see
//! [`every_backend`]); those about the redb file itself (compaction,
//! schema versions, a second open, the rows left in the file) run on redb.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use super::*;

/// A journal backend the backend-neutral tests run against.
#[derive(Debug, Clone, Copy)]
enum Backend {
    /// [`RedbJournal`] on a file in a temp dir.
    Redb,
    /// [`MemoryJournal`].
    Memory,
    /// [`PgJournal`] on the database of `LAMINA_TEST_PG_URL`, in a schema
    /// of its own (its name is kept in the temp dir, for reopening).
    Postgres,
}

/// The database the PostgreSQL tests use (`scripts/postgres.sh` starts one).
fn pg_url() -> String {
    std::env::var("LAMINA_TEST_PG_URL")
        .expect("LAMINA_TEST_PG_URL: run the PostgreSQL tests under scripts/postgres.sh")
}

/// A PostgreSQL journal in schema `schema` of the test database.
async fn pg_journal(schema: &str) -> PgJournal {
    PgJournal::open_with(
        &pg_url(),
        PgOptions {
            schema: Some(schema.to_owned()),
            ..PgOptions::default()
        },
    )
    .await
    .expect("open the PostgreSQL journal")
}

/// A fresh schema name.
fn pg_schema() -> String {
    format!("t_{}", uuid::Uuid::new_v4().simple())
}

impl Backend {
    /// A new, empty journal (and the temp dir it may live in).
    async fn open(self) -> (tempfile::TempDir, Box<dyn Journal>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal: Box<dyn Journal> = match self {
            Backend::Redb => Box::new(RedbJournal::open_in(dir.path()).expect("open journal")),
            Backend::Memory => Box::new(MemoryJournal::new()),
            Backend::Postgres => {
                let schema = pg_schema();
                std::fs::write(dir.path().join("pg_schema"), &schema).expect("write schema name");
                Box::new(pg_journal(&schema).await)
            }
        };
        (dir, journal)
    }

    /// Closes and reopens a journal from [`Backend::open`]: redb reads its
    /// file again, PostgreSQL connects again to the same schema; the memory
    /// journal has nothing to reopen and stays.
    async fn reopen(self, dir: &tempfile::TempDir, journal: Box<dyn Journal>) -> Box<dyn Journal> {
        match self {
            Backend::Redb => {
                drop(journal);
                Box::new(RedbJournal::open_in(dir.path()).expect("reopen journal"))
            }
            Backend::Memory => journal,
            Backend::Postgres => {
                drop(journal);
                let schema =
                    std::fs::read_to_string(dir.path().join("pg_schema")).expect("schema name");
                Box::new(pg_journal(&schema).await)
            }
        }
    }
}

/// Instantiates each named `async fn(Backend)` test once per backend, as
/// `redb_backend::NAME`, `memory_backend::NAME` and `postgres_backend::NAME`
/// (ignored unless asked for: it needs the database `scripts/postgres.sh`
/// starts; `scripts/test-postgres.sh` runs them).
macro_rules! every_backend {
    ($($name:ident),* $(,)?) => {
        mod redb_backend {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::Redb).await
                }
            )*
        }
        mod memory_backend {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::Memory).await
                }
            )*
        }
        mod postgres_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: run under scripts/postgres.sh"]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await
                }
            )*
        }
    };
}

every_backend!(
    create_is_idempotent_by_name_and_detects_conflicts,
    apply_and_load_state_round_trip,
    ended_executions_reject_changes_unless_allowed,
    history_is_ordered_and_pages,
    timers_are_ordered_by_due_time_and_removable,
    callbacks_are_found_by_id,
    list_executions_filters_and_pages,
    state_survives_reopen_and_recovery_finds_running_invocations,
    one_operation_reads_alone_and_queued_writes_commit_in_order,
    deleted_executions_are_gone_from_every_read,
    expired_executions_follow_each_function_cutoff,
    queued_events_run_in_due_order_retry_and_survive_reopen,
    apply_expecting_rejects_a_moved_execution_and_writes_nothing,
    claims_are_granted_to_the_one_process_with_a_lease,
);

fn temp_journal() -> (tempfile::TempDir, RedbJournal) {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = RedbJournal::open_in(dir.path()).expect("open journal");
    (dir, journal)
}

fn new_execution(function: &str, name: Option<&str>, input: &str) -> NewExecution {
    let arn = execution_arn(function);
    NewExecution {
        arn,
        function: function.into(),
        name: name.map(Into::into),
        input: input.into(),
        start_ms: 1_000,
        deadline_ms: None,
        invocation_in_progress: true,
        operations: vec![],
        events: vec![
            NewEvent::new(EventType::ExecutionStarted)
                .at(1_000)
                .with_details(json!({ "Input": { "Payload": input } })),
        ],
        code_sha256: Some(format!("sha-{function}")),
    }
}

async fn create(journal: &dyn Journal, new: NewExecution) -> Execution {
    match journal.create_execution(new).await.expect("create") {
        CreateOutcome::Created(exec) => exec,
        other => panic!("expected Created, got {other:?}"),
    }
}

fn step(id: &str, status: OperationStatus) -> Operation {
    Operation {
        name: Some(format!("step {id}")),
        sub_type: Some("Step".into()),
        step: Some(StepDetails {
            attempt: 1,
            next_attempt_ms: None,
        }),
        ..Operation::new(id, OperationType::Step, status, 2_000)
    }
}

fn event(event_type: EventType, op: &Operation) -> NewEvent {
    NewEvent::for_operation(event_type, op).with_details(json!({}))
}

async fn create_is_idempotent_by_name_and_detects_conflicts(backend: Backend) {
    let (_dir, journal) = backend.open().await;
    let first = new_execution("orders", Some("order-1"), r#"{"a":1,"b":[2]}"#);
    let exec = create(&*journal, first.clone()).await;
    assert_eq!(exec.status, ExecutionStatus::Running);
    assert_eq!(exec.last_event_id, 1);
    assert!(exec.metering.bytes_journaled > 0);

    // Same name, same input (other formatting): the existing execution.
    let again = new_execution("orders", Some("order-1"), r#"{ "b": [2], "a": 1 }"#);
    let outcome = journal.create_execution(again).await.expect("create again");
    assert_eq!(outcome, CreateOutcome::Existing(exec.clone()));

    // Same name, other input: a conflict, and nothing written.
    let other = new_execution("orders", Some("order-1"), r#"{"a":2}"#);
    let other_arn = other.arn.clone();
    let outcome = journal.create_execution(other).await.expect("create other");
    assert_eq!(outcome, CreateOutcome::NameConflict(exec.clone()));
    assert_eq!(journal.get_execution(&other_arn).await.expect("get"), None);

    // Same name for another function is another execution.
    create(&*journal, new_execution("billing", Some("order-1"), "{}")).await;

    // The same ARN twice is an error.
    let err = journal
        .create_execution(first)
        .await
        .expect_err("duplicate ARN");
    assert!(matches!(err, JournalError::ExecutionExists { .. }), "{err}");

    let found = journal
        .find_by_name("orders", "order-1")
        .await
        .expect("find");
    assert_eq!(
        found.as_ref().map(|e| e.arn.as_str()),
        Some(exec.arn.as_str())
    );
    assert_eq!(
        journal.execution_input(&exec.arn).await.expect("input"),
        Some(r#"{"a":1,"b":[2]}"#.to_owned())
    );
    let history = journal.history(&exec.arn, 0, 10).await.expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].event_type, EventType::ExecutionStarted);
    assert_eq!(history[0].event_id, 1);
}

async fn apply_and_load_state_round_trip(backend: Backend) {
    let (_dir, journal) = backend.open().await;
    let exec = create(&*journal, new_execution("f", None, "\"in\"")).await;

    let started = step("1", OperationStatus::Started);
    let ids = journal
        .apply(
            &exec.arn,
            Batch {
                operations: vec![started.clone()],
                events: vec![event(EventType::StepStarted, &started)],
                ..Batch::default()
            },
        )
        .await
        .expect("apply 1");
    assert_eq!(ids, vec![2]);

    let mut done = step("1", OperationStatus::Succeeded);
    done.result = Some("\"Hello\"".into());
    done.end_ms = Some(2_500);
    let mut wait = Operation::new("2", OperationType::Wait, OperationStatus::Started, 2_600);
    wait.wait = Some(WaitDetails {
        scheduled_end_ms: 9_000,
    });
    let mut callback = Operation::new(
        "0",
        OperationType::Callback,
        OperationStatus::Started,
        2_700,
    );
    callback.callback = Some(CallbackDetails {
        callback_id: "cb-1".into(),
        timeout_s: Some(30),
        heartbeat_timeout_s: None,
    });
    callback.error = Some(ErrorObject {
        error_type: Some("X".into()),
        stack_trace: Some(vec!["at a".into()]),
        ..ErrorObject::default()
    });
    let ids = journal
        .apply(
            &exec.arn,
            Batch {
                operations: vec![done.clone(), wait.clone(), callback.clone()],
                events: vec![
                    event(EventType::StepSucceeded, &done),
                    event(EventType::WaitStarted, &wait),
                    NewEvent::new(EventType::InvocationCompleted),
                ],
                execution: ExecutionUpdate {
                    invocation_in_progress: Some(false),
                    metering: Metering {
                        active_compute_us: 1234,
                        invocations: 1,
                        operations: 3,
                        bytes_journaled: 0,
                    },
                    ..ExecutionUpdate::default()
                },
                ..Batch::default()
            },
        )
        .await
        .expect("apply 2");
    assert_eq!(ids, vec![3, 4, 5]);

    let state = journal.load_state(&exec.arn).await.expect("load");
    assert_eq!(state.input, "\"in\"");
    // In first-recorded order, not id order; seq assigned by the journal.
    let ids: Vec<&str> = state.operations.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "0"]);
    assert_eq!(state.operations[0], Operation { seq: 0, ..done });
    assert_eq!(state.operations[1], Operation { seq: 1, ..wait });
    assert_eq!(state.operations[2], Operation { seq: 2, ..callback });
    let e = &state.execution;
    assert_eq!(e.last_event_id, 5);
    assert_eq!(e.operation_count, 3);
    assert!(!e.invocation_in_progress);
    assert_eq!(e.metering.active_compute_us, 1234);
    assert_eq!(e.metering.invocations, 1);
    assert_eq!(e.metering.operations, 3);
    assert!(e.metering.bytes_journaled > exec.metering.bytes_journaled);

    // Ending the execution.
    journal
        .apply(
            &exec.arn,
            Batch {
                events: vec![NewEvent::new(EventType::ExecutionSucceeded)],
                execution: ExecutionUpdate {
                    status: Some(ExecutionStatus::Succeeded),
                    result: Some("\"Hello\"".into()),
                    ..ExecutionUpdate::default()
                },
                ..Batch::default()
            },
        )
        .await
        .expect("end");
    let ended = journal
        .get_execution(&exec.arn)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(ended.status, ExecutionStatus::Succeeded);
    assert_eq!(ended.result.as_deref(), Some("\"Hello\""));
    assert!(ended.end_ms.is_some());

    let missing = journal.load_state("arn:nope").await.expect_err("unknown");
    assert!(matches!(missing, JournalError::ExecutionNotFound { .. }));
    let missing = journal
        .apply("arn:nope", Batch::default())
        .await
        .expect_err("unknown");
    assert!(matches!(missing, JournalError::ExecutionNotFound { .. }));
}

async fn ended_executions_reject_changes_unless_allowed(backend: Backend) {
    let (_dir, journal) = backend.open().await;
    let exec = create(&*journal, new_execution("f", None, "{}")).await;
    let stop = Batch {
        events: vec![NewEvent::new(EventType::ExecutionStopped)],
        execution: ExecutionUpdate {
            status: Some(ExecutionStatus::Stopped),
            ..ExecutionUpdate::default()
        },
        ..Batch::default()
    };
    journal.apply(&exec.arn, stop.clone()).await.expect("stop");

    let op = step("1", OperationStatus::Started);
    let err = journal
        .apply(
            &exec.arn,
            Batch {
                operations: vec![op],
                ..Batch::default()
            },
        )
        .await
        .expect_err("ended");
    assert_eq!(
        err,
        JournalError::ExecutionEnded {
            arn: exec.arn.clone(),
            status: ExecutionStatus::Stopped
        }
    );
    let err = journal
        .apply(
            &exec.arn,
            Batch {
                allow_after_end: true,
                ..stop
            },
        )
        .await
        .expect_err("status of an ended execution");
    assert!(matches!(err, JournalError::ExecutionEnded { .. }));

    // The bookkeeping of the invocation that was running is accepted.
    let ids = journal
        .apply(
            &exec.arn,
            Batch {
                events: vec![NewEvent::new(EventType::InvocationCompleted)],
                execution: ExecutionUpdate {
                    invocation_in_progress: Some(false),
                    metering: Metering {
                        invocations: 1,
                        ..Metering::default()
                    },
                    ..ExecutionUpdate::default()
                },
                allow_after_end: true,
                ..Batch::default()
            },
        )
        .await
        .expect("bookkeeping");
    assert_eq!(ids, vec![3]);
    // The rejected batches wrote nothing.
    let state = journal.load_state(&exec.arn).await.expect("load");
    assert!(state.operations.is_empty());
    assert_eq!(state.execution.last_event_id, 3);
}

async fn history_is_ordered_and_pages(backend: Backend) {
    let (_dir, journal) = backend.open().await;
    let exec = create(&*journal, new_execution("f", None, "{}")).await;
    let mut all_ids = vec![1];
    for batch_no in 0..6u64 {
        let events = (0..4)
            .map(|i| {
                NewEvent::new(EventType::StepStarted)
                    .at(10_000 + batch_no * 10 + i)
                    .with_details(json!({ "n": batch_no * 4 + i }))
            })
            .collect();
        let ids = journal
            .apply(
                &exec.arn,
                Batch {
                    events,
                    ..Batch::default()
                },
            )
            .await
            .expect("apply");
        all_ids.extend(ids);
    }
    assert_eq!(all_ids, (1..=25).collect::<Vec<u64>>());

    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = journal.history(&exec.arn, after, 10).await.expect("page");
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 10);
        after = page.last().map_or(after, |e| e.event_id);
        seen.extend(page);
    }
    let ids: Vec<u64> = seen.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, (1..=25).collect::<Vec<u64>>());
    assert_eq!(seen[1].details, json!({ "n": 0 }));
    assert_eq!(seen[1].timestamp_ms, 10_000);
    assert_eq!(seen[24].details, json!({ "n": 23 }));

    let back = journal
        .history_reverse(&exec.arn, None, 3)
        .await
        .expect("reverse");
    let ids: Vec<u64> = back.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, [25, 24, 23]);
    let back = journal
        .history_reverse(&exec.arn, Some(3), 10)
        .await
        .expect("reverse");
    let ids: Vec<u64> = back.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, [2, 1]);

    // Another execution's history is separate.
    let other = create(&*journal, new_execution("f", None, "{}")).await;
    let h = journal.history(&other.arn, 0, 100).await.expect("other");
    assert_eq!(h.len(), 1);
    let err = journal
        .history("arn:none", 0, 10)
        .await
        .expect_err("unknown");
    assert!(matches!(err, JournalError::ExecutionNotFound { .. }));
}

fn timer(kind: TimerKind, op_id: Option<&str>, due_ms: u64) -> TimerSpec {
    TimerSpec {
        kind,
        op_id: op_id.map(Into::into),
        due_ms,
    }
}

async fn timers_are_ordered_by_due_time_and_removable(backend: Backend) {
    let (_dir, journal) = backend.open().await;
    let mut with_deadline = new_execution("f", None, "{}");
    with_deadline.deadline_ms = Some(50_000);
    let a = create(&*journal, with_deadline).await;
    let b = create(&*journal, new_execution("f", None, "{}")).await;
    assert_eq!(journal.next_timer_due().await.expect("next"), Some(50_000));

    let set = |timers: Vec<TimerSpec>| Batch {
        set_timers: timers,
        ..Batch::default()
    };
    journal
        .apply(
            &a.arn,
            set(vec![
                timer(TimerKind::WaitEnd, Some("1"), 3_000),
                timer(TimerKind::CallbackHeartbeat, Some("2"), 1_000),
            ]),
        )
        .await
        .expect("a");
    journal
        .apply(
            &b.arn,
            set(vec![
                timer(TimerKind::StepRetry, Some("1"), 2_000),
                timer(TimerKind::WaitEnd, Some("9"), 3_000),
            ]),
        )
        .await
        .expect("b");

    let due = journal.due_timers(3_000, 100).await.expect("due");
    let order: Vec<(u64, &str, TimerKind)> = due
        .iter()
        .map(|t| (t.due_ms, t.arn.as_str(), t.kind))
        .collect();
    assert_eq!(
        order,
        [
            (1_000, a.arn.as_str(), TimerKind::CallbackHeartbeat),
            (2_000, b.arn.as_str(), TimerKind::StepRetry),
            (3_000, a.arn.as_str(), TimerKind::WaitEnd), // set first: lower seq
            (3_000, b.arn.as_str(), TimerKind::WaitEnd),
        ]
    );
    assert_eq!(journal.due_timers(1_999, 100).await.expect("due").len(), 1);
    assert_eq!(journal.due_timers(3_000, 2).await.expect("due").len(), 2);
    assert_eq!(journal.next_timer_due().await.expect("next"), Some(1_000));

    // A heartbeat moves its slot; the fired step retry is cleared.
    journal
        .apply(
            &a.arn,
            set(vec![timer(TimerKind::CallbackHeartbeat, Some("2"), 7_000)]),
        )
        .await
        .expect("heartbeat");
    journal
        .apply(
            &b.arn,
            Batch {
                clear_timers: vec![due[1].slot()],
                ..Batch::default()
            },
        )
        .await
        .expect("clear");
    let due = journal.due_timers(u64::MAX, 100).await.expect("due");
    let order: Vec<(u64, TimerKind)> = due.iter().map(|t| (t.due_ms, t.kind)).collect();
    assert_eq!(
        order,
        [
            (3_000, TimerKind::WaitEnd),
            (3_000, TimerKind::WaitEnd),
            (7_000, TimerKind::CallbackHeartbeat),
            (50_000, TimerKind::ExecutionTimeout),
        ]
    );
    assert_eq!(due[3].op_id, None);
    assert_eq!(due[2].op_id.as_deref(), Some("2"));

    // Ending an execution removes all its timers.
    journal
        .apply(
            &a.arn,
            Batch {
                execution: ExecutionUpdate {
                    status: Some(ExecutionStatus::TimedOut),
                    ..ExecutionUpdate::default()
                },
                ..Batch::default()
            },
        )
        .await
        .expect("time out");
    let due = journal.due_timers(u64::MAX, 100).await.expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].arn, b.arn);
    journal
        .apply(
            &b.arn,
            Batch {
                clear_timers: vec![due[0].slot()],
                ..Batch::default()
            },
        )
        .await
        .expect("clear");
    assert_eq!(journal.next_timer_due().await.expect("next"), None);
}

async fn callbacks_are_found_by_id(backend: Backend) {
    let (_dir, journal) = backend.open().await;
    let a = create(&*journal, new_execution("f", None, "{}")).await;
    let b = create(&*journal, new_execution("f", None, "{}")).await;
    let register = |callback_id: &str, op_id: &str| Batch {
        add_callbacks: vec![CallbackRegistration {
            callback_id: callback_id.into(),
            op_id: op_id.into(),
        }],
        ..Batch::default()
    };
    journal
        .apply(&a.arn, register("cb-a", "3"))
        .await
        .expect("a");
    // Registering again for the same operation is fine.
    journal
        .apply(&a.arn, register("cb-a", "3"))
        .await
        .expect("again");
    let found = journal.callback("cb-a").await.expect("lookup");
    assert_eq!(
        found,
        Some(CallbackRef {
            arn: a.arn.clone(),
            op_id: "3".into()
        })
    );
    assert_eq!(journal.callback("cb-x").await.expect("lookup"), None);

    let op = step("1", OperationStatus::Started);
    let err = journal
        .apply(
            &b.arn,
            Batch {
                operations: vec![op.clone()],
                events: vec![event(EventType::CallbackStarted, &op)],
                ..register("cb-a", "1")
            },
        )
        .await
        .expect_err("in use");
    assert!(matches!(err, JournalError::CallbackIdInUse { .. }), "{err}");
    // The rejected batch wrote nothing.
    let state = journal.load_state(&b.arn).await.expect("load");
    assert!(state.operations.is_empty());
    assert_eq!(state.execution.last_event_id, 1);

    journal
        .apply(
            &a.arn,
            Batch {
                remove_callbacks: vec!["cb-a".into()],
                ..Batch::default()
            },
        )
        .await
        .expect("remove");
    assert_eq!(journal.callback("cb-a").await.expect("lookup"), None);
}

async fn list_executions_filters_and_pages(backend: Backend) {
    let (_dir, journal) = backend.open().await;
    let mut arns = Vec::new();
    for (function, start) in [("a", 5), ("b", 1), ("a", 3), ("a", 4), ("b", 2), ("a", 1)] {
        let mut new = new_execution(function, None, "{}");
        new.start_ms = start;
        arns.push(create(&*journal, new).await.arn);
    }
    // End a@4.
    journal
        .apply(
            &arns[3],
            Batch {
                execution: ExecutionUpdate {
                    status: Some(ExecutionStatus::Failed),
                    ..ExecutionUpdate::default()
                },
                ..Batch::default()
            },
        )
        .await
        .expect("fail");

    let starts = |page: &ExecutionPage| -> Vec<(String, u64)> {
        page.executions
            .iter()
            .map(|e| (e.function.clone(), e.start_ms))
            .collect()
    };
    let mut query = ListQuery {
        function: Some("a".into()),
        limit: 2,
        ..ListQuery::default()
    };
    let page = journal.list_executions(query.clone()).await.expect("list");
    assert_eq!(starts(&page), [("a".into(), 1), ("a".into(), 3)]);
    query.after = page.next.clone();
    let page = journal.list_executions(query.clone()).await.expect("list");
    assert_eq!(starts(&page), [("a".into(), 4), ("a".into(), 5)]);
    assert_eq!(page.next, None);

    let page = journal
        .list_executions(ListQuery {
            function: Some("a".into()),
            statuses: vec![ExecutionStatus::Running],
            reverse: true,
            limit: 10,
            ..ListQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(
        starts(&page),
        [("a".into(), 5), ("a".into(), 3), ("a".into(), 1)]
    );

    let page = journal
        .list_executions(ListQuery {
            function: Some("a".into()),
            started_after_ms: Some(3),
            started_before_ms: Some(5),
            limit: 10,
            ..ListQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(starts(&page), [("a".into(), 3), ("a".into(), 4)]);

    let all = journal
        .list_executions(ListQuery {
            limit: 100,
            ..ListQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(all.executions.len(), 6);
    assert_eq!(all.executions[4].function, "b");
    let none = journal
        .list_executions(ListQuery {
            function: Some("zzz".into()),
            limit: 10,
            ..ListQuery::default()
        })
        .await
        .expect("list");
    assert!(none.executions.is_empty());
}

async fn state_survives_reopen_and_recovery_finds_running_invocations(backend: Backend) {
    let (dir, journal) = backend.open().await;
    let (busy, idle, done);
    {
        busy = create(&*journal, new_execution("f", Some("busy"), "1")).await;
        idle = create(&*journal, new_execution("f", None, "2")).await;
        done = create(&*journal, new_execution("f", None, "3")).await;
        let op = step("1", OperationStatus::Succeeded);
        journal
            .apply(
                &busy.arn,
                Batch {
                    operations: vec![op.clone()],
                    events: vec![event(EventType::StepSucceeded, &op)],
                    ..Batch::default()
                },
            )
            .await
            .expect("busy");
        journal
            .apply(
                &idle.arn,
                Batch {
                    execution: ExecutionUpdate {
                        invocation_in_progress: Some(false),
                        ..ExecutionUpdate::default()
                    },
                    set_timers: vec![timer(TimerKind::WaitEnd, Some("1"), 5_000)],
                    add_callbacks: vec![CallbackRegistration {
                        callback_id: "cb".into(),
                        op_id: "2".into(),
                    }],
                    ..Batch::default()
                },
            )
            .await
            .expect("idle");
        journal
            .apply(
                &done.arn,
                Batch {
                    execution: ExecutionUpdate {
                        status: Some(ExecutionStatus::Succeeded),
                        ..ExecutionUpdate::default()
                    },
                    ..Batch::default()
                },
            )
            .await
            .expect("done");
    }
    let journal = backend.reopen(&dir, journal).await;
    let state = journal.load_state(&busy.arn).await.expect("busy");
    assert_eq!(state.execution.code_sha256.as_deref(), Some("sha-f"));
    assert_eq!(state.operations.len(), 1);
    assert_eq!(state.execution.last_event_id, 2);
    assert_eq!(state.input, "1");
    let recover = journal
        .executions_needing_recovery()
        .await
        .expect("recover");
    let arns: Vec<&str> = recover.iter().map(|e| e.arn.as_str()).collect();
    // `done` had its flag set too, but it has ended.
    assert_eq!(arns, [busy.arn.as_str()]);
    assert_eq!(journal.next_timer_due().await.expect("next"), Some(5_000));
    assert_eq!(
        journal.callback("cb").await.expect("cb").map(|c| c.arn),
        Some(idle.arn.clone())
    );
    let again = journal
        .create_execution(new_execution("f", Some("busy"), "1"))
        .await
        .expect("create");
    assert!(matches!(again, CreateOutcome::Existing(e) if e.arn == busy.arn));
    // Event ids continue after reopen.
    let ids = journal
        .apply(
            &busy.arn,
            Batch {
                events: vec![NewEvent::new(EventType::InvocationCompleted)],
                ..Batch::default()
            },
        )
        .await
        .expect("apply");
    assert_eq!(ids, [3]);
}

#[test]
fn another_schema_version_is_refused_naming_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("journal.redb");
    drop(RedbJournal::open(&path).expect("create"));
    {
        let db = ::redb::Database::create(&path).expect("raw open");
        let txn = db.begin_write().expect("write");
        {
            let mut meta = txn.open_table(super::tables::META).expect("meta");
            meta.insert("schema_version", 99u64).expect("insert");
        }
        txn.commit().expect("commit");
    }
    let err = RedbJournal::open(&path).expect_err("version 99");
    assert_eq!(
        err,
        OpenError::SchemaVersion {
            path: path.clone(),
            found: 99,
            expected: SCHEMA_VERSION
        }
    );
    let message = err.to_string();
    assert!(message.contains("99") && message.contains(&SCHEMA_VERSION.to_string()));
}

#[test]
fn a_second_open_of_the_same_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _journal = RedbJournal::open_in(dir.path()).expect("open");
    let err = RedbJournal::open_in(dir.path()).expect_err("second open");
    assert!(matches!(err, OpenError::AlreadyOpen { .. }), "{err}");
}

/// Runs `tasks` tasks that each apply `batches` one-event batches to their
/// own execution; returns the stats delta and the elapsed seconds.
async fn concurrent_batches(
    journal: &Arc<RedbJournal>,
    tasks: usize,
    batches: usize,
) -> (JournalStats, f64) {
    let mut arns = Vec::new();
    for _ in 0..tasks {
        arns.push(
            create(&**journal, new_execution("load", None, "{}"))
                .await
                .arn,
        );
    }
    let before = journal.stats();
    let started = Instant::now();
    let handles: Vec<_> = arns
        .iter()
        .cloned()
        .map(|arn| {
            let journal = Arc::clone(journal);
            tokio::spawn(async move {
                for i in 0..batches {
                    let op = step(&format!("{i}"), OperationStatus::Succeeded);
                    let batch = Batch {
                        events: vec![event(EventType::StepSucceeded, &op)],
                        operations: vec![op],
                        ..Batch::default()
                    };
                    journal.apply(&arn, batch).await.expect("apply");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("task");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = journal.stats();
    for arn in &arns {
        let state = journal.load_state(arn).await.expect("state");
        assert_eq!(state.operations.len(), batches);
        assert_eq!(state.execution.last_event_id, 1 + batches as u64);
    }
    let delta = JournalStats {
        commits: after.commits - before.commits,
        requests: after.requests - before.requests,
        largest_group: after.largest_group,
        commit_us: after.commit_us - before.commit_us,
    };
    (delta, elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_are_group_committed() {
    let (_dir, journal) = temp_journal();
    let journal = Arc::new(journal);
    let (stats, _) = concurrent_batches(&journal, 100, 10).await;
    assert_eq!(stats.requests, 1000);
    assert!(
        stats.commits < stats.requests,
        "no batching: {} commits for {} requests",
        stats.commits,
        stats.requests
    );
    assert!(stats.largest_group > 1);

    // Rejected requests in a group do not disturb the others.
    let valid = create(&*journal, new_execution("load", None, "{}"))
        .await
        .arn;
    let handles: Vec<_> = (0..40)
        .map(|i| {
            let journal = Arc::clone(&journal);
            let arn = if i % 2 == 0 {
                valid.clone()
            } else {
                "arn:missing".to_owned()
            };
            tokio::spawn(async move {
                let batch = Batch {
                    events: vec![NewEvent::new(EventType::InvocationCompleted)],
                    ..Batch::default()
                };
                journal.apply(&arn, batch).await
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        let result = handle.await.expect("task");
        if i % 2 == 0 {
            assert_eq!(result.expect("valid").len(), 1);
        } else {
            assert!(matches!(
                result,
                Err(JournalError::ExecutionNotFound { .. })
            ));
        }
    }
    let history = journal.history(&valid, 0, 100).await.expect("history");
    let ids: Vec<u64> = history.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, (1..=21).collect::<Vec<u64>>());
}

async fn one_operation_reads_alone_and_queued_writes_commit_in_order(backend: Backend) {
    let (_dir, journal) = backend.open().await;
    let exec = create(&*journal, new_execution("f", None, "{}")).await;
    assert_eq!(journal.operation(&exec.arn, "1").await.expect("read"), None);

    let started = step("1", OperationStatus::Started);
    let queued = journal
        .enqueue(
            &exec.arn,
            Batch {
                operations: vec![started.clone()],
                events: vec![event(EventType::StepStarted, &started)],
                ..Batch::default()
            },
        )
        .await
        .expect("enqueue");
    let done = step("1", OperationStatus::Succeeded);
    let later = journal
        .apply(
            &exec.arn,
            Batch {
                operations: vec![done.clone()],
                events: vec![event(EventType::StepSucceeded, &done)],
                ..Batch::default()
            },
        )
        .await
        .expect("apply");
    let first = queued.committed().await.expect("queued write committed");
    assert!(first[0] < later[0], "queued {first:?} after {later:?}");
    let op = journal.operation(&exec.arn, "1").await.expect("read");
    assert_eq!(op.map(|o| o.status), Some(OperationStatus::Succeeded));
}

// ---- Retention: deleting ended executions, the ended index, compaction.

/// Ends `arn` with status SUCCEEDED at `end_ms`.
async fn end_at(journal: &dyn Journal, arn: &str, end_ms: u64) {
    journal
        .apply(
            arn,
            Batch {
                events: vec![NewEvent::new(EventType::ExecutionSucceeded)],
                execution: ExecutionUpdate {
                    status: Some(ExecutionStatus::Succeeded),
                    result: Some("1".into()),
                    end_ms: Some(end_ms),
                    ..ExecutionUpdate::default()
                },
                ..Batch::default()
            },
        )
        .await
        .expect("end");
}

/// An execution with a step, a callback (registered), a wait timer and history.
async fn busy_execution(journal: &dyn Journal, function: &str, name: &str) -> Execution {
    let exec = create(journal, new_execution(function, Some(name), "{\"in\":1}")).await;
    let s = step("1", OperationStatus::Succeeded);
    let mut cb = Operation::new(
        "2",
        OperationType::Callback,
        OperationStatus::Started,
        2_000,
    );
    let callback_id = format!("cb-{name}");
    cb.callback = Some(CallbackDetails {
        callback_id: callback_id.clone(),
        timeout_s: Some(60),
        heartbeat_timeout_s: None,
    });
    journal
        .apply(
            &exec.arn,
            Batch {
                operations: vec![s.clone(), cb.clone()],
                events: vec![
                    event(EventType::StepSucceeded, &s),
                    event(EventType::CallbackStarted, &cb),
                ],
                set_timers: vec![timer(TimerKind::CallbackTimeout, Some("2"), 62_000)],
                add_callbacks: vec![CallbackRegistration {
                    callback_id,
                    op_id: "2".into(),
                }],
                ..Batch::default()
            },
        )
        .await
        .expect("busy");
    exec
}

/// How many rows of each table mention `arn`, read from the closed file.
fn rows_mentioning(path: &std::path::Path, arn: &str) -> Vec<(&'static str, usize)> {
    use super::retention::ENDED;
    use super::tables::*;
    use ::redb::{ReadableDatabase, ReadableTable};
    let db = ::redb::Database::create(path).expect("raw open");
    let txn = db.begin_read().expect("read");
    let mut counts = Vec::new();
    macro_rules! count {
        ($name:literal, $table:expr, |$k:ident, $v:ident| $mentions:expr) => {{
            let table = txn.open_table($table).expect($name);
            let mut n = 0;
            for row in table.iter().expect("iter") {
                let (k, v) = row.expect("row");
                let ($k, $v) = (k.value(), v.value());
                if $mentions {
                    n += 1;
                }
            }
            counts.push(($name, n));
        }};
    }
    count!("executions", EXECUTIONS, |k, _v| k == arn);
    count!("execution_inputs", INPUTS, |k, _v| k == arn);
    count!("execution_names", NAMES, |_k, v| v == arn);
    count!("executions_by_function", BY_FUNCTION, |k, _v| k.2 == arn);
    count!("running_executions", RUNNING, |k, _v| k == arn);
    count!("operations", OPERATIONS, |k, _v| k.0 == arn);
    count!("history", HISTORY, |k, _v| k.0 == arn);
    count!("timers", TIMERS, |_k, v| v.0 == arn);
    count!("timer_slots", TIMER_SLOTS, |k, _v| k.0 == arn);
    count!("callbacks", CALLBACKS, |_k, v| v.0 == arn);
    count!("ended_executions", ENDED, |k, _v| k.2 == arn);
    counts
}

#[tokio::test]
async fn deleting_an_ended_execution_removes_every_row_and_leaves_others_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(RedbJournal::FILE_NAME);
    let (gone, running, kept);
    {
        let journal = RedbJournal::open(&path).expect("open");
        gone = busy_execution(&journal, "f", "gone").await;
        running = busy_execution(&journal, "f", "running").await;
        kept = busy_execution(&journal, "f", "kept").await;
        end_at(&journal, &gone.arn, 10_000).await;
        end_at(&journal, &kept.arn, 10_000).await;
        // Every table holds rows of `gone` before (timers went at its end).
        let deleted = journal
            .delete_executions(vec![
                gone.arn.clone(),
                running.arn.clone(),
                "arn:lamina:durable:f:unknown".into(),
            ])
            .await
            .expect("delete");
        assert_eq!(deleted, 1, "only the ended execution is deleted");

        assert_eq!(journal.get_execution(&gone.arn).await.expect("get"), None);
        assert_eq!(journal.execution_input(&gone.arn).await.expect("in"), None);
        assert_eq!(journal.find_by_name("f", "gone").await.expect("name"), None);
        assert_eq!(journal.callback("cb-gone").await.expect("cb"), None);
        assert!(matches!(
            journal.history(&gone.arn, 0, 10).await,
            Err(JournalError::ExecutionNotFound { .. })
        ));
        let page = journal
            .list_executions(ListQuery {
                function: Some("f".into()),
                limit: 10,
                ..ListQuery::default()
            })
            .await
            .expect("list");
        let mut listed: Vec<&str> = page.executions.iter().map(|e| e.arn.as_str()).collect();
        listed.sort_unstable();
        let mut expected = vec![running.arn.as_str(), kept.arn.as_str()];
        expected.sort_unstable();
        assert_eq!(listed, expected);
        // The others are untouched.
        // Started, two operation events, and (for `kept`) its end.
        for (e, events) in [(&running, 3), (&kept, 4)] {
            assert_eq!(
                journal.history(&e.arn, 0, 10).await.expect("h").len(),
                events
            );
            assert_eq!(
                journal
                    .load_state(&e.arn)
                    .await
                    .expect("s")
                    .operations
                    .len(),
                2
            );
        }
        assert!(journal.callback("cb-running").await.expect("cb").is_some());
        assert!(journal.callback("cb-kept").await.expect("cb").is_some());
        let timers = journal.due_timers(u64::MAX, 10).await.expect("timers");
        assert_eq!(timers.len(), 1);
        assert_eq!(timers[0].arn, running.arn);
        // A name is free again once its execution is deleted.
        create(&journal, new_execution("f", Some("gone"), "{}")).await;
    }
    let gone_rows = rows_mentioning(&path, &gone.arn);
    assert!(gone_rows.iter().all(|(_, n)| *n == 0), "{gone_rows:?}");
    let kept_rows = rows_mentioning(&path, &kept.arn);
    let missing: Vec<_> = kept_rows
        .iter()
        .filter(|(t, n)| *n == 0 && !["running_executions", "timers", "timer_slots"].contains(t))
        .collect();
    assert!(missing.is_empty(), "kept lost rows: {kept_rows:?}");
}

async fn expired_executions_follow_each_function_cutoff(backend: Backend) {
    let (_dir, journal) = backend.open().await;
    let mut by_function: Vec<(String, Vec<String>)> = Vec::new();
    for function in ["a", "b", "c"] {
        let mut arns = Vec::new();
        for end_ms in [5_000, 6_000, 7_000] {
            let e = create(&*journal, new_execution(function, None, "{}")).await;
            end_at(&*journal, &e.arn, end_ms).await;
            arns.push(e.arn);
        }
        by_function.push((function.into(), arns));
    }
    let running = create(&*journal, new_execution("a", None, "{}")).await;
    // a: ended before 6.5 s; b: kept; c: ended before 5.5 s.
    let cutoff = |f: &str| match f {
        "a" => Some(6_500),
        "c" => Some(5_500),
        _ => None,
    };
    let found = journal.expired_executions(&cutoff, 100).await.expect("x");
    let a = &by_function[0].1;
    let c = &by_function[2].1;
    assert_eq!(found, [a[0].clone(), a[1].clone(), c[0].clone()]);
    assert!(!found.contains(&running.arn));
    let first = journal.expired_executions(&cutoff, 2).await.expect("x");
    assert_eq!(first, [a[0].clone(), a[1].clone()]);
    assert_eq!(journal.delete_executions(first).await.expect("delete"), 2);
    let rest = journal.expired_executions(&cutoff, 100).await.expect("x");
    assert_eq!(rest, [c[0].clone()]);
}

#[tokio::test]
async fn files_without_the_ended_index_are_indexed_at_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(RedbJournal::FILE_NAME);
    let ended;
    {
        let journal = RedbJournal::open(&path).expect("open");
        ended = create(&journal, new_execution("f", None, "{}")).await;
        end_at(&journal, &ended.arn, 5_000).await;
        create(&journal, new_execution("f", None, "{}")).await;
    }
    {
        // As a file written before the index existed.
        let db = ::redb::Database::create(&path).expect("raw open");
        let txn = db.begin_write().expect("write");
        txn.delete_table(super::retention::ENDED)
            .expect("drop index");
        txn.open_table(super::tables::META)
            .expect("meta")
            .remove(super::retention::META_ENDED_INDEX)
            .expect("flag");
        txn.commit().expect("commit");
    }
    let journal = RedbJournal::open(&path).expect("reopen");
    let found = journal
        .expired_executions(&|_: &str| Some(u64::MAX), 10)
        .await
        .expect("x");
    assert_eq!(found, [ended.arn]);
}

/// Writes 40 ended executions with `payload` as input and step result.
async fn fill(journal: &dyn Journal, payload: &str) -> Vec<String> {
    let mut arns = Vec::new();
    for _ in 0..40 {
        let e = create(journal, new_execution("f", None, payload)).await;
        let mut s = step("1", OperationStatus::Succeeded);
        s.result = Some(payload.to_owned());
        journal
            .apply(
                &e.arn,
                Batch {
                    operations: vec![s.clone()],
                    events: vec![event(EventType::StepSucceeded, &s)],
                    ..Batch::default()
                },
            )
            .await
            .expect("step");
        end_at(journal, &e.arn, 1_000).await;
        arns.push(e.arn);
    }
    arns
}

#[tokio::test]
async fn deleted_space_is_reused_and_compaction_at_open_shrinks_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(RedbJournal::FILE_NAME);
    let size = || std::fs::metadata(&path).expect("size").len();
    let payload = format!("\"{}\"", "x".repeat(200 * 1024));
    // Sizes after each of six rounds of writing 40 executions and deleting them.
    let mut rounds = Vec::new();
    {
        let journal = RedbJournal::open(&path).expect("open");
        for _ in 0..6 {
            let arns = fill(&journal, &payload).await;
            rounds.push(size());
            assert_eq!(journal.delete_executions(arns).await.expect("delete"), 40);
        }
    }
    let full = rounds[0];
    let journal = RedbJournal::open(&path).expect("reopen (compacts)");
    let compacted = size();
    eprintln!(
        "journal file: {rounds:?} bytes after each round of 40 executions of 400 KiB written \
         then deleted; {compacted} after compaction at open"
    );
    // Freed pages are reused: six rounds written without reuse would take
    // six times the first round's size; with reuse the file settles below
    // twice it (how many commits a round takes, and so when freed pages
    // become reusable, depends on group commit's timing).
    assert!(rounds[5] < full * 2, "{rounds:?}");
    assert!(compacted * 4 < full, "{compacted} vs {full}");
    drop(journal);
}

fn queued(function: &str, payload: &[u8], at: u64) -> NewQueuedEvent {
    NewQueuedEvent {
        function: function.into(),
        request_id: format!("req-{at}"),
        payload: payload.to_vec(),
        enqueued_ms: at,
    }
}

async fn queued_events_run_in_due_order_retry_and_survive_reopen(backend: Backend) {
    let (dir, journal) = backend.open().await;
    let a = journal
        .queue_event(queued("f", b"{\"a\":1}", 100))
        .await
        .expect("a");
    let b = journal
        .queue_event(queued("g", b"{\"b\":2}", 200))
        .await
        .expect("b");
    assert!(b > a);
    assert_eq!(journal.queued_event_count().await.expect("count"), 2);
    // A retry of `a` puts it after `b`.
    journal.retry_queued_event(a, 1, 500).await.expect("retry");
    let due = journal.queued_events(10).await.expect("due");
    assert_eq!(
        due.iter()
            .map(|e| (e.id, e.attempts, e.due_ms))
            .collect::<Vec<_>>(),
        [(b, 0, 200), (a, 1, 500)]
    );
    assert_eq!(due[1].function, "f");
    assert_eq!(due[1].request_id, "req-100");
    assert!(matches!(
        journal.retry_queued_event(999, 1, 1).await,
        Err(JournalError::Invalid(_))
    ));
    let journal = backend.reopen(&dir, journal).await;
    assert_eq!(
        journal.queued_event_payload(a).await.expect("payload"),
        Some(b"{\"a\":1}".to_vec())
    );
    journal.remove_queued_event(b).await.expect("remove");
    journal.remove_queued_event(b).await.expect("remove twice");
    assert_eq!(journal.queued_event_payload(b).await.expect("gone"), None);
    assert_eq!(journal.queued_event_count().await.expect("count"), 1);
    assert_eq!(journal.queued_events(10).await.expect("due").len(), 1);
    // Ids are not reused after a delete.
    let c = journal
        .queue_event(queued("f", b"{}", 300))
        .await
        .expect("c");
    assert!(c > b);
}

#[test]
fn a_schema_1_file_is_migrated_to_the_queue_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("journal.redb");
    {
        // A version 1 file: the version-1 tables only.
        let db = ::redb::Database::create(&path).expect("raw create");
        let txn = db.begin_write().expect("write");
        {
            let mut meta = txn.open_table(super::tables::META).expect("meta");
            meta.insert("schema_version", 1u64).expect("insert");
            txn.open_table(super::tables::EXECUTIONS)
                .expect("executions");
        }
        txn.commit().expect("commit");
    }
    let journal = RedbJournal::open(&path).expect("migrates");
    assert_eq!(
        futures::executor::block_on(journal.queued_event_count()).expect("count"),
        0
    );
    drop(journal);
    let db = ::redb::Database::create(&path).expect("raw open");
    let txn = ::redb::ReadableDatabase::begin_read(&db).expect("read");
    let meta = txn.open_table(super::tables::META).expect("meta");
    let version = meta.get("schema_version").expect("get").map(|v| v.value());
    assert_eq!(version, Some(SCHEMA_VERSION));
}

async fn deleted_executions_are_gone_from_every_read(backend: Backend) {
    let (_dir, journal) = backend.open().await;
    let gone = busy_execution(&*journal, "f", "gone").await;
    let kept = busy_execution(&*journal, "f", "kept").await;
    // A RUNNING execution is skipped.
    assert_eq!(
        journal
            .delete_executions(vec![gone.arn.clone()])
            .await
            .expect("delete running"),
        0
    );
    end_at(&*journal, &gone.arn, 9_000).await;
    let cutoff = |_: &str| Some(10_000);
    assert_eq!(
        journal
            .expired_executions(&cutoff, 10)
            .await
            .expect("expired"),
        std::slice::from_ref(&gone.arn)
    );
    assert_eq!(
        journal
            .delete_executions(vec![gone.arn.clone(), "arn:unknown".into()])
            .await
            .expect("delete"),
        1
    );
    assert_eq!(journal.get_execution(&gone.arn).await.expect("get"), None);
    assert_eq!(
        journal.execution_input(&gone.arn).await.expect("input"),
        None
    );
    assert_eq!(journal.find_by_name("f", "gone").await.expect("name"), None);
    assert_eq!(journal.callback("cb-gone").await.expect("callback"), None);
    assert!(matches!(
        journal.history(&gone.arn, 0, 10).await,
        Err(JournalError::ExecutionNotFound { .. })
    ));
    assert!(matches!(
        journal.load_state(&gone.arn).await,
        Err(JournalError::ExecutionNotFound { .. })
    ));
    assert!(
        journal
            .expired_executions(&cutoff, 10)
            .await
            .expect("expired")
            .is_empty()
    );
    // The other execution is intact: its row, name, callback, timer, history.
    let page = journal
        .list_executions(ListQuery {
            function: Some("f".into()),
            limit: 10,
            ..ListQuery::default()
        })
        .await
        .expect("list");
    let listed: Vec<&str> = page.executions.iter().map(|e| e.arn.as_str()).collect();
    assert_eq!(listed, [kept.arn.as_str()]);
    assert_eq!(
        journal
            .find_by_name("f", "kept")
            .await
            .expect("name")
            .map(|e| e.arn),
        Some(kept.arn.clone())
    );
    assert!(
        journal
            .callback("cb-kept")
            .await
            .expect("callback")
            .is_some()
    );
    let timers = journal.due_timers(u64::MAX, 10).await.expect("timers");
    let owners: Vec<&str> = timers.iter().map(|t| t.arn.as_str()).collect();
    assert_eq!(owners, [kept.arn.as_str()]);
    assert_eq!(
        journal
            .history(&kept.arn, 0, 10)
            .await
            .expect("history")
            .len(),
        3
    );
}

async fn apply_expecting_rejects_a_moved_execution_and_writes_nothing(backend: Backend) {
    let (_dir, journal) = backend.open().await;
    let exec = create(&*journal, new_execution("f", None, "{}")).await;
    assert_eq!(exec.last_event_id, 1);
    let one = step("1", OperationStatus::Succeeded);
    let batch = |op: &Operation| Batch {
        operations: vec![op.clone()],
        events: vec![event(EventType::StepSucceeded, op)],
        set_timers: vec![timer(TimerKind::WaitEnd, Some(&op.id), 9_000)],
        ..Batch::default()
    };
    // The expected version matches: applied, the version moves to 2.
    let ids = journal
        .apply_expecting(&exec.arn, batch(&one), Expect { last_event_id: 1 })
        .await
        .expect("expected version");
    assert_eq!(ids, [2]);
    // A second writer that read version 1 loses the race.
    let two = step("2", OperationStatus::Succeeded);
    let err = journal
        .apply_expecting(&exec.arn, batch(&two), Expect { last_event_id: 1 })
        .await
        .expect_err("stale version");
    assert_eq!(
        err,
        JournalError::Conflict {
            arn: exec.arn.clone(),
            expected: 1,
            found: 2,
        }
    );
    assert!(!err.is_storage());
    // Nothing of the rejected batch is stored.
    let state = journal.load_state(&exec.arn).await.expect("state");
    assert_eq!(state.execution.last_event_id, 2);
    let ops: Vec<&str> = state.operations.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ops, ["1"]);
    let timers = journal.due_timers(u64::MAX, 10).await.expect("timers");
    let slots: Vec<Option<&str>> = timers.iter().map(|t| t.op_id.as_deref()).collect();
    assert_eq!(slots, [Some("1")]);
    // Re-read and retry with the current version: applied.
    let ids = journal
        .apply_expecting(&exec.arn, batch(&two), Expect { last_event_id: 2 })
        .await
        .expect("retry");
    assert_eq!(ids, [3]);
    // An unknown execution is still ExecutionNotFound, not a conflict.
    assert!(matches!(
        journal
            .apply_expecting("arn:unknown", Batch::default(), Expect { last_event_id: 0 })
            .await,
        Err(JournalError::ExecutionNotFound { .. })
    ));
}

async fn claims_are_granted_to_the_one_process_with_a_lease(backend: Backend) {
    let (_dir, journal) = backend.open().await;
    let lease = std::time::Duration::from_secs(30);
    let mut busy = Vec::new();
    for _ in 0..3 {
        busy.push(create(&*journal, new_execution("f", None, "{}")).await.arn);
    }
    // Not runnable: idle (no invocation in progress) or ended.
    let idle = create(&*journal, new_execution("f", None, "{}")).await;
    journal
        .apply(
            &idle.arn,
            Batch {
                execution: ExecutionUpdate {
                    invocation_in_progress: Some(false),
                    ..ExecutionUpdate::default()
                },
                set_timers: vec![
                    timer(TimerKind::WaitEnd, Some("1"), 5_000),
                    timer(TimerKind::WaitEnd, Some("2"), 6_000),
                    timer(TimerKind::WaitEnd, Some("3"), 9_000),
                ],
                ..Batch::default()
            },
        )
        .await
        .expect("idle");
    let ended = create(&*journal, new_execution("f", None, "{}")).await;
    end_at(&*journal, &ended.arn, 2_000).await;

    let before = now_ms();
    let claims = journal
        .claim_runnable("host-a", lease, 10)
        .await
        .expect("claim");
    let mut claimed: Vec<String> = claims.iter().map(|c| c.item.arn.clone()).collect();
    claimed.sort();
    busy.sort();
    assert_eq!(claimed, busy);
    for claim in &claims {
        assert_eq!(claim.owner, "host-a");
        assert!(claim.lease_until_ms >= before + 30_000, "{claim:?}");
    }
    assert_eq!(
        journal
            .claim_runnable("host-a", lease, 2)
            .await
            .expect("limit")
            .len(),
        2
    );
    // One process owns everything: a claim by another owner is granted too.
    // A shared journal grants nothing host-a holds.
    assert_eq!(
        journal
            .claim_runnable("host-b", lease, 10)
            .await
            .expect("again")
            .len(),
        if journal.is_shared() { 0 } else { 3 }
    );

    let timers = journal
        .claim_due_timers("host-a", 6_000, lease, 10)
        .await
        .expect("timers");
    let due: Vec<(u64, Option<&str>)> = timers
        .iter()
        .map(|c| (c.item.due_ms, c.item.op_id.as_deref()))
        .collect();
    assert_eq!(due, [(5_000, Some("1")), (6_000, Some("2"))]);
    assert!(
        timers
            .iter()
            .all(|c| c.owner == "host-a" && c.lease_until_ms == 36_000)
    );
    let first = journal
        .claim_due_timers("host-a", 10_000, lease, 1)
        .await
        .expect("limit");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].item.due_ms, 5_000);
}

#[test]
fn execution_rows_written_before_code_digests_still_read() {
    let old = json!({
        "arn": "arn:lamina:durable:f:1",
        "function": "f",
        "status": "RUNNING",
        "start_ms": 1_000,
        "invocation_in_progress": true,
    });
    let exec: Execution = serde_json::from_value(old).expect("an old row decodes");
    assert_eq!(exec.code_sha256, None);
    let row = serde_json::to_value(&exec).expect("encode");
    assert!(row.get("code_sha256").is_none(), "{row}");
}

/// Two hosts on one database: two journals on the same schema.
async fn two_pg_hosts() -> (PgJournal, PgJournal) {
    let schema = pg_schema();
    (pg_journal(&schema).await, pg_journal(&schema).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run under scripts/postgres.sh"]
async fn pg_a_claim_held_by_one_host_is_not_granted_to_another_until_its_lease_ends() {
    let (a, b) = two_pg_hosts().await;
    let short = std::time::Duration::from_millis(800);
    let exec = create(&a, new_execution("f", None, "{}")).await;
    a.apply(
        &exec.arn,
        Batch {
            set_timers: vec![timer(TimerKind::WaitEnd, Some("1"), 5_000)],
            ..Batch::default()
        },
    )
    .await
    .expect("timer");

    let by_a = a
        .claim_runnable("host-a", short, 10)
        .await
        .expect("claim a");
    assert_eq!(by_a.len(), 1);
    assert_eq!(by_a[0].item.arn, exec.arn);
    let timers_a = a
        .claim_due_timers("host-a", now_ms(), short, 10)
        .await
        .expect("timers a");
    assert_eq!(timers_a.len(), 1);
    // Held by host-a: host-b gets neither the execution nor its timer.
    assert!(
        b.claim_runnable("host-b", short, 10)
            .await
            .expect("b")
            .is_empty()
    );
    assert!(
        b.claim_due_timers("host-b", now_ms(), short, 10)
            .await
            .expect("timers b")
            .is_empty()
    );
    assert!(
        !b.lease_execution("host-b", &exec.arn, short)
            .await
            .expect("lease b")
    );
    // host-a renews: still its own.
    assert!(
        a.lease_execution("host-a", &exec.arn, short)
            .await
            .expect("renew")
    );
    assert!(
        b.claim_runnable("host-b", short, 10)
            .await
            .expect("b")
            .is_empty()
    );

    // After the lease ends, host-b is granted both.
    tokio::time::sleep(short + std::time::Duration::from_millis(300)).await;
    let by_b = b
        .claim_runnable("host-b", short, 10)
        .await
        .expect("claim b");
    assert_eq!(by_b.len(), 1);
    assert_eq!(by_b[0].owner, "host-b");
    let timers_b = b
        .claim_due_timers("host-b", now_ms(), short, 10)
        .await
        .expect("timers b");
    assert_eq!(timers_b.len(), 1);
    assert!(
        a.claim_runnable("host-a", short, 10)
            .await
            .expect("a")
            .is_empty()
    );

    // A released lease is free at once.
    b.release_execution("host-b", &exec.arn)
        .await
        .expect("release");
    assert!(
        a.lease_execution("host-a", &exec.arn, short)
            .await
            .expect("take")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run under scripts/postgres.sh"]
async fn pg_a_write_fenced_by_a_host_whose_lease_was_taken_over_is_rejected() {
    let (a, b) = two_pg_hosts().await;
    let short = std::time::Duration::from_millis(300);
    let exec = create(&a, new_execution("f", None, "{}")).await;
    assert!(
        a.lease_execution("host-a", &exec.arn, short)
            .await
            .expect("a")
    );
    let fenced = |owner: &str, op: &Operation| Batch {
        operations: vec![op.clone()],
        events: vec![event(EventType::StepSucceeded, op)],
        fence: Some(owner.to_owned()),
        ..Batch::default()
    };
    // While host-a holds the lease, its fenced writes go through.
    let one = step("1", OperationStatus::Succeeded);
    assert_eq!(
        a.apply(&exec.arn, fenced("host-a", &one))
            .await
            .expect("a writes"),
        [2]
    );
    // host-b takes over after the lease ends.
    tokio::time::sleep(short + std::time::Duration::from_millis(200)).await;
    assert!(
        b.lease_execution("host-b", &exec.arn, short * 10)
            .await
            .expect("b")
    );
    let two = step("2", OperationStatus::Succeeded);
    let err = a
        .apply(&exec.arn, fenced("host-a", &two))
        .await
        .expect_err("host-a lost its lease");
    assert_eq!(
        err,
        JournalError::LeaseLost {
            arn: exec.arn.clone(),
            owner: "host-a".into(),
            holder: "host-b".into(),
        }
    );
    assert!(!err.is_storage());
    // Nothing of the rejected write is stored; host-b writes on.
    let state = b.load_state(&exec.arn).await.expect("state");
    assert_eq!(state.execution.last_event_id, 2);
    assert_eq!(state.operations.len(), 1);
    assert_eq!(
        b.apply(&exec.arn, fenced("host-b", &two))
            .await
            .expect("b writes"),
        [3]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run under scripts/postgres.sh"]
async fn pg_concurrent_claims_of_two_hosts_never_share_an_execution() {
    let (a, b) = two_pg_hosts().await;
    let lease = std::time::Duration::from_secs(30);
    let mut all = Vec::new();
    for _ in 0..40 {
        all.push(create(&a, new_execution("f", None, "{}")).await.arn);
    }
    let mut got_a = Vec::new();
    let mut got_b = Vec::new();
    for _ in 0..10 {
        let (ca, cb) = tokio::join!(
            a.claim_runnable("host-a", lease, 3),
            b.claim_runnable("host-b", lease, 3)
        );
        got_a.extend(ca.expect("a").into_iter().map(|c| c.item.arn));
        got_b.extend(cb.expect("b").into_iter().map(|c| c.item.arn));
    }
    // host-a re-grants itself what it holds, so dedup its own list.
    got_a.sort();
    got_a.dedup();
    got_b.sort();
    got_b.dedup();
    assert!(
        got_a.iter().all(|arn| !got_b.contains(arn)),
        "{got_a:?} {got_b:?}"
    );
    let mut union: Vec<String> = got_a.iter().chain(&got_b).cloned().collect();
    union.sort();
    all.sort();
    assert!(union.iter().all(|arn| all.contains(arn)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run under scripts/postgres.sh"]
async fn pg_migrations_run_once_and_an_unreachable_database_is_a_clear_open_error() {
    let schema = pg_schema();
    drop(pg_journal(&schema).await);
    let again = pg_journal(&schema).await;
    let versions = again
        .read("SELECT version FROM lamina_schema ORDER BY version", &[])
        .await
        .expect("versions");
    let versions: Vec<i64> = versions.iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, [PG_SCHEMA_VERSION]);

    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let err = PgJournal::open(&format!("postgres://lamina:secret@127.0.0.1:{port}/x"))
        .await
        .expect_err("unreachable");
    let message = err.to_string();
    assert!(matches!(err, OpenError::Unreachable { .. }), "{err:?}");
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(!message.contains("secret"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run under scripts/postgres.sh"]
async fn pg_a_queued_event_claimed_by_one_host_is_not_run_by_another() {
    let (a, b) = two_pg_hosts().await;
    let short = std::time::Duration::from_millis(500);
    let id = a
        .queue_event(queued("f", b"{}", 1_000))
        .await
        .expect("queue");
    assert!(a.claim_queued_event("host-a", id, short).await.expect("a"));
    assert!(!b.claim_queued_event("host-b", id, short).await.expect("b"));
    // host-a may claim it again (a retry), host-b once the claim ends.
    assert!(
        a.claim_queued_event("host-a", id, short)
            .await
            .expect("a again")
    );
    tokio::time::sleep(short + std::time::Duration::from_millis(200)).await;
    assert!(
        b.claim_queued_event("host-b", id, short)
            .await
            .expect("b later")
    );
    assert!(
        !a.claim_queued_event("host-a", id, short)
            .await
            .expect("a later")
    );
    // The journals of one process grant every claim.
    let memory = MemoryJournal::new();
    assert!(
        memory
            .claim_queued_event("x", 1, short)
            .await
            .expect("memory")
    );
}
