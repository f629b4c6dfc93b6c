//! No symlinks out of a preopened directory: the linker's
//! `wasi:filesystem/types.[method]descriptor.symlink-at` (WASI 0.2 and 0.3)
//! is replaced by a wrapper that refuses a target that could point outside
//! the directory (`not-permitted`) and otherwise calls wasmtime-wasi's own
//! implementation.
//!
//! A target is refused when it is absolute or has any `..` component. A
//! climbing link can be inside the directory where it is made and outside
//! once renamed to a shallower place, or when a directory on its way is a
//! symlink, so the only check that holds for every later state of the tree
//! is that a guest-made link never climbs at all. Relative links that only
//! descend (`file`, `sub/file`) work as before.

use crate::state::HostState;
use std::future::Future;
use std::pin::Pin;
use wasmtime::StoreContextMut;
use wasmtime::component::{Accessor, Linker, LinkerInstance, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::types as p2;
use wasmtime_wasi::p3::bindings::filesystem::types as p3;

/// The WASI 0.2 interface wasmtime-wasi 48 links.
const P2_TYPES: &str = "wasi:filesystem/types@0.2.12";
/// The WASI 0.3 interface wasmtime-wasi 48 links.
const P3_TYPES: &str = "wasi:filesystem/types@0.3.0";
const SYMLINK_AT: &str = "[method]descriptor.symlink-at";

/// Whether a symlink with this target, made anywhere inside a preopened
/// directory, could point outside it.
pub fn target_may_escape(target: &str) -> bool {
    target.starts_with('/') || target.split('/').any(|c| c == "..")
}

fn refuse(target: &str, link: &str) -> bool {
    let refused = target_may_escape(target);
    if refused {
        tracing::warn!(
            target,
            link,
            "guest symlink refused: its target may point outside the preopened directory"
        );
    }
    refused
}

type Args = (Resource<Descriptor>, String, String);
type P2Answer = wasmtime::Result<(Result<(), p2::ErrorCode>,)>;
type P3Answer = wasmtime::Result<(Result<(), p3::ErrorCode>,)>;

fn symlink_at_p2(
    mut store: StoreContextMut<'_, HostState>,
    (fd, target, link): Args,
) -> Box<dyn Future<Output = P2Answer> + Send + '_> {
    Box::new(async move {
        if refuse(&target, &link) {
            return Ok((Err(p2::ErrorCode::NotPermitted),));
        }
        let mut fs = WasiFilesystemView::filesystem(store.data_mut());
        match p2::HostDescriptor::symlink_at(&mut fs, fd, target, link).await {
            Ok(()) => Ok((Ok(()),)),
            Err(e) => Ok((Err(e.downcast()?),)),
        }
    })
}

fn symlink_at_p3(
    accessor: &Accessor<HostState>,
    (fd, target, link): Args,
) -> Pin<Box<dyn Future<Output = P3Answer> + Send + '_>> {
    Box::pin(async move {
        if refuse(&target, &link) {
            return Ok((Err(p3::ErrorCode::NotPermitted),));
        }
        let fs = accessor.with_getter::<WasiFilesystem>(|s| s.filesystem());
        let done = <WasiFilesystem as p3::HostDescriptorWithStore<HostState>>::symlink_at(
            &fs, fd, target, link,
        )
        .await;
        match done {
            Ok(()) => Ok((Ok(()),)),
            Err(e) => Ok((Err(e.downcast()?),)),
        }
    })
}

/// Defines `func` in `instance` in place of wasmtime-wasi's, failing if
/// wasmtime-wasi did not define it there (a renamed interface would
/// otherwise leave the original in place, unguarded).
fn replace(
    linker: &mut Linker<HostState>,
    instance: &str,
    define: impl Fn(&mut LinkerInstance<'_, HostState>) -> wasmtime::Result<()>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(false);
    if define(&mut linker.instance(instance)?).is_ok() {
        return Err(wasmtime::format_err!(
            "`{instance}#{SYMLINK_AT}` was not linked by wasmtime-wasi, so it cannot be guarded"
        ));
    }
    linker.allow_shadowing(true);
    let replaced = define(&mut linker.instance(instance)?);
    linker.allow_shadowing(false);
    replaced
}

/// Installs the guarded `symlink-at` for WASI 0.2 and 0.3; call after
/// wasmtime-wasi's `add_to_linker` functions.
pub fn guard(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    replace(linker, P2_TYPES, |i| {
        i.func_wrap_async(SYMLINK_AT, symlink_at_p2)
    })?;
    replace(linker, P3_TYPES, |i| {
        i.func_wrap_concurrent(SYMLINK_AT, symlink_at_p3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_that_may_leave_the_directory() {
        for bad in ["/etc/passwd", "..", "../x", "a/../../x", "a/..", "./../x"] {
            assert!(target_may_escape(bad), "{bad}");
        }
        for ok in ["x", "a/b", "./a", "a..b", "..a/b", ".hidden"] {
            assert!(!target_may_escape(ok), "{ok}");
        }
    }
}
