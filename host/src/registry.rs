//! Loaded functions: each declared component compiled (or read from the
//! cache), its kind detected from its exports, and linked once into a
//! pre-instantiated form so that per-request instantiation is cheap.

use crate::config::{FunctionConfig, FunctionKind};
use crate::engine::{CodeSource, LaminaEngine};
use crate::error::LoadError;
use crate::metrics::FunctionMetrics;
use crate::state::HostState;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::Component;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// Host bindings for the `lamina:function` WIT package.
pub mod bindings {
    #![allow(missing_docs)]
    wasmtime::component::bindgen!({
        path: "../wit/function",
        world: "lamina:function/function",
        exports: { default: async },
    });
}

/// Export name prefix of the wasi:http 0.2 incoming handler.
const HTTP_EXPORT: &str = "wasi:http/incoming-handler@0.2";
/// Export name prefix of Lamina's handler interface.
const HANDLER_EXPORT: &str = "lamina:function/handler@";

/// The pre-instantiated component, by kind.
pub enum Pre {
    /// A `wasi:http/proxy` component.
    Http(ProxyPre<HostState>),
    /// A `lamina:function/handler` component.
    Handler(bindings::FunctionPre<HostState>),
}

/// One loaded function.
pub struct Function {
    /// Its name.
    pub name: Arc<str>,
    /// Its kind.
    pub kind: FunctionKind,
    /// Its declared settings.
    pub config: FunctionConfig,
    /// The pre-instantiated component.
    pub pre: Pre,
    /// Whether the code was compiled now or read from the cache.
    pub code_source: CodeSource,
    /// How long loading took (read, compile or deserialize, link).
    pub load_time: Duration,
    /// Its counters and histograms.
    pub metrics: FunctionMetrics,
}

/// All functions of a host, by name.
#[derive(Default)]
pub struct Registry {
    functions: BTreeMap<String, Arc<Function>>,
}

impl Registry {
    /// Loads every declared function; the first failure stops the load.
    pub fn load(engine: &LaminaEngine, configs: &[FunctionConfig]) -> Result<Self, LoadError> {
        let mut functions = BTreeMap::new();
        for cfg in configs {
            if functions.contains_key(&cfg.name) {
                return Err(LoadError::Duplicate(cfg.name.clone()));
            }
            let f = load_function(engine, cfg)?;
            tracing::info!(
                function = %f.name,
                kind = f.kind.as_str(),
                code = f.code_source.as_str(),
                load_ms = f.load_time.as_millis() as u64,
                "function loaded"
            );
            functions.insert(cfg.name.clone(), Arc::new(f));
        }
        Ok(Registry { functions })
    }

    /// The function called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Function>> {
        self.functions.get(name)
    }

    /// All functions in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Function>> + Clone {
        self.functions.values()
    }

    /// Comma-separated function names, for error messages.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.functions.keys().map(String::as_str).collect();
        if names.is_empty() {
            "(none)".to_string()
        } else {
            names.join(", ")
        }
    }

    /// The host's only function, when it is an http function: like
    /// `wasmtime serve app.wasm`, it then also serves every other path.
    pub fn sole_http(&self) -> Option<&Arc<Function>> {
        let mut all = self.iter();
        match (all.next(), all.next()) {
            (Some(f), None) if f.kind == FunctionKind::Http => Some(f),
            _ => None,
        }
    }
}

fn load_function(engine: &LaminaEngine, cfg: &FunctionConfig) -> Result<Function, LoadError> {
    let start = Instant::now();
    let path = &cfg.component;
    let (component, code_source) = engine.load_component(path)?;
    let detected = detect_kind(engine, &component);
    let kind = match (cfg.kind, detected) {
        (Some(k), Some(d)) if k == d => k,
        (Some(k), _) => {
            return Err(LoadError::KindMismatch {
                path: path.clone(),
                declared: k.as_str(),
                wanted: match k {
                    FunctionKind::Http => "`wasi:http/incoming-handler@0.2.x`",
                    FunctionKind::Handler => "`lamina:function/handler`",
                },
            });
        }
        (None, Some(d)) => d,
        (None, None) => {
            let exports: Vec<String> = component
                .component_type()
                .exports(engine.engine())
                .map(|(name, _)| name.to_string())
                .collect();
            return Err(LoadError::NoKnownExport {
                path: path.clone(),
                exports: if exports.is_empty() {
                    "(none)".into()
                } else {
                    exports.join(", ")
                },
            });
        }
    };
    let link_err = |e: wasmtime::Error| LoadError::Link {
        path: path.clone(),
        message: format!("{e:#}"),
    };
    let instance_pre = engine
        .linker()
        .instantiate_pre(&component)
        .map_err(link_err)?;
    let pre = match kind {
        FunctionKind::Http => Pre::Http(ProxyPre::new(instance_pre).map_err(link_err)?),
        FunctionKind::Handler => {
            Pre::Handler(bindings::FunctionPre::new(instance_pre).map_err(link_err)?)
        }
    };
    Ok(Function {
        name: cfg.name.as_str().into(),
        kind,
        config: cfg.clone(),
        pre,
        code_source,
        load_time: start.elapsed(),
        metrics: FunctionMetrics::default(),
    })
}

/// The kind a component's exports make it, if any.
fn detect_kind(engine: &LaminaEngine, component: &Component) -> Option<FunctionKind> {
    let ty = component.component_type();
    let mut kind = None;
    for (name, _) in ty.exports(engine.engine()) {
        if name.starts_with(HTTP_EXPORT) {
            kind = Some(FunctionKind::Http);
        } else if name.starts_with(HANDLER_EXPORT) && kind.is_none() {
            kind = Some(FunctionKind::Handler);
        }
    }
    kind
}
