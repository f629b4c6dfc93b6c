// Results of parallel and map, and the completion rules.
import { ChildContextError, BatchCompletionError, operationError, errorObjectFrom } from "./errors.js";

/** How a branch ended, as far as the batch knows. */
export const BatchItemStatus = Object.freeze({ SUCCEEDED: "SUCCEEDED", FAILED: "FAILED", STARTED: "STARTED" });
/** Outcome of a custom completion decision. */
export const CompletionOutcome = Object.freeze({ SUCCEEDED: "SUCCEEDED", FAILED: "FAILED" });
/** Whether a batch's branches share their parent's operation ids (FLAT) or each get a context (NESTED). */
export const NestingType = Object.freeze({ NESTED: "NESTED", FLAT: "FLAT" });

/** A custom completion decision: keep going. */
export const continueBatch = () => ({ complete: false });
/** A custom completion decision: complete now. */
export const completeBatch = (outcome) => ({ complete: true, outcome });

/** The completion rules over `total` branches. */
export class CompletionPolicy {
  constructor(total, config, names = []) {
    this.total = total;
    this.config = config || {};
    this.names = names;
    this.custom = typeof this.config.shouldComplete === "function";
    const c = this.config;
    this.hasCriteria = c.minSuccessful != null || c.toleratedFailureCount != null || c.toleratedFailurePercentage != null;
    this.decision = null;
  }

  toleranceExceeded(failed) {
    if (this.custom) return this.decision?.complete && this.decision.outcome === CompletionOutcome.FAILED;
    if (!this.hasCriteria) return failed > 0;
    const c = this.config;
    if (c.toleratedFailureCount != null && failed > c.toleratedFailureCount) return true;
    return c.toleratedFailurePercentage != null && this.total > 0 && (failed * 100) / this.total > c.toleratedFailurePercentage;
  }

  /** Call after each branch ends (custom completion looks at the items). */
  observe(items, succeeded, failed) {
    if (!this.custom || this.decision?.complete) return;
    this.decision = this.config.shouldComplete({
      successCount: succeeded, failureCount: failed, completedCount: succeeded + failed, totalCount: this.total,
      items: items.map((i) => ({ index: i.index, name: this.names[i.index], status: i.status })),
    }) || { complete: false };
  }

  done(succeeded, failed) {
    if (succeeded + failed >= this.total) return true;
    if (this.custom) return Boolean(this.decision?.complete);
    if (this.config.minSuccessful != null && succeeded >= this.config.minSuccessful) return true;
    return this.toleranceExceeded(failed);
  }

  reason(succeeded, failed) {
    if (this.custom && this.decision?.complete) {
      return this.decision.outcome === CompletionOutcome.FAILED ? "CUSTOM_COMPLETION_FAILED" : "CUSTOM_COMPLETION_SUCCEEDED";
    }
    if (this.toleranceExceeded(failed)) return "FAILURE_TOLERANCE_EXCEEDED";
    if (succeeded + failed >= this.total) return "ALL_COMPLETED";
    if (this.config.minSuccessful != null && succeeded >= this.config.minSuccessful) return "MIN_SUCCESSFUL_REACHED";
    return "ALL_COMPLETED";
  }
}

/** What parallel and map resolve to: the started branches in index order. */
export class BatchResult {
  constructor(all, completionReason) {
    this.all = all;
    this.completionReason = completionReason;
  }
  succeeded() { return this.all.filter((i) => i.status === BatchItemStatus.SUCCEEDED); }
  failed() { return this.all.filter((i) => i.status === BatchItemStatus.FAILED && i.error); }
  started() { return this.all.filter((i) => i.status === BatchItemStatus.STARTED); }
  get hasFailure() { return this.all.some((i) => i.status === BatchItemStatus.FAILED); }
  get status() { return this.hasFailure ? BatchItemStatus.FAILED : BatchItemStatus.SUCCEEDED; }
  /** Throws the first branch error. */
  throwIfError() {
    if (this.completionReason === "CUSTOM_COMPLETION_FAILED") {
      const first = this.failed()[0];
      throw new BatchCompletionError(this.completionReason, first?.error?.message || "Batch completed with a failure", first?.error);
    }
    const item = this.all.find((i) => i.status === BatchItemStatus.FAILED && i.error);
    if (item) throw item.error;
  }
  getResults() { return this.succeeded().map((i) => i.result); }
  getErrors() { return this.failed().map((i) => i.error); }
  get successCount() { return this.all.filter((i) => i.status === BatchItemStatus.SUCCEEDED).length; }
  get failureCount() { return this.all.filter((i) => i.status === BatchItemStatus.FAILED).length; }
  get startedCount() { return this.started().length; }
  get totalCount() { return this.all.length; }
  /** As journaled: `{"all": [{index, status, result?, error?}], "completionReason"}`. */
  toJSON() {
    return {
      all: this.all.map((i) => {
        const out = { index: i.index, status: i.status };
        if (i.result !== undefined) out.result = i.result;
        if (i.error) out.error = itemErrorObject(i.error);
        return out;
      }),
      completionReason: this.completionReason,
    };
  }
  /** From its journaled form. */
  static fromJSON(data) {
    const items = (data.all || []).map((i) => ({
      index: i.index,
      status: i.status,
      result: i.result,
      error: i.error ? operationError(ChildContextError, i.error) : undefined,
    }));
    return new BatchResult(items, data.completionReason || "ALL_COMPLETED");
  }
}

/** A branch error as journaled: the type of the error that escaped the branch. */
export function itemErrorObject(error) {
  if (error instanceof ChildContextError && error.cause && error.cause.name) {
    return { ErrorType: error.cause.name, ErrorMessage: error.message, ErrorData: error.errorData };
  }
  return errorObjectFrom(error);
}

/** What a batch journals instead of a result over 256 KiB; replay rebuilds it from the branches. */
export function summaryEnvelope(result, type, summary) {
  const fields = {
    type, replayChildren: true, totalCount: result.totalCount, completionReason: result.completionReason,
    startedIndexes: result.started().map((i) => i.index), startedCount: result.startedCount,
    successCount: result.successCount, failureCount: result.failureCount, status: result.status,
  };
  if (summary !== undefined) fields.summary = String(summary);
  return JSON.stringify(fields);
}

/** The summary journaled as `text`, if it is one. */
export function parseSummary(text, type) {
  if (!text) return null;
  try {
    const data = JSON.parse(text);
    return data && data.type === type && "totalCount" in data ? data : null;
  } catch {
    return null;
  }
}
