//! A rolling master-key rotation: a running desk keeps working once it re-reads the key
//! file (SIGHUP), while another host re-wraps every key under the new master key.

use privdesk::crypto::{load_key_file, write_key_file_atomically};
use privdesk::domain::staff::Role;

use crate::desk_requests::account_and_reset;
use crate::support::{Backend, TestDesk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_desk_picks_up_the_new_master_key_when_told() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (_, agent) = td.staff("anna", Role::Agent).await;
    let (_, id) = account_and_reset(&td, &agent).await;
    // A desk running on another host, started before the rotation (no key in its cache).
    let running = td.reopen().await.unwrap();
    // Step 1: the new master key joins the key file; step 2: a host re-wraps every key.
    let key_file = td.dir.path().join("data/privdesk/master.key");
    let mut set = load_key_file(&key_file).unwrap();
    let new_id = set.add_new_primary();
    write_key_file_atomically(&key_file, &set).unwrap();
    let rotating = td.reopen().await.unwrap();
    let rewrapped = rotating.keys().rewrap_all(&|_| {}).await.unwrap();
    assert!(rewrapped >= 2, "the index key and the account's data key");
    // The running desk holds only the old key: it cannot open the re-wrapped data key…
    let err = running.open_request(&agent, id, None).await.unwrap_err();
    assert!(err.to_string().contains("master key"), "{err}");
    // …until it re-reads the key file, as SIGHUP makes it do.
    running.reload_master_key().unwrap();
    let view = running.open_request(&agent, id, None).await.unwrap();
    assert!(view.account.is_some());
    assert_eq!(running.keys().primary_master_id().unwrap(), new_id);
    td.finish().await;
}
