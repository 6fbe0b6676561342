//! Documentation generated from code stays equal to it.

#[test]
fn the_workflow_page_matches_the_transition_table() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/workflows.md");
    let want = privdesk::domain::workflow::markdown();
    if std::env::var("UPDATE_DOCS").is_ok() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/workflows.md is stale: run `UPDATE_DOCS=1 cargo test --test it docs`"
    );
}
