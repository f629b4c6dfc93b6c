// `process.exit(code)` inside a component, as in Node: ends the instance
// through WASI's `exit` (the host reports Lambda's Runtime.ExitError).
// `lamina build` adds the `wasi:cli/exit` import to the world it targets.
import { exit } from "wasi:cli/exit@0.2.12";

if (typeof globalThis.process === "undefined") globalThis.process = { env: {} };
if (typeof globalThis.process.exit !== "function") {
  globalThis.process.exit = (code = 0) => {
    exit(code === 0 ? { tag: "ok" } : { tag: "err" });
  };
}
