//! Replays every kept fuzz input (the seed corpus `fuzz/corpus/<target>` and each finding,
//! `fuzz/regressions/<target>`) through the fuzz targets' logic, on the stable toolchain: what
//! the fuzzer once found stays fixed. `make fuzz` runs the targets themselves.

#[path = "../fuzz/logic/mod.rs"]
mod logic;

use std::path::{Path, PathBuf};
use std::time::Instant;

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        files.extend(
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file()),
        );
    }
    files.sort();
    files
}

fn replay(target: &str) {
    let check = logic::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, f)| *f)
        .expect("a known target");
    let files = inputs(target);
    assert!(!files.is_empty(), "no kept inputs for {target} under fuzz/");
    let started = Instant::now();
    for file in &files {
        let data = std::fs::read(file).expect("a readable input");
        println!("{target}: {}", file.display());
        check(&data);
    }
    println!(
        "{target}: {} inputs in {:?}",
        files.len(),
        started.elapsed()
    );
}

#[test]
fn server_frames_inputs() {
    replay("server_frames");
}

#[test]
fn sdk_frames_inputs() {
    replay("sdk_frames");
}

#[test]
fn rest_inputs() {
    replay("rest");
}

#[test]
fn c_abi_inputs() {
    replay("c_abi");
}
