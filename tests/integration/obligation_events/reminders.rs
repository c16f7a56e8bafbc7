//! With the clock moved: DUE_SOON reminders and OVERDUE moves arrive once each; a reminder
//! stream resumed from a cursor replays exactly what came after it.

use std::time::Duration;

use serde_json::{Value, json};
use workplan_domain::token::AccessRole;

use super::*;

#[tokio::test]
async fn with_the_clock_moved_due_soon_and_overdue_arrive_once_each() {
    let (app, clock) = spawn().await;
    let owed = schedule_small_period(&app).await;
    assert!(owed > 31, "task 1's agencies and every province: {owed}");
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let supervisor = app.token("sup", AccessRole::Supervisor, None, None).await;
    let addr = app.addr.to_string();

    let mut reporter = open(&addr, Some(&gd)).await;
    subscribe(&mut reporter, "soon", DUE_SOON, json!({})).await;
    let own = json!({ "p": "2016-Q4", "f": { "provinceCode": "440000", "taskNumber": 1 } });
    subscribe(&mut reporter, "cell", CHANGED, own).await;
    let mut office = open(&addr, Some(&supervisor)).await;
    subscribe(&mut office, "soon", DUE_SOON, json!({})).await;
    subscribe(&mut office, "all", CHANGED, json!({ "p": "2016-Q4" })).await;
    settle().await;
    assert!(drain(&mut reporter, Duration::from_millis(300)).await.is_empty(), "nothing has happened yet");

    // Into the window: three days before the due date, nothing reported.
    clock.set(cst(2017, 1, 13, 12));
    await_recorded(&app.db, "DUE_SOON", i64::try_from(owed).expect("n")).await;
    let mine = collect(&mut reporter, "soon", "obligationDueSoon", 1, Duration::from_secs(10)).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["obligation"]["party"]["code"], "440000");
    assert_eq!(mine[0]["obligation"]["task"]["number"], 1);
    assert_eq!(mine[0]["obligation"]["state"], "NOT_DUE");
    assert_eq!(mine[0]["dueAt"], "2017-01-15T16:00:00+00:00");
    let everyone = collect(&mut office, "soon", "obligationDueSoon", owed, Duration::from_secs(10)).await;
    assert_eq!(everyone.len(), owed, "every unreported obligation, once");
    assert_eq!(recorded(&app.db, "DUE_SOON").await, i64::try_from(owed).expect("n"));
    assert_eq!(recorded(&app.db, "OVERDUE").await, 0);

    // Past the due date: every unreported cell becomes OVERDUE, once.
    clock.set(due() + chrono::Duration::hours(1));
    await_recorded(&app.db, "OVERDUE", i64::try_from(owed).expect("n")).await;
    let cell = collect(&mut reporter, "cell", "obligationChanged", 1, Duration::from_secs(10)).await;
    assert_eq!(cell.len(), 1, "{cell:?}");
    assert_eq!((cell[0]["state"].as_str(), cell[0]["previousState"].as_str()), (Some("OVERDUE"), Some("NOT_DUE")));
    assert_eq!(cell[0]["obligation"]["party"]["code"], "440000");
    let all = collect(&mut office, "all", "obligationChanged", owed, Duration::from_secs(10)).await;
    assert_eq!(all.len(), owed, "every unreported cell moved once");
    assert!(all.iter().all(|c| c["state"] == "OVERDUE"), "{all:?}");

    // More ticks, more time: nothing is recorded or sent twice.
    clock.set(due() + chrono::Duration::days(2));
    let later = drain(&mut reporter, Duration::from_secs(1)).await;
    assert!(later.is_empty(), "{later:?}");
    assert_eq!(recorded(&app.db, "DUE_SOON").await, i64::try_from(owed).expect("n"));
    assert_eq!(recorded(&app.db, "OVERDUE").await, i64::try_from(owed).expect("n"));
}

const DUE_SOON_AFTER: &str = "subscription($after: String) { obligationDueSoon(after: $after) {
  cursor obligation { task { number } party { __typename ... on Province { code } ... on Agency { name } } }
} }";

/// Who an `obligationDueSoon` item is about, and its cursor.
fn reminder(item: &Value) -> (String, String) {
    let party = &item["obligation"]["party"];
    let who = format!(
        "{} {}{}",
        item["obligation"]["task"]["number"],
        party["code"].as_str().unwrap_or(""),
        party["name"].as_str().unwrap_or("")
    );
    (item["cursor"].as_str().expect("a cursor").to_owned(), who)
}

#[tokio::test]
async fn a_reminder_stream_resumed_with_a_cursor_replays_exactly_the_reminders_after_it() {
    let (app, clock) = spawn().await;
    let owed = schedule_small_period(&app).await;
    let supervisor = app.token("sup", AccessRole::Supervisor, None, None).await;
    let gd = app.token("gd", AccessRole::ProvinceReporter, None, Some("440000")).await;
    let addr = app.addr.to_string();
    let mut office = open(&addr, Some(&supervisor)).await;
    subscribe(&mut office, "soon", DUE_SOON_AFTER, json!({ "after": null })).await;
    settle().await;
    clock.set(cst(2017, 1, 13, 12));
    await_recorded(&app.db, "DUE_SOON", i64::try_from(owed).expect("n")).await;
    let first: Vec<(String, String)> = collect(&mut office, "soon", "obligationDueSoon", owed, Duration::from_secs(10))
        .await
        .iter()
        .map(reminder)
        .collect();
    assert_eq!(first.len(), owed, "every reminder, once");
    drop(office);

    // Resumed after the fifth: exactly the rest, in the order they came, then nothing more.
    let (cursor, _) = first[4].clone();
    let mut office = open(&addr, Some(&supervisor)).await;
    subscribe(&mut office, "again", DUE_SOON_AFTER, json!({ "after": cursor })).await;
    let rest: Vec<(String, String)> =
        collect(&mut office, "again", "obligationDueSoon", owed - 5, Duration::from_secs(10))
            .await
            .iter()
            .map(reminder)
            .collect();
    assert_eq!(rest, first[5..].to_vec());
    // A reporter resuming from the same point hears only its own (Guangdong's, if it came
    // after the first).
    let own: Vec<String> = first[1..].iter().map(|r| r.1.clone()).filter(|w| w.ends_with("440000")).collect();
    let mut reporter = open(&addr, Some(&gd)).await;
    subscribe(&mut reporter, "mine", DUE_SOON_AFTER, json!({ "after": first[0].0 })).await;
    let mine: Vec<String> = collect(&mut reporter, "mine", "obligationDueSoon", own.len(), Duration::from_secs(10))
        .await
        .iter()
        .map(|r| reminder(r).1)
        .collect();
    assert_eq!(mine, own);
    // A cursor that is not a reminder's is refused.
    let code = refusal(&mut reporter, "bad", DUE_SOON_AFTER, json!({ "after": "not-a-cursor" })).await;
    assert_eq!(code, "BAD_USER_INPUT");
}
