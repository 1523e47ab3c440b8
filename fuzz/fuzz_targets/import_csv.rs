//! The CSV importer on arbitrary bytes: it may refuse the file or rows, but
//! must not panic, and every accepted row must be a valid asset.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let mapping = common::mapping(selector);
    if let Ok(rows) = streetcell::import::parse_csv(body, &mapping) {
        common::check_rows(&rows);
    }
});
