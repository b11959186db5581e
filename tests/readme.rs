//! The README's "Using it" runs as written: its one fenced block is extracted verbatim and run
//! by bash in an empty folder, with `ebl` and `ebld` on the PATH, a fresh HOME, and the server's
//! address moved to a free port through EBL_LISTEN and EBL_SERVER (the block names none). Each
//! command, as the block counts them (a line, with its `\` continuations), is followed by a
//! marker; the test fails unless every command ran and succeeded.
use crate::common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// The fenced `sh` blocks of the README section titled `title`.
fn blocks(readme: &str, title: &str) -> Vec<String> {
    let section = readme.split(&format!("\n## {title}\n")).nth(1).unwrap_or_else(|| panic!("no section {title}"));
    let section = section.split("\n## ").next().unwrap();
    section.split("```sh\n").skip(1).map(|b| b.split("\n```").next().unwrap().to_string()).collect()
}

/// The block's commands: its lines with their continuations, blank lines and comments left out.
fn commands(block: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in block.lines() {
        if open {
            let last = out.last_mut().unwrap();
            last.push('\n');
            last.push_str(line);
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            out.push(line.to_string());
        }
        open = line.trim_end().ends_with('\\');
    }
    out
}

#[test]
fn the_readme_using_it_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let found = blocks(&readme, "Using it");
    assert_eq!(found.len(), 1, "one block in \"Using it\"");
    let commands = commands(&found[0]);
    assert!(commands.len() >= 20, "{commands:?}");

    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root.join("examples"), dir.path().join("examples")).unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let steps = dir.path().join(".steps");
    let mut script = String::new();
    for (i, c) in commands.iter().enumerate() {
        script += &format!("{c}\necho {i} >> {}\n", steps.display());
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bin = common::ebl_bin().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut run = Command::new("bash");
    run.arg("-euo").arg("pipefail").arg("-c").arg(&script).current_dir(dir.path());
    for var in ["EBL_CONFIG", "EBL_PROFILE", "EBL_PARTY", "EBL_KEY", "EBL_DATA_DIR", "XDG_CONFIG_HOME"] {
        run.env_remove(var);
    }
    run.env("PATH", path)
        .env("HOME", &home)
        .env("EBL_LISTEN", format!("127.0.0.1:{port}"))
        .env("EBL_SERVER", format!("http://127.0.0.1:{port}"));
    // Its own process group, with the server it starts in the background.
    let child = run.process_group(0).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let group = child.id() as i32;
    let out = child.wait_with_output().unwrap();
    // Whatever happened, no server is left behind.
    // SAFETY: a signal to the process group this test made; no memory is shared.
    unsafe { libc::killpg(group, libc::SIGKILL) };
    let ran = std::fs::read_to_string(&steps).unwrap_or_default().lines().count();
    assert!(
        out.status.success() && ran == commands.len(),
        "ran {ran} of the README's {} commands; stopped at {:?}\nstdout:\n{}\nstderr:\n{}\nserver log:\n{}",
        commands.len(),
        commands.get(ran),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(dir.path().join("ebld.log")).unwrap_or_default()
    );
    // It did what it says: the bank holds title, and the offline checks passed.
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("cq-bank"), "{said}");
    assert!(home.join(".config/ebl/config.toml").exists(), "the profile was written under HOME");
}
