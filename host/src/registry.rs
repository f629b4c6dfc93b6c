//! Loaded functions: each declared component compiled (or read from the
//! cache), its kind detected from its exports, and linked once into a
//! pre-instantiated form so that per-request instantiation is cheap.

use crate::config::{FunctionConfig, FunctionKind};
use crate::engine::{CodeSource, LaminaEngine};
use crate::error::LoadError;
use crate::metrics::FunctionMetrics;
use crate::state::HostState;
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};
use wasmtime::component::{
    Component, ComponentExportIndex, Instance, InstancePre, Linker, TypedFunc,
};
use wasmtime::{AsContextMut, Store};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p3::bindings::ServicePre;

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
/// Export name prefix of the wasi:http 0.3 handler (an `async` export).
const HTTP_SERVICE_EXPORT: &str = "wasi:http/handler@0.3";
/// Export name prefix of Lamina's handler interface.
const HANDLER_EXPORT: &str = "lamina:function/handler@";
/// Export name prefix of Lamina's async handler interface.
const ASYNC_HANDLER_EXPORT: &str = "lamina:function/async-handler@";
/// Export name prefix of Lamina's durable handler interface.
const DURABLE_EXPORT: &str = "lamina:durable/handler@";
/// Export name prefix of Lamina's lifecycle interface.
const LIFECYCLE_EXPORT: &str = "lamina:function/lifecycle@";

/// The invocation record passed to `handle`.
pub use bindings::lamina::function::types::{FunctionError as GuestError, Invocation};

/// Parameters of `handle`.
pub type HandleParams = (Invocation, Vec<u8>);
/// Results of `handle`.
pub type HandleResults = (Result<Vec<u8>, GuestError>,);
/// Results of `init`.
pub type InitResults = (Result<(), String>,);

/// A handler component, pre-linked, with the indices of its exports.
pub struct HandlerPre {
    /// The pre-instantiated component.
    pub pre: InstancePre<HostState>,
    /// `handle` of `handler` or `async-handler`.
    pub handle: ComponentExportIndex,
    /// Whether `handle` is a component-model `async` export (multi-concurrency).
    pub is_async: bool,
    /// `lifecycle.init`, when exported.
    pub init: Option<ComponentExportIndex>,
}

impl HandlerPre {
    /// Instantiates into `store`.
    pub async fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Instance> {
        self.pre.instantiate_async(store).await
    }

    /// The typed `handle` function of `instance`.
    pub fn handle(
        &self,
        store: impl AsContextMut<Data = HostState>,
        instance: &Instance,
    ) -> wasmtime::Result<TypedFunc<HandleParams, HandleResults>> {
        instance.get_typed_func(store, self.handle)
    }

    /// The typed `init` function of `instance`, when exported.
    pub fn init(
        &self,
        store: impl AsContextMut<Data = HostState>,
        instance: &Instance,
    ) -> wasmtime::Result<Option<TypedFunc<(), InitResults>>> {
        self.init
            .map(|i| instance.get_typed_func(store, i))
            .transpose()
    }
}

/// A `wasi:http/proxy` component, pre-linked, with its optional `init`
/// (it dereferences to the [`ProxyPre`] standard mode instantiates).
pub struct HttpPre {
    /// The pre-instantiated proxy.
    pub proxy: ProxyPre<HostState>,
    /// `lamina:function/lifecycle.init`, when exported beside the handler
    /// (managed mode runs it once per environment).
    pub init: Option<ComponentExportIndex>,
}

impl std::ops::Deref for HttpPre {
    type Target = ProxyPre<HostState>;

    fn deref(&self) -> &ProxyPre<HostState> {
        &self.proxy
    }
}

/// A `wasi:http` 0.3 service component (`wasi:http/handler@0.3`, an
/// `async` export that can serve many requests at once), pre-linked, with
/// its optional `init`. Served in managed mode only.
pub struct HttpServicePre {
    /// The pre-instantiated service.
    pub service: ServicePre<HostState>,
    /// `lamina:function/lifecycle.init`, when exported beside the handler.
    pub init: Option<ComponentExportIndex>,
}

/// The pre-instantiated component, by kind.
pub enum Pre {
    /// A `wasi:http/proxy` (0.2) component.
    Http(HttpPre),
    /// A `wasi:http` 0.3 service component.
    HttpService(HttpServicePre),
    /// A `lamina:function/handler` or `async-handler` component.
    Handler(HandlerPre),
    /// A `lamina:durable/handler` component.
    Durable(DurablePre),
}

/// A durable component, pre-linked, with the index of its `handle` export.
pub struct DurablePre {
    /// The pre-instantiated component.
    pub pre: InstancePre<HostState>,
    /// `lamina:durable/handler#handle`.
    pub handle: ComponentExportIndex,
}

/// Results of the durable `handle`.
pub type DurableResults = (crate::bindings::durable::Outcome,);

impl DurablePre {
    /// Instantiates into `store`.
    pub async fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Instance> {
        self.pre.instantiate_async(store).await
    }

    /// The typed `handle` function of `instance`.
    pub fn handle(
        &self,
        store: impl AsContextMut<Data = HostState>,
        instance: &Instance,
    ) -> wasmtime::Result<TypedFunc<(), DurableResults>> {
        instance.get_typed_func(store, self.handle)
    }
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
    /// The sha256 of the component's bytes (hex): durable executions
    /// record the code they started with.
    pub code_sha256: String,
    /// How long loading took (read, compile or deserialize, link).
    pub load_time: Duration,
    /// Its counters and histograms.
    pub metrics: FunctionMetrics,
}

/// The live functions of a host, by name: the code each name serves now
/// (`$LATEST`). Swapping an entry is atomic; a request holds the
/// [`Function`] it looked up until it is done, so in-flight requests finish
/// on the code they started with.
#[derive(Default)]
pub struct Registry {
    functions: RwLock<BTreeMap<String, Arc<Function>>>,
}

impl Registry {
    /// Loads every declared function; the first failure stops the load.
    pub fn load(engine: &LaminaEngine, configs: &[FunctionConfig]) -> Result<Self, LoadError> {
        let mut functions = BTreeMap::new();
        let mut linkers = Linkers {
            base: engine.linker(),
            durable: None,
        };
        for cfg in configs {
            if functions.contains_key(&cfg.name) {
                return Err(LoadError::Duplicate(cfg.name.clone()));
            }
            let f = load_function(engine, &mut linkers, cfg)?;
            tracing::info!(
                function = %f.name,
                kind = f.kind.as_str(),
                code = f.code_source.as_str(),
                load_ms = f.load_time.as_millis() as u64,
                "function loaded"
            );
            functions.insert(cfg.name.clone(), Arc::new(f));
        }
        Ok(Registry {
            functions: RwLock::new(functions),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Function>>> {
        self.functions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The function called `name`, as it is now.
    pub fn get(&self, name: &str) -> Option<Arc<Function>> {
        self.read().get(name).cloned()
    }

    /// All functions in name order, as they are now.
    pub fn all(&self) -> Vec<Arc<Function>> {
        self.read().values().cloned().collect()
    }

    /// Makes `f` the function its name serves from now on; returns the one
    /// it replaces.
    pub fn insert(&self, f: Arc<Function>) -> Option<Arc<Function>> {
        let mut map = self
            .functions
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        map.insert(f.name.to_string(), f)
    }

    /// Stops serving `name`; returns the function it served.
    pub fn remove(&self, name: &str) -> Option<Arc<Function>> {
        let mut map = self
            .functions
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        map.remove(name)
    }

    /// Comma-separated function names, for error messages.
    pub fn names(&self) -> String {
        let map = self.read();
        let names: Vec<&str> = map.keys().map(String::as_str).collect();
        if names.is_empty() {
            "(none)".to_string()
        } else {
            names.join(", ")
        }
    }

    /// The host's only function, when it is an http function: like
    /// `wasmtime serve app.wasm`, it then also serves every other path.
    pub fn sole_http(&self) -> Option<Arc<Function>> {
        let map = self.read();
        let mut all = map.values();
        match (all.next(), all.next()) {
            (Some(f), None) if f.kind == FunctionKind::Http => Some(f.clone()),
            _ => None,
        }
    }
}

/// Finds the function that runs a given code: durable executions replay on
/// the code (sha256 of the component) they started with.
pub trait CodeLookup: Send + Sync {
    /// The function `name` with the component whose sha256 is `code_sha256`
    /// (loaded now if needed); `None` when that code is not available.
    fn function_with_code(
        &self,
        name: &str,
        code_sha256: &str,
    ) -> futures::future::BoxFuture<'_, Option<Arc<Function>>>;
}

impl Function {
    /// Loads the function `cfg` declares: reads (or compiles) its component,
    /// detects its kind and links it, before it takes any traffic.
    pub fn load(engine: &LaminaEngine, cfg: &FunctionConfig) -> Result<Function, LoadError> {
        let mut linkers = Linkers {
            base: engine.linker(),
            durable: None,
        };
        load_function(engine, &mut linkers, cfg)
    }
}

/// The linker of each kind of function: the engine's for http and handler
/// functions, a copy with the `lamina:durable` imports for durable ones
/// (made when the first durable function is loaded).
struct Linkers<'a> {
    base: &'a Linker<HostState>,
    durable: Option<Linker<HostState>>,
}

impl Linkers<'_> {
    fn for_kind(&mut self, kind: FunctionKind) -> wasmtime::Result<&Linker<HostState>> {
        match kind {
            FunctionKind::Http | FunctionKind::Handler => Ok(self.base),
            FunctionKind::Durable => match &mut self.durable {
                Some(l) => Ok(l),
                slot @ None => Ok(slot.insert(crate::bindings::durable::linker(self.base)?)),
            },
        }
    }
}

fn load_function(
    engine: &LaminaEngine,
    linkers: &mut Linkers<'_>,
    cfg: &FunctionConfig,
) -> Result<Function, LoadError> {
    let start = Instant::now();
    let path = &cfg.component;
    let (component, code_source, code_sha256) = engine.load_component(path)?;
    let detected = detect_kind(engine, &component);
    let kind = match (cfg.kind, detected) {
        (Some(k), Some(d)) if k == d => k,
        (Some(k), _) => {
            return Err(LoadError::KindMismatch {
                path: path.clone(),
                declared: k.as_str(),
                wanted: match k {
                    FunctionKind::Http => {
                        "`wasi:http/incoming-handler@0.2.x` or `wasi:http/handler@0.3.x`"
                    }
                    FunctionKind::Handler => "`lamina:function/handler`",
                    FunctionKind::Durable => "`lamina:durable/handler`",
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
    let instance_pre = linkers
        .for_kind(kind)
        .and_then(|l| l.instantiate_pre(&component))
        .map_err(link_err)?;
    let is_service = kind == FunctionKind::Http && exports_service(engine, &component);
    if is_service && cfg.mode == crate::config::Mode::Standard {
        return Err(LoadError::ServiceNeedsManaged { path: path.clone() });
    }
    let pre = match kind {
        FunctionKind::Http if is_service => Pre::HttpService(HttpServicePre {
            init: lifecycle_init(&component, instance_pre.engine()),
            service: ServicePre::new(instance_pre).map_err(link_err)?,
        }),
        FunctionKind::Http => Pre::Http(HttpPre {
            init: lifecycle_init(&component, instance_pre.engine()),
            proxy: ProxyPre::new(instance_pre).map_err(link_err)?,
        }),
        FunctionKind::Handler => Pre::Handler(handler_pre(&component, instance_pre, path)?),
        FunctionKind::Durable => Pre::Durable(durable_pre(&component, instance_pre, path)?),
    };
    Ok(Function {
        name: cfg.name.as_str().into(),
        kind,
        config: cfg.clone(),
        pre,
        code_source,
        code_sha256,
        load_time: start.elapsed(),
        metrics: FunctionMetrics::default(),
    })
}

/// The kind a component's exports make it, if any.
fn detect_kind(engine: &LaminaEngine, component: &Component) -> Option<FunctionKind> {
    let ty = component.component_type();
    let mut kind = None;
    for (name, _) in ty.exports(engine.engine()) {
        if name.starts_with(HTTP_EXPORT) || name.starts_with(HTTP_SERVICE_EXPORT) {
            kind = Some(FunctionKind::Http);
        } else if name.starts_with(DURABLE_EXPORT) && kind.is_none() {
            kind = Some(FunctionKind::Durable);
        } else if (name.starts_with(HANDLER_EXPORT) || name.starts_with(ASYNC_HANDLER_EXPORT))
            && kind.is_none()
        {
            kind = Some(FunctionKind::Handler);
        }
    }
    kind
}

/// Finds `handle` (sync or async) and `init` in a handler component.
fn handler_pre(
    component: &Component,
    pre: InstancePre<HostState>,
    path: &std::path::Path,
) -> Result<HandlerPre, LoadError> {
    let ty = component.component_type();
    let names: Vec<String> = ty
        .exports(pre.engine())
        .map(|(n, _)| n.to_string())
        .collect();
    let find = |prefix: &str| names.iter().find(|n| n.starts_with(prefix));
    let func = |iface: &str, name: &str| {
        let i = component.get_export_index(None, iface)?;
        component.get_export_index(Some(&i), name)
    };
    let (iface, is_async) = match (find(ASYNC_HANDLER_EXPORT), find(HANDLER_EXPORT)) {
        (Some(a), _) => (a, true),
        (None, Some(s)) => (s, false),
        (None, None) => {
            return Err(LoadError::KindMismatch {
                path: path.to_path_buf(),
                declared: "handler",
                wanted: "`lamina:function/handler`",
            });
        }
    };
    let handle = func(iface, "handle").ok_or_else(|| LoadError::Link {
        path: path.to_path_buf(),
        message: format!("`{iface}` has no `handle` function"),
    })?;
    let init = lifecycle_init(component, pre.engine());
    Ok(HandlerPre {
        pre,
        handle,
        is_async,
        init,
    })
}

/// Whether `component` is a wasi:http 0.3 service (and not a 0.2 proxy).
fn exports_service(engine: &LaminaEngine, component: &Component) -> bool {
    let names: Vec<String> = component
        .component_type()
        .exports(engine.engine())
        .map(|(n, _)| n.to_string())
        .collect();
    names.iter().any(|n| n.starts_with(HTTP_SERVICE_EXPORT))
        && !names.iter().any(|n| n.starts_with(HTTP_EXPORT))
}

/// `lifecycle.init` of `component`, when it exports it.
fn lifecycle_init(
    component: &Component,
    engine: &wasmtime::Engine,
) -> Option<ComponentExportIndex> {
    let iface = component
        .component_type()
        .exports(engine)
        .map(|(n, _)| n.to_string())
        .find(|n| n.starts_with(LIFECYCLE_EXPORT))?;
    let i = component.get_export_index(None, &iface)?;
    component.get_export_index(Some(&i), "init")
}

/// Finds `handle` in a durable component.
fn durable_pre(
    component: &Component,
    pre: InstancePre<HostState>,
    path: &std::path::Path,
) -> Result<DurablePre, LoadError> {
    let ty = component.component_type();
    let iface = ty
        .exports(pre.engine())
        .map(|(n, _)| n.to_string())
        .find(|n| n.starts_with(DURABLE_EXPORT))
        .ok_or_else(|| LoadError::KindMismatch {
            path: path.to_path_buf(),
            declared: "durable",
            wanted: "`lamina:durable/handler`",
        })?;
    let handle = component
        .get_export_index(None, &iface)
        .and_then(|i| component.get_export_index(Some(&i), "handle"))
        .ok_or_else(|| LoadError::Link {
            path: path.to_path_buf(),
            message: format!("`{iface}` has no `handle` function"),
        })?;
    Ok(DurablePre { pre, handle })
}
