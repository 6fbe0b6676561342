//! Filling a demo desk: staff, the passphrase pool, accounts, requests (planned and sealed
//! on a thread of their own, written in big transactions), then the erasures.

use std::collections::HashMap;
use std::sync::Arc;

use crate::desk::accounts::AccountInput;
use crate::desk::{Desk, DeskError, Keyring, Result};
use crate::domain::account::AccountId;
use crate::domain::normalize;
use crate::domain::personal::Secret;
use crate::domain::staff::{Actor, Role, StaffId};
use crate::store::{Commit, IdTable, Mutation};

use super::{
    ACCOUNT_BATCH, DemoParams, DemoStats, PASSPHRASES, Progress, REQUEST_BATCH, accounts,
    ensure_staff, names, plan, requests,
};

pub(super) async fn generate(
    desk: &Desk,
    actor: &Actor,
    p: &DemoParams,
    progress: &dyn Progress,
) -> Result<DemoStats> {
    let started = std::time::Instant::now();
    tracing::info!(
        seed = p.seed,
        accounts = p.accounts,
        requests = p.requests,
        "generating demo data"
    );
    let staff = ensure_staff(desk, actor).await?;
    progress.stage("hashing passphrases", PASSPHRASES.len() as u64);
    let hashes = futures::future::try_join_all(PASSPHRASES.iter().map(|phrase| async move {
        let h = desk
            .hash_password(Secret::new(normalize::passphrase(phrase)))
            .await;
        progress.advance(1);
        h
    }))
    .await?;
    let (infos, ids, erase) = generate_accounts(desk, actor, p, &hashes, progress).await?;
    let mut stats = generate_requests(desk, actor, p, infos, ids, staff, progress).await?;
    progress.stage("erasing accounts", erase.len() as u64);
    for id in &erase {
        desk.erase_account(
            actor,
            *id,
            vec![],
            "demo: the client's deletion request was executed",
        )
        .await?;
        progress.advance(1);
    }
    stats.accounts = u64::from(p.accounts);
    stats.erased = erase.len() as u64;
    stats.seconds = started.elapsed().as_secs_f64();
    let detail = format!(
        "accounts={} requests={} entries={}",
        stats.accounts, stats.requests, stats.entries
    );
    desk.commit(
        vec![
            Mutation::SetMeta {
                key: "demo.stats".into(),
                value: serde_json::to_string(&stats).unwrap_or_default(),
            },
            Mutation::SetMeta {
                key: "demo.params".into(),
                value: serde_json::to_string(p).unwrap_or_default(),
            },
        ],
        desk.audit(actor, "demo.generate").detail(detail),
    )
    .await?;
    tracing::info!(seconds = stats.seconds, "demo data generated");
    Ok(stats)
}

type AccountsMade = (Vec<plan::AccountInfo>, Vec<AccountId>, Vec<AccountId>);

async fn generate_accounts(
    desk: &Desk,
    actor: &Actor,
    p: &DemoParams,
    hashes: &[String],
    progress: &dyn Progress,
) -> Result<AccountsMade> {
    let lists = names::Lists::load();
    let total = u64::from(p.accounts);
    progress.stage("accounts", total);
    let mut infos = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let mut ids = Vec::with_capacity(infos.capacity());
    let mut erase = vec![];
    let mut lo = 0;
    while lo < total {
        let hi = (lo + ACCOUNT_BATCH).min(total);
        let planned: Vec<accounts::PlannedAccount> = (lo..hi)
            .map(|i| accounts::plan(p.seed, i, &lists, p.at, hashes))
            .collect();
        let inputs: Vec<AccountInput> = planned.iter().map(|a| a.input.clone()).collect();
        let sealed = desk.seal_accounts(&inputs).await?;
        for (a, s) in planned.iter().zip(&sealed) {
            infos.push(plan::AccountInfo {
                lang: a.lang,
                contacts: s.contacts.iter().map(|c| (c.id, c.has_email)).collect(),
                flag: a.flag,
            });
            ids.push(s.id);
            if a.flag == plan::Flag::Erased {
                erase.push(s.id);
            }
        }
        let n = sealed.len();
        let commit = Commit {
            mutations: sealed
                .into_iter()
                .map(|a| Mutation::InsertAccount(Box::new(a)))
                .collect(),
            audit: vec![
                desk.audit(actor, "demo.accounts")
                    .detail(format!("accounts={n}")),
            ],
        };
        desk.store().commit_bulk(commit).await?;
        progress.advance(hi - lo);
        lo = hi;
    }
    Ok((infos, ids, erase))
}

async fn generate_requests(
    desk: &Desk,
    actor: &Actor,
    p: &DemoParams,
    infos: Vec<plan::AccountInfo>,
    ids: Vec<AccountId>,
    staff: HashMap<Role, StaffId>,
    progress: &dyn Progress,
) -> Result<DemoStats> {
    let total = u64::from(p.requests);
    let mut stats = DemoStats::default();
    if total == 0 {
        return Ok(stats);
    }
    let mut keys = HashMap::with_capacity(ids.len());
    for id in &ids {
        keys.insert(id.0, desk.keys().data_key(*id).await?);
    }
    let first = desk
        .store()
        .reserve_ids(IdTable::Requests, p.requests)
        .await?;
    let ctx = Arc::new(plan::PlanCtx::new(
        p.seed,
        total,
        p.at,
        Arc::new(infos),
        desk.rules().clone(),
    ));
    let mut sealer = requests::Sealer::new(
        Arc::<Keyring>::clone(desk.keys()),
        Arc::new(keys),
        Arc::new(ids),
        staff,
        first,
        desk.store().clone(),
        tokio::runtime::Handle::current(),
    );
    progress.stage("requests", total);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<requests::SealedBatch>>(2);
    let producer = tokio::task::spawn_blocking(move || {
        let mut lo = 0;
        while lo < total {
            let hi = (lo + REQUEST_BATCH).min(total);
            let planned: Vec<plan::Planned> = (lo..hi).map(|i| ctx.plan(i)).collect();
            let sealed = sealer.seal(&planned);
            let failed = sealed.is_err();
            if tx.blocking_send(sealed).is_err() || failed {
                return;
            }
            lo = hi;
        }
    });
    while let Some(batch) = rx.recv().await {
        let batch = batch?;
        let detail = format!("requests={} entries={}", batch.requests, batch.entries);
        let commit = Commit {
            mutations: batch.mutations,
            audit: vec![desk.audit(actor, "demo.requests").detail(detail)],
        };
        desk.store().commit_bulk(commit).await?;
        stats.requests += batch.requests;
        stats.entries += batch.entries;
        for ((kind, state), n) in batch.states {
            *stats
                .states
                .entry(kind.to_owned())
                .or_default()
                .entry(state.to_owned())
                .or_default() += n;
        }
        progress.advance(batch.requests);
    }
    producer
        .await
        .map_err(|e| DeskError::Internal(format!("the demo generator stopped: {e}")))?;
    if stats.requests != total {
        return Err(DeskError::Internal(
            "the demo generator stopped early".into(),
        ));
    }
    Ok(stats)
}
