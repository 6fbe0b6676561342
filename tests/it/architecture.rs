//! The layer boundaries of DESIGN.md, made checkable: the screens (src/tui) and the SSH
//! layer (src/ssh) reach neither the store nor the keyring, only the desk; the domain
//! does no I/O; the store knows no policy.

use std::path::Path;

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// Lines of code (comments dropped) naming any of `words`.
fn offenders(dir: &str, words: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut bad = vec![];
    for f in rust_files(&root) {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for w in words {
                if code.contains(w) {
                    bad.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    bad
}

#[test]
fn screens_and_ssh_reach_only_the_desk() {
    let words = [
        "crate::store",
        "crate::crypto",
        ".store()",
        ".keys()",
        "store::",
        "crypto::",
        "sqlx",
    ];
    for dir in ["src/tui", "src/ssh"] {
        let bad = offenders(dir, &words);
        assert!(
            bad.is_empty(),
            "{dir} must reach data only through the desk:\n{}",
            bad.join("\n")
        );
    }
}

#[test]
fn the_ssh_layer_knows_no_screens() {
    let bad = offenders(
        "src/ssh",
        &[
            "tui::draw",
            "tui::handlers",
            "tui::state",
            "Screen::",
            "Popup::",
        ],
    );
    assert!(
        bad.is_empty(),
        "src/ssh knows only the App:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_domain_does_no_io_and_the_store_knows_no_policy() {
    let io = offenders(
        "src/domain",
        &[
            "std::fs",
            "std::net",
            "tokio",
            "sqlx",
            "std::env",
            "crate::store",
            "crate::desk",
        ],
    );
    assert!(io.is_empty(), "src/domain is pure:\n{}", io.join("\n"));
    let policy = offenders(
        "src/store",
        &[
            "allows(",
            "field_access",
            "event_action",
            "crate::desk",
            "crate::crypto",
        ],
    );
    assert!(
        policy.is_empty(),
        "src/store knows no policy:\n{}",
        policy.join("\n")
    );
}
