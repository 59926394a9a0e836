//! One property table (`config::PROPERTIES`) and every list that names properties: the JS
//! typings (pkg/types/core.d.ts) and the WIT (wit/types.wit) must list exactly its entries, and
//! the simulator must take the websocket.h numbers from the engine rather than copy them.

use std::collections::BTreeSet;
use wsaction::config::{PropertyKind, PROPERTIES, PROPERTY_RULES};

fn read(path: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::read_to_string(format!("{root}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The lines between `opening` and the next line that is just `closing` (trimmed).
fn block<'a>(text: &'a str, opening: &str, closing: &str) -> Vec<&'a str> {
    let mut lines = text.lines().skip_while(|line| !line.contains(opening));
    assert!(lines.next().is_some(), "no `{opening}`");
    lines.take_while(|line| line.trim() != closing).collect()
}

#[test]
fn the_js_typings_list_exactly_the_table() {
    let typings = read("pkg/types/core.d.ts");
    let listed: BTreeSet<String> = block(&typings, "export interface HandleProperties {", "}")
        .iter()
        .filter_map(|line| line.trim().split_once("?:").map(|(name, _)| name.trim().to_string()))
        .collect();
    let table: BTreeSet<String> = PROPERTIES.iter().map(|spec| spec.name.to_string()).collect();
    assert_eq!(listed, table, "pkg/types/core.d.ts HandleProperties against config::PROPERTIES");
}

#[test]
fn the_wit_lists_exactly_the_table() {
    let wit = read("wit/types.wit");
    let listed: BTreeSet<String> = block(&wit, "variant property-value {", "}")
        .iter()
        .map(|line| line.trim())
        .filter(|line| !line.starts_with("///") && !line.starts_with('@') && !line.is_empty())
        .map(|line| line.split(['(', ',']).next().unwrap().trim().to_string())
        .collect();
    let table: BTreeSet<String> = PROPERTIES.iter().map(|spec| spec.wit_name.to_string()).collect();
    assert_eq!(listed, table, "wit/types.wit property-value against config::PROPERTIES");
}

#[test]
fn the_table_is_consistent() {
    let numbers: BTreeSet<u32> = PROPERTIES.iter().map(|spec| spec.number).collect();
    assert_eq!(numbers.len(), PROPERTIES.len(), "numbers are unique");
    for spec in &PROPERTIES {
        assert_eq!(spec.websocket_h, spec.number <= 5, "{}: websocket.h defines 0..=5", spec.name);
        assert_eq!(
            spec.wit_name,
            spec.name.chars().fold(String::new(), |mut out, c| {
                if c.is_ascii_uppercase() {
                    out.push('-');
                }
                out.push(c.to_ascii_lowercase());
                out
            }),
            "the WIT name is the JS name in kebab case"
        );
        if let PropertyKind::Integer { min, max } = spec.kind {
            assert!(min <= max, "{}", spec.name);
        }
        assert!(!spec.doc.is_empty() && !spec.default.is_empty());
    }
    // What runs reads the rules, the table without its docs: the same rows in the same order.
    assert_eq!(PROPERTY_RULES.len(), PROPERTIES.len());
    for (rule, spec) in PROPERTY_RULES.iter().zip(&PROPERTIES) {
        assert_eq!(
            (rule.name, rule.label, rule.number, rule.kind),
            (spec.name, spec.label, spec.number, spec.kind),
            "the rule of {}",
            spec.name
        );
    }
}

#[test]
fn the_simulator_takes_its_numbers_from_the_engine() {
    let sim = read("www/sim.js");
    assert!(!sim.contains("0x8000"), "www/sim.js copies a websocket.h buffer type");
    assert!(sim.contains("constants.BufferType"), "www/sim.js reads the engine's constants");
}
