//! The `workplan` command line, run as a real process.

use std::process::Command;

fn workplan(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_workplan"))
        .args(args)
        .env("DATABASE_URL", format!("sqlite://{}?mode=rwc", db.display()))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run workplan")
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn token_create_list_revoke() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("cli.db");
    let created = workplan(
        &db,
        &["token", "create", "--role", "province-reporter", "--province", "440000", "--name", "guangdong-sync"],
    );
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let out = stdout(&created);
    let secret = out.lines().last().expect("a line");
    assert!(secret.starts_with("wpt_") && secret.len() == 68, "the secret is the last line of stdout: {out:?}");

    let agency =
        workplan(&db, &["token", "create", "--role", "agency-reporter", "--agency", "MOFCOM", "--name", "mofcom-sync"]);
    assert!(agency.status.success(), "{}", String::from_utf8_lossy(&agency.stderr));
    let bad = workplan(&db, &["token", "create", "--role", "agency-reporter", "--name", "no-agency"]);
    assert!(!bad.status.success(), "an agency reporter needs an agency");
    let dup = workplan(&db, &["token", "create", "--role", "reader", "--name", "guangdong-sync"]);
    assert!(!dup.status.success(), "names are unique");

    let list = stdout(&workplan(&db, &["token", "list"]));
    assert!(list.contains("guangdong-sync\tPROVINCE_REPORTER\tactive"), "{list}");
    assert!(list.contains("mofcom-sync\tAGENCY_REPORTER\tactive"), "{list}");
    assert!(!list.contains("wpt_"), "secrets are never listed");

    assert!(workplan(&db, &["token", "revoke", "guangdong-sync"]).status.success());
    let list = stdout(&workplan(&db, &["token", "list"]));
    assert!(list.contains("guangdong-sync\tPROVINCE_REPORTER\trevoked"), "{list}");
    assert!(!workplan(&db, &["token", "revoke", "nobody"]).status.success());
}

#[test]
fn schema_and_import_plan_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("x.db");
    let sdl = stdout(&workplan(&db, &["schema"]));
    assert!(sdl.contains("type Query") && sdl.contains("syncProgressReports"));
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds/division-of-work-2016-66.txt");
    let plan = concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds/plan-2016-66.json");
    let check = workplan(&db, &["import-plan", source, "--out", plan, "--check"]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let seed = workplan(&db, &["seed", "--reports", "5"]);
    assert!(!seed.status.success(), "seed refuses without --demo");
}

#[test]
fn seed_demo_schedules_the_demo_calendar_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("demo.db");
    let first = workplan(&db, &["seed", "--demo", "--reports", "5"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let out = stdout(&first);
    assert!(
        out.contains("scheduled 20 reporting periods of the demo calendar (20 quarters, due 15 days after each ends)"),
        "{out}"
    );
    let again = workplan(&db, &["seed", "--demo", "--reports", "5"]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(stdout(&again).contains("scheduled 0 reporting periods"), "{}", stdout(&again));
}
