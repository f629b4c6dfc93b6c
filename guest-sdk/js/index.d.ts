// TypeScript types of lamina-sdk: the public API of the AWS Durable Execution
// SDK for JavaScript (@aws/durable-execution-sdk-js) as Lamina provides it.

/** A length of time; at least one field. */
export type Duration =
  | { days: number; hours?: number; minutes?: number; seconds?: number }
  | { hours: number; minutes?: number; seconds?: number }
  | { minutes: number; seconds?: number }
  | { seconds: number };

/** Where a value is journaled (operation id and execution ARN). */
export interface SerdesContext { entityId: string; durableExecutionArn: string }
/** Turns values into journal text and back. */
export interface Serdes<T> {
  serialize: (value: T | undefined, context: SerdesContext) => Promise<string | undefined>;
  deserialize: (data: string | undefined, context: SerdesContext) => Promise<T | undefined>;
}
export type AnySerdes = Serdes<any>;
export type AnySerdesDeserializer = Pick<AnySerdes, "deserialize">;
export interface SerdesConfig { defaultSerdes?: AnySerdes; defaultCallbackDeserializer?: AnySerdesDeserializer }
export declare const defaultSerdes: Serdes<any>;
export declare const passThroughSerdes: Serdes<any>;
export declare function createClassSerdes<T extends object>(cls: new () => T): Serdes<T>;
export declare function createClassSerdesWithDates<T extends object>(cls: new () => T, dateProps: string[]): Serdes<T>;

export declare enum StepSemantics { AtMostOncePerRetry = "AT_MOST_ONCE_PER_RETRY", AtLeastOncePerRetry = "AT_LEAST_ONCE_PER_RETRY" }
export declare enum JitterStrategy { NONE = "NONE", FULL = "FULL", HALF = "HALF" }
export interface RetryDecision { shouldRetry: boolean; delay?: Duration }
export type RetryStrategy = (error: Error, attemptCount: number) => RetryDecision;

export interface DurableLogger {
  log?(level: "INFO" | "WARN" | "ERROR" | "DEBUG", ...params: any): void;
  error(...params: any): void;
  warn(...params: any): void;
  info(...params: any): void;
  debug(...params: any): void;
}
export type DurableContextLogger<L extends DurableLogger = DurableLogger> = Pick<L, "log" | "warn" | "info" | "error" | "debug">;
export interface LoggerConfig<L extends DurableLogger = DurableLogger> { customLogger?: L; modeAware?: boolean }
export interface StepContext<L extends DurableLogger = DurableLogger> { logger: DurableContextLogger<L>; attempt: number }
export interface WaitForConditionContext<L extends DurableLogger = DurableLogger> { logger: DurableContextLogger<L>; attempt: number }
export interface WaitForCallbackContext<L extends DurableLogger = DurableLogger> { logger: DurableContextLogger<L> }

export interface StepConfig<T> { retryStrategy?: RetryStrategy; semantics?: StepSemantics; serdes?: Serdes<T> }
export type StepFunc<T, L extends DurableLogger = DurableLogger> = (context: StepContext<L>) => Promise<T>;
export interface ChildConfig<T> {
  serdes?: Serdes<T>;
  subType?: string;
  summaryGenerator?: (result: T) => string;
  errorMapper?: (originalError: DurableOperationError) => DurableOperationError;
  virtualContext?: boolean;
}
export type ChildFunc<T, L extends DurableLogger = DurableLogger> = (context: DurableContext<L>) => Promise<T>;
export interface CreateCallbackConfig<T = string> { timeout?: Duration; heartbeatTimeout?: Duration; serdes?: Omit<Serdes<T>, "serialize"> }
export interface WaitForCallbackConfig<T = string> extends CreateCallbackConfig<T> { retryStrategy?: RetryStrategy }
export type CreateCallbackResult<T = string> = [DurablePromise<T>, string];
export type WaitForCallbackSubmitterFunc<L extends DurableLogger = DurableLogger> = (callbackId: string, context: WaitForCallbackContext<L>) => Promise<void>;
export type WaitForConditionDecision = { shouldContinue: true; delay: Duration } | { shouldContinue: false };
export type WaitForConditionWaitStrategyFunc<T> = (state: T, attempt: number) => WaitForConditionDecision;
export type WaitForConditionCheckFunc<T, L extends DurableLogger = DurableLogger> = (state: T, context: WaitForConditionContext<L>) => Promise<T>;
export interface WaitForConditionConfig<T> { waitStrategy: WaitForConditionWaitStrategyFunc<T>; initialState: T; serdes?: Serdes<T> }
export interface InvokeConfig<I, O> { payloadSerdes?: Serdes<I>; resultSerdes?: Serdes<O>; tenantId?: string }

export declare enum NestingType { NESTED = "NESTED", FLAT = "FLAT" }
export declare enum BatchItemStatus { SUCCEEDED = "SUCCEEDED", FAILED = "FAILED", STARTED = "STARTED" }
export declare enum CompletionOutcome { SUCCEEDED = "SUCCEEDED", FAILED = "FAILED" }
export type CompletionReason = "ALL_COMPLETED" | "MIN_SUCCESSFUL_REACHED" | "FAILURE_TOLERANCE_EXCEEDED" | "CUSTOM_COMPLETION_SUCCEEDED" | "CUSTOM_COMPLETION_FAILED";
export interface BatchItem<T> { result?: T; error?: ChildContextError; index: number; status: BatchItemStatus }
export interface BatchResult<T> {
  all: Array<BatchItem<T>>;
  succeeded(): Array<BatchItem<T> & { result: T }>;
  failed(): Array<BatchItem<T> & { error: ChildContextError }>;
  started(): Array<BatchItem<T> & { status: BatchItemStatus.STARTED }>;
  status: BatchItemStatus.SUCCEEDED | BatchItemStatus.FAILED;
  completionReason: CompletionReason;
  hasFailure: boolean;
  throwIfError(): void;
  getResults(): T[];
  getErrors(): ChildContextError[];
  successCount: number;
  failureCount: number;
  startedCount: number;
  totalCount: number;
}
export type CompletionDecision = { complete: false } | { complete: true; outcome?: CompletionOutcome };
export declare const continueBatch: () => CompletionDecision;
export declare const completeBatch: (outcome?: CompletionOutcome) => CompletionDecision;
export interface CompletionItemStatus { index: number; name?: string; status?: BatchItemStatus }
export interface CompletionStatus { successCount: number; failureCount: number; completedCount: number; totalCount: number; items: readonly CompletionItemStatus[] }
export interface ThresholdCompletionConfig { minSuccessful?: number; toleratedFailureCount?: number; toleratedFailurePercentage?: number; shouldComplete?: never }
export interface CustomCompletionConfig { shouldComplete: (status: CompletionStatus) => CompletionDecision; minSuccessful?: never; toleratedFailureCount?: never; toleratedFailurePercentage?: never }
export type CompletionConfig = ThresholdCompletionConfig | CustomCompletionConfig;
export type MapFunc<I, O, L extends DurableLogger = DurableLogger> = (context: DurableContext<L>, item: I, index: number, array: I[]) => Promise<O>;
export interface MapConfig<I, O> {
  maxConcurrency?: number;
  itemNamer?: (item: I, index: number) => string;
  serdes?: Serdes<BatchResult<O>>;
  itemSerdes?: Serdes<O>;
  completionConfig?: CompletionConfig;
  summaryGenerator?: (result: BatchResult<O>) => string;
  nesting?: NestingType;
}
export type ParallelFunc<T, L extends DurableLogger = DurableLogger> = (context: DurableContext<L>) => Promise<T>;
export interface NamedParallelBranch<T, L extends DurableLogger = DurableLogger> { name?: string; func: ParallelFunc<T, L> }
export interface ParallelConfig<T> {
  maxConcurrency?: number;
  serdes?: Serdes<BatchResult<T>>;
  itemSerdes?: Serdes<T>;
  completionConfig?: CompletionConfig;
  summaryGenerator?: (result: BatchResult<T>) => string;
  nesting?: NestingType;
}

/** A promise whose operation is already running; awaiting it gives its result. */
export declare class DurablePromise<T> implements Promise<T> {
  constructor(executor: () => Promise<T>);
  then<R1 = T, R2 = never>(onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null, onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null): Promise<R1 | R2>;
  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R>;
  finally(onfinally?: (() => void) | null): Promise<T>;
  get [Symbol.toStringTag](): string;
  get isExecuted(): boolean;
}

/** The Lambda context of a durable function on Lamina (functionName is set). */
export interface LambdaContext { functionName: string; awsRequestId?: string; getRemainingTimeInMillis(): number; [key: string]: unknown }

export interface DurableContext<L extends DurableLogger = DurableLogger> {
  lambdaContext: LambdaContext;
  logger: DurableContextLogger<L>;
  executionContext: { readonly durableExecutionArn: string };
  step<T>(name: string | undefined, fn: StepFunc<T, L>, config?: StepConfig<T>): DurablePromise<T>;
  step<T>(fn: StepFunc<T, L>, config?: StepConfig<T>): DurablePromise<T>;
  invoke<I, O>(name: string, funcId: string, input?: I, config?: InvokeConfig<I, O>): DurablePromise<O>;
  invoke<I, O>(funcId: string, input?: I, config?: InvokeConfig<I, O>): DurablePromise<O>;
  runInChildContext<T>(name: string | undefined, fn: ChildFunc<T, L>, config?: ChildConfig<T>): DurablePromise<T>;
  runInChildContext<T>(fn: ChildFunc<T, L>, config?: ChildConfig<T>): DurablePromise<T>;
  wait(name: string, duration: Duration): DurablePromise<void>;
  wait(duration: Duration): DurablePromise<void>;
  waitForCondition<T>(name: string | undefined, check: WaitForConditionCheckFunc<T, L>, config: WaitForConditionConfig<T>): DurablePromise<T>;
  waitForCondition<T>(check: WaitForConditionCheckFunc<T, L>, config: WaitForConditionConfig<T>): DurablePromise<T>;
  createCallback<T = string>(name: string | undefined, config?: CreateCallbackConfig<T>): DurablePromise<CreateCallbackResult<T>>;
  createCallback<T = string>(config?: CreateCallbackConfig<T>): DurablePromise<CreateCallbackResult<T>>;
  waitForCallback<T = string>(name: string | undefined, submitter: WaitForCallbackSubmitterFunc<L>, config?: WaitForCallbackConfig<T>): DurablePromise<T>;
  waitForCallback<T = string>(submitter: WaitForCallbackSubmitterFunc<L>, config?: WaitForCallbackConfig<T>): DurablePromise<T>;
  map<I, O>(name: string | undefined, items: I[], fn: MapFunc<I, O, L>, config?: MapConfig<I, O>): DurablePromise<BatchResult<O>>;
  map<I, O>(items: I[], fn: MapFunc<I, O, L>, config?: MapConfig<I, O>): DurablePromise<BatchResult<O>>;
  parallel<T>(name: string | undefined, branches: (ParallelFunc<T, L> | NamedParallelBranch<T, L>)[], config?: ParallelConfig<T>): DurablePromise<BatchResult<T>>;
  parallel<T>(branches: (ParallelFunc<T, L> | NamedParallelBranch<T, L>)[], config?: ParallelConfig<T>): DurablePromise<BatchResult<T>>;
  promise: {
    all<T>(name: string | undefined, promises: DurablePromise<T>[]): DurablePromise<T[]>;
    all<T>(promises: DurablePromise<T>[]): DurablePromise<T[]>;
    allSettled<T>(name: string | undefined, promises: DurablePromise<T>[]): DurablePromise<PromiseSettledResult<T>[]>;
    allSettled<T>(promises: DurablePromise<T>[]): DurablePromise<PromiseSettledResult<T>[]>;
    any<T>(name: string | undefined, promises: DurablePromise<T>[]): DurablePromise<T>;
    any<T>(promises: DurablePromise<T>[]): DurablePromise<T>;
    race<T>(name: string | undefined, promises: DurablePromise<T>[]): DurablePromise<T>;
    race<T>(promises: DurablePromise<T>[]): DurablePromise<T>;
  };
  configureLogger(config: LoggerConfig<L>): void;
  configureSerdes(config: SerdesConfig): void;
}

export type DurableExecutionHandler<E = any, R = any, L extends DurableLogger = DurableLogger> = (event: E, context: DurableContext<L>) => Promise<R>;
/** What withDurableExecution returns: export it as the module's `handler`. */
export type DurableLambdaHandler = (event: any, context: any) => Promise<any>;
export interface DurableExecutionConfig { client?: unknown; plugins?: unknown[] }
export declare function withDurableExecution<E = any, R = any, L extends DurableLogger = DurableLogger>(handler: DurableExecutionHandler<E, R, L>, config?: DurableExecutionConfig): DurableLambdaHandler;

export interface ErrorObject { ErrorType?: string; ErrorMessage?: string; ErrorData?: string; StackTrace?: string[] }
export declare abstract class DurableOperationError extends Error {
  readonly errorType: string;
  cause?: Error;
  errorData?: string;
  stackTrace?: string[];
  constructor(message: string, cause?: Error, errorData?: string);
  static fromErrorObject(errorObject: ErrorObject): DurableOperationError;
  toErrorObject(): ErrorObject;
}
export declare class StepError extends DurableOperationError { constructor(message?: string, cause?: Error, errorData?: string) }
export declare class CallbackError extends DurableOperationError { constructor(message?: string, cause?: Error, errorData?: string) }
export declare class CallbackExternalError extends CallbackError {}
export declare class CallbackTimeoutError extends CallbackError {}
export declare class CallbackSubmitterError extends CallbackError {}
export declare class InvokeError extends DurableOperationError { constructor(message?: string, cause?: Error, errorData?: string) }
export declare class ChildContextError extends DurableOperationError { constructor(message?: string, cause?: Error, errorData?: string) }
export declare class WaitForConditionError extends DurableOperationError { constructor(message?: string, cause?: Error, errorData?: string) }
export declare class PromiseCombinatorError extends DurableOperationError { constructor(message?: string, cause?: Error, errorData?: string) }
export declare class BatchCompletionError extends DurableOperationError {
  readonly completionReason: CompletionReason;
  constructor(completionReason: CompletionReason, message?: string, cause?: Error, errorData?: string);
}
export declare class StepInterruptedError extends Error { constructor(stepId: string, stepName?: string) }
export declare class NonDeterministicExecutionError extends Error {}
export declare class JournalError extends Error { kind: string }

export interface RetryStrategyConfig {
  maxAttempts?: number; initialDelay?: Duration; maxDelay?: Duration; backoffRate?: number; jitter?: JitterStrategy;
  retryableErrors?: (string | RegExp)[]; retryableErrorTypes?: (new (...args: any[]) => Error)[];
}
export interface LinearRetryStrategyConfig {
  maxAttempts?: number; initialDelay?: Duration; increment?: Duration; maxDelay?: Duration; jitter?: JitterStrategy;
  retryableErrors?: (string | RegExp)[]; retryableErrorTypes?: (new (...args: any[]) => Error)[];
}
export interface WaitStrategyConfig<T> {
  maxAttempts?: number; initialDelay?: Duration; maxDelay?: Duration; backoffRate?: number; jitter?: JitterStrategy;
  shouldContinuePolling: (result: T) => boolean; timeoutSeconds?: number;
}
export declare function createRetryStrategy(config?: RetryStrategyConfig): RetryStrategy;
export declare function createLinearRetryStrategy(config?: LinearRetryStrategyConfig): RetryStrategy;
export declare const retryPresets: { default: RetryStrategy; linear: RetryStrategy; noRetry: RetryStrategy };
export declare function createWaitStrategy<T>(config: WaitStrategyConfig<T>): WaitForConditionWaitStrategyFunc<T>;
export interface WithRetryConfig<T> { retryStrategy: RetryStrategy; wrapWithRunInChildContext?: boolean; childContextConfig?: ChildConfig<T> }
export type RetryableFunc<T> = (context: DurableContext, attempt: number) => Promise<T>;
export declare function withRetry<T>(context: DurableContext, name: string, func: RetryableFunc<T>, config: WithRetryConfig<T>): Promise<T>;
export declare function withRetry<T>(context: DurableContext, func: RetryableFunc<T>, config: WithRetryConfig<T>): Promise<T>;

export declare const OperationSubType: {
  readonly STEP: "Step"; readonly WAIT: "Wait"; readonly CALLBACK: "Callback"; readonly RUN_IN_CHILD_CONTEXT: "RunInChildContext";
  readonly MAP: "Map"; readonly MAP_ITERATION: "MapIteration"; readonly PARALLEL: "Parallel"; readonly PARALLEL_BRANCH: "ParallelBranch";
  readonly WAIT_FOR_CALLBACK: "WaitForCallback"; readonly WAIT_FOR_CONDITION: "WaitForCondition"; readonly CHAINED_INVOKE: "ChainedInvoke";
};
export declare const InvocationStatus: { readonly SUCCEEDED: "SUCCEEDED"; readonly FAILED: "FAILED"; readonly PENDING: "PENDING" };

// --- Lamina: testing without a host ------------------------------------------
/** One operation as the journal holds it. */
export interface JournalOperation {
  id: string; parentId?: string; name?: string; type: string; subType?: string; status: string;
  result?: string; error?: ErrorObject; attempt: number; nextAttemptMs?: number; callbackId?: string; waitEndMs?: number;
}
/** How an invocation ended. */
export type Outcome = { status: "SUCCEEDED"; result: string } | { status: "FAILED"; error: ErrorObject } | { status: "PENDING" };
/** An in-memory journal following the host's rules. */
export declare class InMemoryJournal {
  constructor(input?: string, options?: { arn?: string; functionName?: string });
  events: string[];
  logs: [string, string][];
  ops: Map<string, JournalOperation>;
  ended: boolean;
  advanceTime(): void;
  completeCallback(opId: string, result?: string, options?: { errorType?: string; timedOut?: boolean }): void;
  completeInvoke(opId: string, result?: string, options?: { errorType?: string }): void;
  callbackOp(): string;
}
/** Runs (or replays) one invocation of a durable handler against a journal. */
export declare function runDurable(handler: DurableLambdaHandler | DurableExecutionHandler, journal: InMemoryJournal | object, lambdaContext?: unknown): Promise<Outcome>;
export declare function isDurableHandler(value: unknown): boolean;
export declare const CHECKPOINT_SIZE_LIMIT_BYTES: number;
