// The context logger: lines go to the host's log for the execution
// (journal `log`), silent while replaying unless `modeAware` is off.

const LEVELS = { INFO: "info", WARN: "warn", ERROR: "error", DEBUG: "debug" };

function format(params) {
  return params.map((p) => {
    if (typeof p === "string") return p;
    if (p instanceof Error) return p.stack || `${p.name}: ${p.message}`;
    try {
      return JSON.stringify(p);
    } catch {
      return String(p);
    }
  }).join(" ");
}

/** `log(level, ...params)`, `info`, `warn`, `error`, `debug`. */
export class Logger {
  constructor(ex, state, replayAware) {
    this._ex = ex;
    this._state = state;
    this._replayAware = replayAware;
  }
  /** Logs at `level` (`INFO`, `WARN`, `ERROR`, `DEBUG`). */
  log(level, ...params) {
    if (this._replayAware && this._state.modeAware && this._ex.replaying) return;
    const custom = this._state.custom;
    const name = LEVELS[String(level).toUpperCase()] || "info";
    if (custom) {
      const method = custom[name === "warn" ? "warn" : name] || custom.log;
      if (method) method.call(custom, ...params);
      return;
    }
    this._ex.journal.log(name, format(params));
  }
  info(...params) { this.log("INFO", ...params); }
  warn(...params) { this.log("WARN", ...params); }
  error(...params) { this.log("ERROR", ...params); }
  debug(...params) { this.log("DEBUG", ...params); }
}
