//! Fuzz target over the journal's batch application: random sequences of
//! creates, valid and invalid batches and reopens, applied to a real redb
//! journal in a temp dir and checked after every step against a small model
//! of what the journal must hold:
//!
//! - a batch is accepted or rejected (and with which error) as the rules in
//!   [`Batch`] and [`Journal::apply`] say, and a rejected batch changes
//!   nothing;
//! - the event ids an accepted batch gets continue the execution's history
//!   without gaps, and the history's ids strictly increase from 1;
//! - operations keep their first-recorded `seq`, timers and callbacks are
//!   those the batches set and did not clear, ended executions hold no
//!   timers, the recovery set is the running executions with the
//!   invocation flag;
//! - batches queued back to back (committed together by the group commit)
//!   are each accepted or rejected alone, as if applied one after another;
//! - reopening the file gives the same state.
//!
//! No step may panic or stop the writer. Run at length with `scripts/fuzz.sh`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::fuzz::run;

/// Default sequences in the normal test run (each opens a journal and
/// commits up to ~20 fsynced transactions).
const CASES: u32 = 24;

/// Executions a sequence creates; slot `SLOTS` is never created (an
/// unknown ARN).
const SLOTS: usize = 3;

/// Operation ids: the empty one is invalid.
const OP_IDS: [&str; 4] = ["", "1", "2", "3"];

/// Execution inputs: the first two are the same JSON value.
const INPUTS: [&str; 4] = ["{}", "{ }", "\"x\"", "not json"];

fn arn(slot: usize) -> String {
    format!("arn:lamina:durable:fuzz:{slot}")
}

/// A batch as the fuzzer draws it (indices into the small value sets, so
/// that batches collide on ids, slots and callbacks).
#[derive(Debug, Clone)]
struct BatchSpec {
    ops: Vec<(usize, usize, usize, Option<String>)>,
    events: Vec<(usize, Option<usize>)>,
    status: Option<usize>,
    result: Option<String>,
    in_progress: Option<bool>,
    clear: Vec<(usize, Option<usize>)>,
    set: Vec<(usize, Option<usize>, u64)>,
    remove_callbacks: Vec<usize>,
    add_callbacks: Vec<(usize, usize)>,
    allow_after_end: bool,
}

/// One step of a sequence.
#[derive(Debug, Clone)]
enum Step {
    Create {
        slot: usize,
        name: Option<usize>,
        input: usize,
        deadline: Option<u64>,
        in_progress: bool,
    },
    Apply {
        slot: usize,
        batch: BatchSpec,
    },
    /// Batches queued back to back with [`Journal::enqueue`], so that the
    /// writer commits several in one transaction: each must be accepted or
    /// rejected alone, as if applied one after another.
    Group(Vec<(usize, BatchSpec)>),
    Reopen,
}

fn op_index() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0usize), 8 => 1usize..4]
}

fn batch_spec() -> impl Strategy<Value = BatchSpec> {
    (
        vec(
            (
                op_index(),
                0..OperationType::ALL.len(),
                0..OperationStatus::ALL.len(),
                proptest::option::of("[a-z\"0-9]{0,6}"),
            ),
            0..4,
        ),
        vec(
            (0..EventType::ALL.len(), proptest::option::of(1usize..4)),
            0..4,
        ),
        proptest::option::weighted(0.2, 0..ExecutionStatus::ALL.len()),
        proptest::option::of("[a-z0-9\"]{0,6}"),
        proptest::option::of(any::<bool>()),
        vec(
            (0..TimerKind::ALL.len(), proptest::option::of(1usize..4)),
            0..3,
        ),
        vec(
            (
                0..TimerKind::ALL.len(),
                proptest::option::of(1usize..4),
                1u64..1_000_000,
            ),
            0..3,
        ),
        vec(0usize..3, 0..2),
        vec((0usize..3, 1usize..4), 0..3),
        proptest::bool::weighted(0.3),
    )
        .prop_map(
            |(
                ops,
                events,
                status,
                result,
                in_progress,
                clear,
                set,
                remove_callbacks,
                add_callbacks,
                allow_after_end,
            )| BatchSpec {
                ops,
                events,
                status,
                result,
                in_progress,
                clear,
                set,
                remove_callbacks,
                add_callbacks,
                allow_after_end,
            },
        )
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => (
            0..=SLOTS,
            proptest::option::of(0usize..2),
            0..INPUTS.len(),
            proptest::option::weighted(0.3, 1u64..1_000_000),
            any::<bool>(),
        )
            .prop_map(|(slot, name, input, deadline, in_progress)| Step::Create {
                slot: slot.min(SLOTS - 1),
                name,
                input,
                deadline,
                in_progress,
            }),
        8 => (0..=SLOTS, batch_spec()).prop_map(|(slot, batch)| Step::Apply { slot, batch }),
        2 => vec((0..=SLOTS, batch_spec()), 2..6).prop_map(Step::Group),
        1 => Just(Step::Reopen),
    ]
}

fn callback_id(i: usize) -> String {
    format!("cb-{i}")
}

impl BatchSpec {
    fn build(&self) -> Batch {
        let operations = self
            .ops
            .iter()
            .map(|(id, t, s, result)| Operation {
                result: result.clone(),
                ..Operation::new(
                    OP_IDS[*id],
                    OperationType::ALL[*t],
                    OperationStatus::ALL[*s],
                    5,
                )
            })
            .collect();
        let events = self
            .events
            .iter()
            .map(|(t, op)| NewEvent {
                id: op.map(|i| OP_IDS[i].to_string()),
                ..NewEvent::new(EventType::ALL[*t]).with_details(json!({ "n": t }))
            })
            .collect();
        Batch {
            operations,
            events,
            execution: ExecutionUpdate {
                status: self.status.map(|i| ExecutionStatus::ALL[i]),
                result: self.result.clone(),
                invocation_in_progress: self.in_progress,
                ..ExecutionUpdate::default()
            },
            clear_timers: self
                .clear
                .iter()
                .map(|(k, op)| TimerRef {
                    kind: TimerKind::ALL[*k],
                    op_id: op.map(|i| OP_IDS[i].to_string()),
                })
                .collect(),
            set_timers: self
                .set
                .iter()
                .map(|(k, op, due)| TimerSpec {
                    kind: TimerKind::ALL[*k],
                    op_id: op.map(|i| OP_IDS[i].to_string()),
                    due_ms: *due,
                })
                .collect(),
            remove_callbacks: self
                .remove_callbacks
                .iter()
                .map(|&i| callback_id(i))
                .collect(),
            add_callbacks: self
                .add_callbacks
                .iter()
                .map(|&(cb, op)| CallbackRegistration {
                    callback_id: callback_id(cb),
                    op_id: OP_IDS[op].to_string(),
                })
                .collect(),
            allow_after_end: self.allow_after_end,
            expect: None,
            fence: None,
        }
    }
}

/// What one execution must hold.
#[derive(Debug, Clone)]
struct ModelExec {
    status: ExecutionStatus,
    result: Option<String>,
    in_progress: bool,
    /// Operations in `seq` order.
    ops: Vec<Operation>,
    /// (type, operation id) of every event, id = index + 1.
    events: Vec<(EventType, Option<String>)>,
    timers: HashMap<(TimerKind, Option<String>), u64>,
}

/// What the journal must hold.
#[derive(Debug, Clone, Default)]
struct Model {
    execs: BTreeMap<usize, ModelExec>,
    names: BTreeMap<usize, (usize, String)>,
    callbacks: BTreeMap<String, (usize, String)>,
}

/// The first error `apply` must give, by name, or `None` to accept.
fn expected_rejection(model: &Model, slot: usize, batch: &Batch) -> Option<&'static str> {
    let Some(exec) = model.execs.get(&slot) else {
        return Some("ExecutionNotFound");
    };
    if exec.status.is_terminal() {
        let forbidden = batch.execution.status.is_some()
            || !batch.set_timers.is_empty()
            || !batch.add_callbacks.is_empty();
        if !batch.allow_after_end || forbidden {
            return Some("ExecutionEnded");
        }
    }
    for r in &batch.add_callbacks {
        if let Some(owner) = model.callbacks.get(&r.callback_id)
            && *owner != (slot, r.op_id.clone())
        {
            return Some("CallbackIdInUse");
        }
    }
    if batch.operations.iter().any(|o| o.id.is_empty()) {
        return Some("Invalid");
    }
    None
}

fn error_name(e: &JournalError) -> &'static str {
    match e {
        JournalError::ExecutionNotFound { .. } => "ExecutionNotFound",
        JournalError::ExecutionExists { .. } => "ExecutionExists",
        JournalError::ExecutionEnded { .. } => "ExecutionEnded",
        JournalError::CallbackIdInUse { .. } => "CallbackIdInUse",
        JournalError::Invalid(_) => "Invalid",
        _ => "other",
    }
}

/// Applies an accepted batch to the model.
fn model_apply(model: &mut Model, slot: usize, batch: &Batch) {
    let Some(exec) = model.execs.get_mut(&slot) else {
        return;
    };
    for op in &batch.operations {
        match exec.ops.iter_mut().find(|o| o.id == op.id) {
            Some(stored) => {
                *stored = Operation {
                    seq: stored.seq,
                    ..op.clone()
                }
            }
            None => {
                let seq = exec.ops.len() as u64;
                exec.ops.push(Operation { seq, ..op.clone() });
            }
        }
    }
    for e in &batch.events {
        exec.events.push((e.event_type, e.id.clone()));
    }
    if let Some(s) = batch.execution.status {
        exec.status = s;
    }
    if let Some(r) = &batch.execution.result {
        exec.result = Some(r.clone());
    }
    if let Some(f) = batch.execution.invocation_in_progress {
        exec.in_progress = f;
    }
    if exec.status.is_terminal() {
        exec.timers.clear();
    } else {
        for c in &batch.clear_timers {
            exec.timers.remove(&(c.kind, c.op_id.clone()));
        }
        for s in &batch.set_timers {
            exec.timers.insert((s.kind, s.op_id.clone()), s.due_ms);
        }
    }
    for id in &batch.remove_callbacks {
        model.callbacks.remove(id);
    }
    for r in &batch.add_callbacks {
        model
            .callbacks
            .insert(r.callback_id.clone(), (slot, r.op_id.clone()));
    }
}

/// One stored execution: the row, its input, operations and history.
type StoredExecution = (Execution, String, Vec<Operation>, Vec<HistoryEvent>);

/// Everything the journal answers about the sequence's executions, for
/// comparing before and after a rejected batch or a reopen.
#[derive(Debug, PartialEq)]
struct Snapshot {
    execs: Vec<Option<StoredExecution>>,
    timers: Vec<Timer>,
    callbacks: Vec<Option<CallbackRef>>,
    recovery: Vec<String>,
}

async fn snapshot(j: &dyn Journal) -> Result<Snapshot> {
    let mut execs = Vec::new();
    for slot in 0..=SLOTS {
        let a = arn(slot);
        execs.push(match j.get_execution(&a).await? {
            None => None,
            Some(e) => {
                let state = j.load_state(&a).await?;
                let history = j.history(&a, 0, 10_000).await?;
                Some((e, state.input, state.operations, history))
            }
        });
    }
    let mut callbacks = Vec::new();
    for i in 0..3 {
        callbacks.push(j.callback(&callback_id(i)).await?);
    }
    let mut recovery: Vec<String> = j
        .executions_needing_recovery()
        .await?
        .into_iter()
        .map(|e| e.arn)
        .collect();
    recovery.sort();
    Ok(Snapshot {
        execs,
        timers: j.due_timers(u64::MAX, 10_000).await?,
        callbacks,
        recovery,
    })
}

/// Checks the journal's snapshot against the model.
fn check(model: &Model, snap: &Snapshot) -> std::result::Result<(), TestCaseError> {
    for slot in 0..=SLOTS {
        let stored = &snap.execs[slot];
        let Some(m) = model.execs.get(&slot) else {
            prop_assert!(
                stored.is_none(),
                "slot {} exists but was never created",
                slot
            );
            continue;
        };
        let Some((e, _input, ops, history)) = stored else {
            return Err(TestCaseError::fail(format!("execution {slot} vanished")));
        };
        prop_assert_eq!(e.status, m.status);
        prop_assert_eq!(&e.result, &m.result);
        prop_assert_eq!(e.invocation_in_progress, m.in_progress);
        prop_assert_eq!(e.status.is_terminal(), e.end_ms.is_some());
        prop_assert_eq!(ops, &m.ops);
        prop_assert_eq!(e.operation_count, m.ops.len() as u64);
        prop_assert_eq!(e.last_event_id, m.events.len() as u64);
        prop_assert_eq!(history.len(), m.events.len());
        for (i, (h, (t, id))) in history.iter().zip(&m.events).enumerate() {
            prop_assert_eq!(h.event_id, i as u64 + 1, "event ids must run 1, 2, ...");
            prop_assert_eq!((h.event_type, &h.id), (*t, id));
        }
        let mut timers: Vec<(TimerKind, Option<String>, u64)> = snap
            .timers
            .iter()
            .filter(|t| t.arn == arn(slot))
            .map(|t| (t.kind, t.op_id.clone(), t.due_ms))
            .collect();
        timers.sort_by(|a, b| (a.0.as_str(), &a.1, a.2).cmp(&(b.0.as_str(), &b.1, b.2)));
        let mut expected: Vec<(TimerKind, Option<String>, u64)> = m
            .timers
            .iter()
            .map(|((k, op), due)| (*k, op.clone(), *due))
            .collect();
        expected.sort_by(|a, b| (a.0.as_str(), &a.1, a.2).cmp(&(b.0.as_str(), &b.1, b.2)));
        prop_assert_eq!(timers, expected, "timers of slot {}", slot);
    }
    prop_assert!(
        snap.timers.windows(2).all(|w| w[0].due_ms <= w[1].due_ms),
        "due timers out of order"
    );
    for (i, found) in snap.callbacks.iter().enumerate() {
        let expected = model
            .callbacks
            .get(&callback_id(i))
            .map(|(s, op)| CallbackRef {
                arn: arn(*s),
                op_id: op.clone(),
            });
        prop_assert_eq!(found, &expected, "callback {}", i);
    }
    let mut recovery: Vec<String> = model
        .execs
        .iter()
        .filter(|(_, m)| m.status == ExecutionStatus::Running && m.in_progress)
        .map(|(s, _)| arn(*s))
        .collect();
    recovery.sort();
    prop_assert_eq!(&snap.recovery, &recovery);
    Ok(())
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// The most requests the writer committed in one transaction, over all
/// sequences (to show that queued groups really were committed together).
static LARGEST_GROUP: AtomicU64 = AtomicU64::new(0);

/// Opens the fuzzed journal: redb on `dir`, or (`memory`) a new in-memory one.
fn open(dir: &tempfile::TempDir, memory: bool) -> Result<Box<dyn Journal>, TestCaseError> {
    if memory {
        Ok(Box::new(MemoryJournal::new()))
    } else {
        Ok(Box::new(RedbJournal::open_in(dir.path()).map_err(fail)?))
    }
}

/// Closes and reopens the fuzzed journal (the memory journal stays as it is).
fn reopen(
    dir: &tempfile::TempDir,
    journal: Box<dyn Journal>,
    memory: bool,
) -> Result<Box<dyn Journal>, TestCaseError> {
    if memory {
        return Ok(journal);
    }
    drop(journal);
    open(dir, memory)
}

/// Runs one sequence on a fresh journal (redb, or in memory with `memory`).
async fn sequence(steps: Vec<Step>, memory: bool) -> std::result::Result<(), TestCaseError> {
    let dir = tempfile::tempdir().map_err(fail)?;
    let mut journal = Some(open(&dir, memory)?);
    let mut model = Model::default();
    for (i, step) in steps.into_iter().enumerate() {
        let j = &**journal.as_ref().ok_or_else(|| fail("no journal"))?;
        let before = snapshot(j).await.map_err(fail)?;
        match step {
            Step::Reopen => {
                let old = journal.take().ok_or_else(|| fail("no journal"))?;
                let j = reopen(&dir, old, memory)?;
                let after = snapshot(&*j).await.map_err(fail)?;
                prop_assert_eq!(&after, &before, "step {}: reopening changed the state", i);
                journal = Some(j);
            }
            Step::Create {
                slot,
                name,
                input,
                deadline,
                in_progress,
            } => {
                let name_text = name.map(|n| format!("name-{n}"));
                let new = NewExecution {
                    arn: arn(slot),
                    function: "fuzz".into(),
                    name: name_text.clone(),
                    input: INPUTS[input].into(),
                    start_ms: 1_000,
                    deadline_ms: deadline,
                    invocation_in_progress: in_progress,
                    operations: vec![],
                    events: vec![NewEvent::new(EventType::ExecutionStarted)],
                    code_sha256: None,
                };
                let outcome = j.create_execution(new).await;
                let owner = name.and_then(|n| model.names.get(&n).cloned());
                match (model.execs.contains_key(&slot), owner, outcome) {
                    (true, _, Err(JournalError::ExecutionExists { .. })) => {}
                    (false, Some((other, stored)), Ok(outcome)) => {
                        let same = stored == INPUTS[input]
                            || (stored.starts_with('{') && INPUTS[input].starts_with('{'));
                        let (CreateOutcome::Existing(e) | CreateOutcome::NameConflict(e)) =
                            &outcome
                        else {
                            return Err(fail(format!("step {i}: created over a taken name")));
                        };
                        prop_assert_eq!(&e.arn, &arn(other));
                        prop_assert_eq!(matches!(outcome, CreateOutcome::Existing(_)), same);
                    }
                    (false, None, Ok(CreateOutcome::Created(e))) => {
                        prop_assert_eq!(e.last_event_id, 1);
                        let mut timers = HashMap::new();
                        if let Some(due) = deadline {
                            timers.insert((TimerKind::ExecutionTimeout, None), due);
                        }
                        model.execs.insert(
                            slot,
                            ModelExec {
                                status: ExecutionStatus::Running,
                                result: None,
                                in_progress,
                                ops: vec![],
                                events: vec![(EventType::ExecutionStarted, None)],
                                timers,
                            },
                        );
                        if let Some(n) = name {
                            model.names.insert(n, (slot, INPUTS[input].to_string()));
                        }
                    }
                    (exists, owner, outcome) => {
                        return Err(fail(format!(
                            "step {i}: create of slot {slot} (exists: {exists}, name owner: \
                             {owner:?}) answered {outcome:?}"
                        )));
                    }
                }
                let after = snapshot(j).await.map_err(fail)?;
                check(&model, &after)?;
            }
            Step::Group(group) => {
                let batches: Vec<(usize, Batch)> =
                    group.iter().map(|(slot, b)| (*slot, b.build())).collect();
                let arns: Vec<String> = batches.iter().map(|(slot, _)| arn(*slot)).collect();
                let mut queued = Vec::new();
                for ((_, batch), a) in batches.iter().zip(&arns) {
                    queued.push(j.enqueue(a, batch.clone()).await.map_err(fail)?);
                }
                for ((slot, batch), q) in batches.iter().zip(queued) {
                    let last = model.execs.get(slot).map(|e| e.events.len() as u64);
                    let expected = expected_rejection(&model, *slot, batch);
                    match (expected, q.committed().await) {
                        (None, Ok(ids)) => {
                            let first = last.unwrap_or(0) + 1;
                            let want: Vec<u64> =
                                (first..first + batch.events.len() as u64).collect();
                            prop_assert_eq!(ids, want, "step {}: queued event ids", i);
                            model_apply(&mut model, *slot, batch);
                        }
                        (Some(kind), Err(e)) => {
                            prop_assert_eq!(error_name(&e), kind, "step {}: {}", i, e);
                        }
                        (expected, outcome) => {
                            return Err(fail(format!(
                                "step {i}: queued batch expected {expected:?}, got {outcome:?} \
                                 for {batch:?}"
                            )));
                        }
                    }
                }
                LARGEST_GROUP.fetch_max(j.stats().largest_group, Ordering::Relaxed);
                let after = snapshot(j).await.map_err(fail)?;
                check(&model, &after)?;
            }
            Step::Apply { slot, batch } => {
                let batch = batch.build();
                let last = model.execs.get(&slot).map(|e| e.events.len() as u64);
                let expected = expected_rejection(&model, slot, &batch);
                let outcome = j.apply(&arn(slot), batch.clone()).await;
                let after = snapshot(j).await.map_err(fail)?;
                match (expected, outcome) {
                    (None, Ok(ids)) => {
                        let first = last.unwrap_or(0) + 1;
                        let want: Vec<u64> = (first..first + batch.events.len() as u64).collect();
                        prop_assert_eq!(ids, want, "step {}: event ids", i);
                        model_apply(&mut model, slot, &batch);
                    }
                    (Some(kind), Err(e)) => {
                        prop_assert_eq!(error_name(&e), kind, "step {}: {}", i, e);
                        prop_assert_eq!(&after, &before, "step {}: a rejected batch wrote", i);
                    }
                    (expected, outcome) => {
                        return Err(fail(format!(
                            "step {i}: expected {expected:?}, got {outcome:?} for {batch:?}"
                        )));
                    }
                }
                check(&model, &after)?;
            }
        }
    }
    // The final state survives a reopen too.
    let j = journal.take().ok_or_else(|| fail("no journal"))?;
    let before = snapshot(&*j).await.map_err(fail)?;
    let j = reopen(&dir, j, memory)?;
    prop_assert_eq!(snapshot(&*j).await.map_err(fail)?, before);
    Ok(())
}

#[test]
fn fuzz_batch_sequences_keep_the_journal_consistent() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    run("journal-batches", CASES, vec(step(), 1..24), |steps| {
        rt.block_on(sequence(steps, false))
    });
    eprintln!(
        "fuzz journal-batches: largest group commit {}",
        LARGEST_GROUP.load(Ordering::Relaxed)
    );
}

#[test]
fn fuzz_batch_sequences_keep_the_memory_journal_consistent() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    run(
        "journal-batches-memory",
        CASES,
        vec(step(), 1..24),
        |steps| rt.block_on(sequence(steps, true)),
    );
}
