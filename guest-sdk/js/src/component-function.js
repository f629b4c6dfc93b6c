// Glue between the `lamina:function/function` world and a Lambda-style handler.
import "./process-exit.js";
import { HandlerError, lambdaContext, runHandler } from "./handler.js";

/** The `lamina:function/handler` export running `fn(event, context)`. */
export function handlerExport(fn) {
  return {
    async handle(invocation, payload) {
      const context = lambdaContext({
        functionName: invocation.functionName,
        requestId: invocation.requestId,
        remainingTimeMs: invocation.remainingTimeMs,
      });
      try {
        return await runHandler(fn, context, payload);
      } catch (err) {
        const e = err instanceof HandlerError ? err : new HandlerError("Error", String(err && err.message));
        const thrown = new Error(e.errorMessage);
        thrown.payload = { errorType: e.errorType, errorMessage: e.errorMessage };
        throw thrown;
      }
    },
  };
}
