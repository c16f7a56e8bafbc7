//! The schema contract: `schema.graphql` is what the code serves, and everything in it is
//! documented. Needs no database.

const CHECKED_IN: &str = include_str!("../../../schema.graphql");

#[test]
fn schema_graphql_matches_the_code() {
    let sdl = workplan_api::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema.graphql"), &sdl)
            .expect("write schema.graphql");
        return;
    }
    assert!(
        sdl == CHECKED_IN,
        "schema.graphql has drifted from the code: run `cargo run -p workplan-server -- schema > schema.graphql` \
         (or UPDATE_SCHEMA=1 cargo test -p workplan-api --test schema) and review the diff"
    );
}

#[tokio::test]
async fn every_type_field_argument_and_value_is_documented() {
    let schema = workplan_api::schema_builder().finish();
    let query = r"{ __schema { types { name kind description
        fields { name description args { name description } }
        inputFields { name description }
        enumValues { name description } } } }";
    let response = schema.execute(query).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let json = response.data.into_json().expect("json");
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut missing = Vec::new();
    let empty = |v: &serde_json::Value| v.as_str().is_none_or(|s| s.trim().is_empty());
    for t in json["__schema"]["types"].as_array().expect("types") {
        let name = t["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if empty(&t["description"]) {
            missing.push(name.to_owned());
        }
        for f in t["fields"].as_array().into_iter().flatten().chain(t["inputFields"].as_array().into_iter().flatten()) {
            let field = format!("{name}.{}", f["name"].as_str().unwrap_or_default());
            if empty(&f["description"]) {
                missing.push(field.clone());
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if empty(&a["description"]) {
                    missing.push(format!("{field}({})", a["name"].as_str().unwrap_or_default()));
                }
            }
        }
        for v in t["enumValues"].as_array().into_iter().flatten() {
            if empty(&v["description"]) {
                missing.push(format!("{name}.{}", v["name"].as_str().unwrap_or_default()));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:?}");
}
