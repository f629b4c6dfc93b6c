//! The demo's effects file.

use std::fs::OpenOptions;
use std::io::Write;

/// Where side effects are recorded, when the host preopens `/data`.
const EFFECTS: &str = "/data/effects.log";

/// Appends `line` to the effects file; without a writable `/data` the demo
/// just goes on.
pub fn append(line: &str) {
    let written = OpenOptions::new()
        .append(true)
        .create(true)
        .open(EFFECTS)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    // Recording effects is best effort: no `/data`, no record.
    drop(written);
}
