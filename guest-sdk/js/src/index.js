// lamina-sdk: durable functions with the API of the AWS Durable Execution SDK
// for JavaScript (@aws/durable-execution-sdk-js), on Lamina's WIT worlds.
export { withDurableExecution, runDurable, isDurableHandler } from "./durable.js";
export { DurableContext, DurablePromise, StepSemantics, CHECKPOINT_SIZE_LIMIT_BYTES, passThroughSerdes } from "./context.js";
export {
  BatchItemStatus, BatchResult, CompletionOutcome, NestingType, completeBatch, continueBatch,
} from "./batch.js";
export {
  DurableOperationError, StepError, CallbackError, CallbackExternalError, CallbackTimeoutError, CallbackSubmitterError,
  InvokeError, ChildContextError, WaitForConditionError, PromiseCombinatorError, BatchCompletionError,
  StepInterruptedError, NonDeterministicExecutionError, JournalError,
} from "./errors.js";
export { JitterStrategy } from "./duration.js";
export { createRetryStrategy, createLinearRetryStrategy, retryPresets, createWaitStrategy, withRetry } from "./retry.js";
export { defaultSerdes, createClassSerdes, createClassSerdesWithDates } from "./serdes.js";
export { InMemoryJournal } from "./memory.js";
export { runHandler, lambdaContext, HandlerError } from "./handler.js";

/** Operation sub-types as the journal records them. */
export const OperationSubType = Object.freeze({
  STEP: "Step", WAIT: "Wait", CALLBACK: "Callback", RUN_IN_CHILD_CONTEXT: "RunInChildContext", MAP: "Map",
  MAP_ITERATION: "MapIteration", PARALLEL: "Parallel", PARALLEL_BRANCH: "ParallelBranch",
  WAIT_FOR_CALLBACK: "WaitForCallback", WAIT_FOR_CONDITION: "WaitForCondition", CHAINED_INVOKE: "ChainedInvoke",
});
/** How an invocation ended. */
export const InvocationStatus = Object.freeze({ SUCCEEDED: "SUCCEEDED", FAILED: "FAILED", PENDING: "PENDING" });
