// Error classes of the AWS Durable Execution SDK for JavaScript, and the
// journal's error object (AWS `ErrorObject`: ErrorType, ErrorMessage, ...).

/** Base class of the errors a durable operation fails with. */
export class DurableOperationError extends Error {
  constructor(message, cause, errorData) {
    super(message);
    this.name = this.constructor.name;
    this.cause = cause;
    this.errorData = errorData;
    this.stackTrace = undefined;
  }

  /** The operation error an ErrorObject stands for (replay rebuilds it). */
  static fromErrorObject(errorObject) {
    const cause = new Error(errorObject.ErrorMessage);
    cause.name = errorObject.ErrorType || "Error";
    if (errorObject.StackTrace) cause.stack = errorObject.StackTrace.join("\n");
    const make = ERROR_CLASSES[errorObject.ErrorType] || StepError;
    const fallback = DEFAULT_MESSAGES[errorObject.ErrorType] || "Unknown error";
    return new make(errorObject.ErrorMessage || fallback, cause, errorObject.ErrorData);
  }

  /** As the journal records it. */
  toErrorObject() {
    let errorData = this.errorData;
    for (let node = this.cause, i = 0; errorData === undefined && node && i < 10; i++) {
      if (node instanceof DurableOperationError && typeof node.errorData === "string") errorData = node.errorData;
      node = node instanceof Error ? node.cause : undefined;
    }
    return { ErrorType: this.errorType, ErrorMessage: this.message, ErrorData: errorData, StackTrace: undefined };
  }
}

/** A step failed (after its retry strategy gave up). */
export class StepError extends DurableOperationError {
  constructor(message = "Step failed", cause, errorData) { super(message, cause, errorData); this.errorType = "StepError"; }
}
/** A callback failed. */
export class CallbackError extends DurableOperationError {
  constructor(message = "Callback failed", cause, errorData) { super(message, cause, errorData); this.errorType = "CallbackError"; }
}
/** The callback was completed with a failure. */
export class CallbackExternalError extends CallbackError {
  constructor(message = "Callback failed", cause, errorData) { super(message, cause, errorData); this.errorType = "CallbackExternalError"; }
}
/** The callback timed out. */
export class CallbackTimeoutError extends CallbackError {
  constructor(message = "Callback timed out", cause, errorData) { super(message, cause, errorData); this.errorType = "CallbackTimeoutError"; }
}
/** waitForCallback's submitter failed. */
export class CallbackSubmitterError extends CallbackError {
  constructor(message = "Callback submitter failed", cause, errorData) { super(message, cause, errorData); this.errorType = "CallbackSubmitterError"; }
}
/** A chained invoke failed. */
export class InvokeError extends DurableOperationError {
  constructor(message = "Invoke failed", cause, errorData) { super(message, cause, errorData); this.errorType = "InvokeError"; }
}
/** A child context (or a batch branch) failed. */
export class ChildContextError extends DurableOperationError {
  constructor(message = "Child context failed", cause, errorData) { super(message, cause, errorData); this.errorType = "ChildContextError"; }
}
/** A waitForCondition check or its wait strategy failed. */
export class WaitForConditionError extends DurableOperationError {
  constructor(message = "Wait for condition failed", cause, errorData) { super(message, cause, errorData); this.errorType = "WaitForConditionError"; }
}
/** A `context.promise` combinator failed. */
export class PromiseCombinatorError extends DurableOperationError {
  constructor(message = "Promise combinator failed", cause, errorData) { super(message, cause, errorData); this.errorType = "PromiseCombinatorError"; }
}
/** A batch completed with a failure (custom completion). */
export class BatchCompletionError extends DurableOperationError {
  constructor(completionReason, message = "Batch failed", cause, errorData) {
    super(message, cause, errorData);
    this.errorType = "BatchCompletionError";
    this.completionReason = completionReason;
  }
}
/** An at-most-once step started before and did not end. */
export class StepInterruptedError extends Error {
  constructor(_stepId, _stepName) {
    super("The step execution process was initiated but failed to reach completion due to an interruption.");
    this.name = "StepInterruptedError";
  }
}
/** The code no longer matches the journal (Lamina fails the execution). */
export class NonDeterministicExecutionError extends Error {
  constructor(message) { super(message); this.name = "NonDeterministicExecutionError"; }
}
/** The host refused a journal update. */
export class JournalError extends Error {
  constructor(kind, message) { super(`${kind}: ${message}`); this.name = "JournalError"; this.kind = kind; }
}

const ERROR_CLASSES = {
  StepError, CallbackError, CallbackExternalError, CallbackTimeoutError, CallbackSubmitterError,
  InvokeError, ChildContextError, WaitForConditionError, PromiseCombinatorError,
};
const DEFAULT_MESSAGES = {
  StepError: "Step failed", CallbackError: "Callback failed", CallbackExternalError: "Callback failed",
  CallbackTimeoutError: "Callback timed out", CallbackSubmitterError: "Callback submitter failed",
  InvokeError: "Invoke failed", ChildContextError: "Child context failed",
  WaitForConditionError: "Wait for condition failed", PromiseCombinatorError: "Promise combinator failed",
};

function isErrorLike(value) {
  return value instanceof Error || (value != null && typeof value === "object" && "message" in value && "name" in value);
}

/** The ErrorObject a thrown value is journaled as: its `name` and `message`. */
export function errorObjectFrom(error, data) {
  if (error instanceof DurableOperationError) return error.toErrorObject();
  if (isErrorLike(error)) return { ErrorType: error.name, ErrorMessage: error.message, ErrorData: data };
  return { ErrorType: undefined, ErrorMessage: "Unknown error", ErrorData: data };
}

/** A new `cls` built from a journaled ErrorObject (cause: the original error). */
export function operationError(cls, errorObject) {
  const cause = new Error(errorObject.ErrorMessage);
  cause.name = errorObject.ErrorType || "Error";
  if (errorObject.StackTrace) cause.stack = errorObject.StackTrace.join("\n");
  return new cls(errorObject.ErrorMessage || undefined, cause, errorObject.ErrorData);
}
