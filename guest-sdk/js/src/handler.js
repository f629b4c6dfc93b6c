// Lambda-style handlers, `export const handler = async (event, context) => ...`.

/** A handler failure as Lambda reports it. */
export class HandlerError extends Error {
  constructor(errorType, errorMessage) {
    super(errorMessage);
    this.errorType = errorType;
    this.errorMessage = errorMessage;
  }
}

/** The Lambda context Lamina passes a handler. */
export function lambdaContext({ functionName, requestId, remainingTimeMs }) {
  const deadline = Date.now() + Number(remainingTimeMs);
  return {
    functionName,
    functionVersion: "$LATEST",
    awsRequestId: requestId,
    invokedFunctionArn: undefined,
    memoryLimitInMB: undefined,
    logGroupName: undefined,
    logStreamName: undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {}, fail() {}, succeed() {},
  };
}

/** Runs `fn(event, context)` on a payload (bytes); resolves to the JSON bytes of its result. */
export async function runHandler(fn, context, payload) {
  const text = new TextDecoder().decode(payload).trim();
  let event;
  try {
    event = text ? JSON.parse(text) : {};
  } catch (err) {
    throw new HandlerError("InvalidPayload", `the payload is not JSON: ${err.message}`);
  }
  let value;
  try {
    value = await fn(event, context);
  } catch (err) {
    const type = err && err.name ? err.name : "Error";
    const message = err && err.message !== undefined ? err.message : String(err);
    throw new HandlerError(type, message);
  }
  if (value instanceof Uint8Array) return value;
  let out;
  try {
    out = JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    throw new HandlerError("InvalidOutput", `the result cannot be encoded as JSON: ${err.message}`);
  }
  return new TextEncoder().encode(out);
}
