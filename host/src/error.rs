//! Error types of the host library.

use std::path::PathBuf;
use thiserror::Error;

/// Why a component could not be loaded as a function.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read component {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not WebAssembly at all.
    #[error("{path} is not a WebAssembly file (it does not start with the `\\0asm` magic bytes)")]
    NotWasm {
        /// The file.
        path: PathBuf,
    },
    /// The file is a core module, not a component.
    #[error(
        "{path} is a core WebAssembly module, not a component: build it for `wasm32-wasip2` \
         or wrap it with `wasm-tools component new`"
    )]
    CoreModule {
        /// The file.
        path: PathBuf,
    },
    /// Compilation (validation or code generation) failed.
    #[error("{path} is not a valid component: {message}")]
    Compile {
        /// The file.
        path: PathBuf,
        /// Wasmtime's explanation.
        message: String,
    },
    /// The component exports nothing Lamina knows how to invoke.
    #[error(
        "{path} exports none of `wasi:http/incoming-handler@0.2.x` or `wasi:http/handler@0.3.x` \
         (an http function), \
         `lamina:function/handler` (a handler function) or `lamina:durable/handler` (a durable \
         function); its exports are: {exports}"
    )]
    NoKnownExport {
        /// The file.
        path: PathBuf,
        /// Comma-separated export names.
        exports: String,
    },
    /// The declared kind does not match the component.
    #[error("{path} was declared as kind `{declared}` but does not export {wanted}")]
    KindMismatch {
        /// The file.
        path: PathBuf,
        /// The configured kind.
        declared: &'static str,
        /// The export that kind needs.
        wanted: &'static str,
    },
    /// A wasi:http 0.3 service declared without `mode = "managed"`.
    #[error(
        "{path} is a wasi:http 0.3 service (it exports `wasi:http/handler@0.3.x`): Lamina serves \
         it in managed mode only, where one instance takes many requests at once; add \
         mode = \"managed\" to its function"
    )]
    ServiceNeedsManaged {
        /// The file.
        path: PathBuf,
    },
    /// The component imports something the host does not provide.
    #[error("{path} cannot be linked: {message}")]
    Link {
        /// The file.
        path: PathBuf,
        /// Wasmtime's explanation (names the missing import).
        message: String,
    },
    /// The compiled-component cache could not be written or read.
    #[error("compiled-component cache error at {path}: {message}")]
    Cache {
        /// The cache file or directory.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Two functions share a name.
    #[error("function `{0}` is declared twice")]
    Duplicate(String),
}

/// Why an invocation did not produce a result.
#[derive(Debug, Error)]
pub enum InvokeError {
    /// No function has that name.
    #[error("function not found: `{name}` (this host serves: {available})")]
    UnknownFunction {
        /// The requested name.
        name: String,
        /// Comma-separated names of the functions that do exist.
        available: String,
    },
    /// The function exists but is of another kind.
    #[error("function `{name}` is an {kind} function: {hint}")]
    WrongKind {
        /// The function.
        name: String,
        /// Its kind.
        kind: &'static str,
        /// How to call it instead.
        hint: String,
    },
    /// The guest trapped (panic, unreachable, out-of-bounds access, ...).
    #[error("function `{function}` trapped: {message}")]
    Trap {
        /// The function.
        function: String,
        /// The trap and, when the guest printed one, its last stderr line.
        message: String,
    },
    /// The guest called `exit` (WASI `exit`, e.g. `std::process::exit`):
    /// Lambda's `Runtime.ExitError`, whatever the status.
    #[error("function `{function}` exited with status {status} before returning a result")]
    Exited {
        /// The function.
        function: String,
        /// The exit status the guest gave.
        status: i32,
    },
    /// The invocation ran past its timeout and was interrupted.
    #[error("function `{function}` timed out after {timeout_ms} ms")]
    Timeout {
        /// The function.
        function: String,
        /// The configured timeout.
        timeout_ms: u64,
    },
    /// The guest tried to grow its memory beyond the function's limit.
    #[error(
        "function `{function}` exceeded its memory limit of {limit_mb} MiB \
         (it asked for {requested_mb} MiB)"
    )]
    MemoryLimit {
        /// The function.
        function: String,
        /// The configured limit.
        limit_mb: u64,
        /// What the guest asked for.
        requested_mb: u64,
    },
    /// The request body was larger than the host accepts.
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request itself was malformed.
    #[error("bad request: {message}")]
    BadRequest {
        /// What is wrong with it.
        message: String,
    },
    /// The guest never produced a response (http functions).
    #[error("function `{function}` finished without sending a response")]
    NoResponse {
        /// The function.
        function: String,
    },
    /// The environment serving this invocation was recycled (another
    /// invocation in it trapped or timed out) before it finished.
    #[error(
        "function `{function}`: the environment serving this invocation was recycled ({reason}); retry it"
    )]
    EnvironmentRecycled {
        /// The function.
        function: String,
        /// Why the environment was recycled.
        reason: String,
    },
    /// No environment could be initialised.
    #[error("function `{function}` could not be initialised: {message}")]
    InitFailed {
        /// The function.
        function: String,
        /// What `init` (or instantiation) reported.
        message: String,
    },
    /// Instantiation failed for a reason other than a trap.
    #[error("function `{function}` could not be instantiated: {message}")]
    Instantiate {
        /// The function.
        function: String,
        /// Wasmtime's explanation.
        message: String,
    },
}

impl InvokeError {
    /// A short, stable label for metrics and the Lambda `errorType`.
    pub fn reason(&self) -> &'static str {
        match self {
            InvokeError::UnknownFunction { .. } => "unknown_function",
            InvokeError::WrongKind { .. } => "wrong_kind",
            InvokeError::Trap { .. } => "trap",
            InvokeError::Exited { .. } => "exit",
            InvokeError::Timeout { .. } => "timeout",
            InvokeError::MemoryLimit { .. } => "memory_limit",
            InvokeError::PayloadTooLarge { .. } => "payload_too_large",
            InvokeError::BadRequest { .. } => "bad_request",
            InvokeError::NoResponse { .. } => "no_response",
            InvokeError::Instantiate { .. } => "instantiate",
            InvokeError::EnvironmentRecycled { .. } => "environment_recycled",
            InvokeError::InitFailed { .. } => "init_failed",
        }
    }
}
